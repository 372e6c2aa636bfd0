import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// The fault suite (docs/fault-suite.md), apart from `npm test`:
// its files are named *.fault.ts, start servers of their own and break them.
// `npm run faults` runs it (test/faults/run.mjs passes --duration on as FAULTS_DURATION_S).
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/faults/**/*.fault.ts'],
    expect: { requireAssertions: true },
    // One scenario at a time: each starts servers and several processes on a 2-core machine.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC instead of esbuild: Nest's dependency injection needs the decorator
// metadata (`design:paramtypes`) that esbuild does not emit.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/**/*.spec.ts'],
    // Deletes the keys each file wrote under its own Redis namespaces.
    setupFiles: ['test/support/cleanup.ts'],
    // A test that reaches no assertion fails: a callback that never ran cannot pass silently.
    expect: { requireAssertions: true },
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

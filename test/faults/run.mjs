#!/usr/bin/env node
// `npm run faults [-- --duration <seconds>]`: the fault suite (docs/fault-suite.md).
// vitest would take --duration for an option of its own, so it travels as FAULTS_DURATION_S;
// any other argument goes to vitest as it is (a file filter, --reporter=…).
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import process from 'node:process';

const args = process.argv.slice(2);
const env = { ...process.env };
const rest = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const value = arg === '--duration' ? args[++i] : arg.startsWith('--duration=') ? arg.slice(11) : undefined;
  if (value === undefined) {
    rest.push(arg);
  } else if (/^\d+(\.\d+)?$/.test(value)) {
    env.FAULTS_DURATION_S = value;
  } else {
    console.error(`--duration takes a number of seconds per scenario, got ${value}`);
    process.exit(2);
  }
}
const vitest = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.faults.config.ts', ...rest], {
  stdio: 'inherit',
  env,
});
process.exit(vitest.status ?? 1);

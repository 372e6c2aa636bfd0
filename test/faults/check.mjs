#!/usr/bin/env node
// The fault suite's history checker on the command line (docs/fault-suite.md):
//   npm run faults:check -- history.jsonl [more.jsonl…]
// Prints the verdict of each file; exits 1 if any broke a rule, 2 on bad input.
// history.ts is TypeScript with no imports: SWC strips its types and Node imports it from memory.
import { readFileSync } from 'node:fs';
import console from 'node:console';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { transformFileSync } from '@swc/core';

const source = fileURLToPath(new URL('./history.ts', import.meta.url));
const { code } = transformFileSync(source, {
  swcrc: false,
  configFile: false,
  module: { type: 'es6' },
  jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
});
const { checkHistory, parseHistory, verdict } = await import(`data:text/javascript,${encodeURIComponent(code)}`);

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npm run faults:check -- <history.jsonl> [...]');
  process.exit(2);
}
let failed = false;
for (const file of files) {
  let records;
  try {
    records = parseHistory(readFileSync(file, 'utf8'));
  } catch (error) {
    console.error(`${file}: ${error.message}`);
    process.exit(2);
  }
  const violations = checkHistory(records);
  failed ||= violations.length > 0;
  console.log(`${file}\n${verdict(records, violations)}\n`);
}
process.exit(failed ? 1 : 0);

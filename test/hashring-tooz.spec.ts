import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The committed golden vectors must be what the real Python tooz produces
// today, not a file someone edited: regenerate them and compare.
const root = resolve(import.meta.dirname, '..');
const python = '/usr/bin/python3';
const toozAvailable = spawnSync(python, ['-c', 'import tooz.hashring'], { stdio: 'ignore' }).status === 0;

if (!toozAvailable && !process.env.CI) {
  console.warn(
    '\n*** SKIPPING the tooz vector regeneration: Debian python3-tooz is missing.\n' +
      '*** Install it with: apt-get update && apt-get install python3-tooz\n',
  );
}

describe.skipIf(!toozAvailable && !process.env.CI)('hash-ring vectors from Python tooz', () => {
  it('regenerating test/fixtures/hashring-vectors.json with tooz gives the committed file', () => {
    expect(toozAvailable, 'CI needs python3-tooz (apt-get install python3-tooz)').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'tooz-vectors-'));
    try {
      const out = join(dir, 'vectors.json');
      execFileSync(python, [join(root, 'scripts/tooz-vectors.py'), out], { encoding: 'utf8' });
      const fresh = JSON.parse(readFileSync(out, 'utf8'));
      const committed = JSON.parse(readFileSync(join(root, 'test/fixtures/hashring-vectors.json'), 'utf8'));
      expect(fresh.cases.length).toBeGreaterThan(0);
      expect(fresh.keys).toEqual(committed.keys);
      expect(fresh.cases).toEqual(committed.cases);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What `npm publish` would ship: pack the repo, install the tarball into a
// fresh ESM app, import it there and use it.
const root = resolve(import.meta.dirname, '../..');
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

describe('npm pack', () => {
  let work: string;
  let app: string;
  let tarball: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'nestjs-coordination-pack-'));
    npm(['pack', '--pack-destination', work], root);
    tarball = join(
      work,
      readdirSync(work).find((f) => f.endsWith('.tgz'))!,
    );
    app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    npm(['install', '--prefer-offline', tarball], app);
  }, 240_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('ships the built entry and its types, not the sources', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    expect(listing).toContain('package/dist/index.js');
    expect(listing).toContain('package/dist/index.d.ts');
    expect(listing.some((f) => f.startsWith('package/lib/'))).toBe(false);
    expect(listing.some((f) => f.startsWith('package/test/'))).toBe(false);
  });

  it("installs into a fresh app where getCoordinator('memory://', 'a') works", () => {
    const script = `
      import { getCoordinator, HashRing } from 'nestjs-coordination';
      const c = getCoordinator('memory://', 'a');
      await c.start();
      await c.joinGroupCreate('g', { role: 'primary' });
      const members = [...(await c.getMembers('g'))];
      const lock = c.getLock('l');
      const locked = await lock.acquire({ blocking: false });
      await c.stop();
      console.log(JSON.stringify({ members, locked, owner: [...new HashRing(['foo', 'bar', 'baz']).getNodes('fake')] }));
    `;
    const out = execFileSync('node', ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ members: ['a'], locked: true, owner: ['foo'] });
  });
});

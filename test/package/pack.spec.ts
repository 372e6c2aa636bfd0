import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What `npm publish` would ship: pack the repo, install the tarball into a
// fresh ESM app, import it there and use it.
const root = resolve(import.meta.dirname, '../..');
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

describe('npm pack', () => {
  let work: string;
  let app: string;
  let worker: string;
  let tarball: string;
  let listing: string[];

  /** A fresh ESM project in `work` with the tarball installed, as `npm install <tarball>` leaves it. */
  const freshProject = (name: string) => {
    const dir = join(work, name);
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
    npm(['install', '--prefer-offline', tarball], dir);
    return dir;
  };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'nestjs-coordination-pack-'));
    npm(['pack', '--pack-destination', work], root);
    tarball = join(
      work,
      readdirSync(work).find((f) => f.endsWith('.tgz'))!,
    );
    listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    worker = freshProject('worker');
    app = freshProject('app');
  }, 240_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('ships the built entries and their types, not the sources', () => {
    expect(listing).toContain('package/dist/index.js');
    expect(listing).toContain('package/dist/index.d.ts');
    expect(listing).toContain('package/dist/core-entry.js');
    expect(listing).toContain('package/dist/core-entry.d.ts');
    expect(listing.some((f) => f.startsWith('package/lib/'))).toBe(false);
    expect(listing.some((f) => f.startsWith('package/test/'))).toBe(false);
  });

  it('ships no source map that names a file the tarball lacks', () => {
    const maps = listing.filter((f) => f.endsWith('.map'));
    const missing = maps.flatMap((map) => {
      const json = execFileSync('tar', ['-xzOf', tarball, map], { encoding: 'utf8' });
      const { sources = [], sourceRoot = '' } = JSON.parse(json) as { sources?: string[]; sourceRoot?: string };
      return sources
        .map((source) => posix.normalize(posix.join(posix.dirname(map), sourceRoot, source)))
        .filter((file) => !listing.includes(file))
        .map((file) => `${map} → ${file}`);
    });
    expect(missing).toEqual([]);
    // Nor a sourceMappingURL comment pointing at a map that is not there.
    const dangling = listing
      .filter((f) => f.endsWith('.js'))
      .filter((f) => {
        const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(
          execFileSync('tar', ['-xzOf', tarball, f], { encoding: 'utf8' }),
        );
        return url !== null && !url[1].startsWith('data:') && !listing.includes(posix.join(posix.dirname(f), url[1]));
      });
    expect(dangling).toEqual([]);
  });

  it("'nestjs-coordination/core' runs a memory:// coordinator where no @nestjs/* is installed", () => {
    // The Nest peers are optional, so npm leaves them out of a plain worker.
    expect(existsSync(join(worker, 'node_modules', '@nestjs'))).toBe(false);
    expect(existsSync(join(worker, 'node_modules', 'reflect-metadata'))).toBe(false);
    const script = `
      import { getCoordinator, HashRing, CoordinationError } from 'nestjs-coordination/core';
      const c = getCoordinator('memory://worker', 'w1');
      await c.start();
      await c.joinGroupCreate('workers', { zone: 'eu-1' });
      const members = Object.fromEntries(await c.getMembersWithCapabilities('workers'));
      const locked = await c.getLock('job').acquire({ blocking: false });
      await c.stop();
      const owner = [...new HashRing(['foo', 'bar', 'baz']).getNodes('fake')];
      console.log(JSON.stringify({ members, locked, owner, errors: typeof CoordinationError }));
    `;
    const out = execFileSync('node', ['--input-type=module', '-e', script], {
      cwd: worker,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(JSON.parse(out)).toEqual({
      members: { w1: { zone: 'eu-1' } },
      locked: true,
      owner: ['foo'],
      errors: 'function',
    });
  });

  it("'nestjs-coordination/driver' lets a driver outside the package register a scheme on the port", () => {
    // A third-party driver: its own scheme, the memory:// worked example as its Backend.
    const script = `
      import { Coordinator, MemoryDriver, MemoryStore, ReadOnlySet, Characteristic, registerDriver, getCoordinator }
        from 'nestjs-coordination/driver';
      const store = new MemoryStore();
      class ThirdParty extends Coordinator {
        characteristics = new ReadOnlySet([Characteristic.DistributedAcrossThreads]);
        constructor(memberId, options) {
          super(memberId, options, new MemoryDriver(store, memberId, { membershipTimeoutMs: 5000, lockTimeoutMs: 5000 }));
        }
      }
      registerDriver('thirdparty', (url, memberId, options) => new ThirdParty(memberId, options));
      const [a, b] = [getCoordinator('thirdparty://x', 'a'), getCoordinator('thirdparty://x', 'b')];
      await a.start(); await b.start();
      await a.joinGroupCreate('g');
      const lock = a.getLock('l');
      const held = await lock.acquire();
      const refused = await b.getLock('l').acquire({ blocking: false });
      const beat = await a.heartbeat();
      await a.stop(); await b.stop();
      console.log(JSON.stringify({ held, refused, beat, token: String(lock.fencingToken) }));
    `;
    const out = execFileSync('node', ['--input-type=module', '-e', script], {
      cwd: worker,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(JSON.parse(out)).toEqual({ held: true, refused: false, beat: 2500, token: '1' });
  });

  it("'nestjs-coordination/driver' turns a Backend into a Coordinator in one line (coordinatorFor)", () => {
    // A driver is a Backend and nothing else (docs/drivers.md#writing-a-driver).
    const script = `
      import { coordinatorFor, Coordinator, MemoryDriver, MemoryStore, registerDriver, getCoordinator }
        from 'nestjs-coordination/driver';
      const store = new MemoryStore();
      registerDriver('plainpart', (url, memberId, options) =>
        coordinatorFor(new MemoryDriver(store, memberId, { membershipTimeoutMs: 5000, lockTimeoutMs: 5000 }), memberId, options));
      const c = getCoordinator('plainpart://x', 'a');
      await c.start();
      const held = await c.getLock('l').acquire({ blocking: false });
      await c.stop();
      console.log(JSON.stringify({ plain: Object.getPrototypeOf(c) === Coordinator.prototype, held, characteristics: [...c.characteristics].length }));
    `;
    const out = execFileSync('node', ['--input-type=module', '-e', script], {
      cwd: worker,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(JSON.parse(out)).toEqual({ plain: true, held: true, characteristics: 3 });
  });

  it('the main entry needs the Nest peers, and says so when they are missing', () => {
    const result = spawnSync('node', ['--input-type=module', '-e', "await import('nestjs-coordination')"], {
      cwd: worker,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/@nestjs\//);
  });

  describe('in a Nest 12 app', () => {
    const installed = (name: string) => existsSync(join(app, 'node_modules', name, 'package.json'));
    const versionOf = (name: string) =>
      (JSON.parse(readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
        .version;
    const run = (file: string, source: string) => {
      writeFileSync(join(app, file), source);
      // The timeout also catches an app that does not exit once closed (a timer left running).
      return JSON.parse(execFileSync('node', [file], { cwd: app, encoding: 'utf8', timeout: 20_000 })) as unknown;
    };

    beforeAll(() => {
      // npm installs only the required peer (rxjs) with the package: the
      // Nest peers are optional, so that a plain worker can use
      // 'nestjs-coordination/core' without them. A Nest app declares its Nest
      // packages itself, as here. Terminus comes last, on its own: while
      // @nestjs/common is not yet a dependency of the app, `npm install
      // @nestjs/terminus` fails with ERESOLVE (npm walks terminus's optional
      // peer @mikro-orm/nestjs, whose peer is @nestjs/common ^10 || ^11; cf.
      // npm/cli#8416).
      npm(
        [
          'install',
          '--prefer-offline',
          '@nestjs/common@^12',
          '@nestjs/core@^12',
          '@nestjs/platform-express@^12',
          'reflect-metadata@^0.2',
          'rxjs@^7.8',
          ...(installed('@nestjs/schedule') ? [] : ['@nestjs/schedule@^12']),
        ],
        app,
      );
      if (!installed('@nestjs/terminus')) npm(['install', '--prefer-offline', '@nestjs/terminus@^12'], app);
    }, 120_000);

    it('has Nest 12 installed', () => {
      for (const name of [
        '@nestjs/common',
        '@nestjs/core',
        '@nestjs/platform-express',
        '@nestjs/schedule',
        '@nestjs/terminus',
      ]) {
        expect(versionOf(name), name).toMatch(/^12\./);
      }
    });

    it("the main entry works there: getCoordinator('memory://', 'a')", () => {
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

    it('boots CoordinationModule.forRoot({}) and injects a started Coordinator', () => {
      const out = run(
        'coordination-app.mjs',
        `
        import 'reflect-metadata';
        import { Module } from '@nestjs/common';
        import { NestFactory } from '@nestjs/core';
        import { CoordinationModule, Coordinator } from 'nestjs-coordination';

        class AppModule {}
        Module({ imports: [CoordinationModule.forRoot({})] })(AppModule);

        const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
        const coordinator = app.get(Coordinator);
        const seen = { started: coordinator.isStarted, memberId: coordinator.memberId };
        await app.close();
        console.log(JSON.stringify({ ...seen, startedAfterClose: coordinator.isStarted }));
      `,
      );
      expect(out).toEqual({ started: true, memberId: expect.stringMatching(/./), startedAfterClose: false });
    });

    it("'nestjs-coordination/health' exports a CoordinationHealthIndicator that reports up", () => {
      const out = run(
        'health-app.mjs',
        `
        import 'reflect-metadata';
        import { Module } from '@nestjs/common';
        import { NestFactory } from '@nestjs/core';
        import { TerminusModule } from '@nestjs/terminus';
        import { CoordinationModule } from 'nestjs-coordination';

        const health = await import('nestjs-coordination/health');
        class AppModule {}
        Module({
          imports: [CoordinationModule.forRoot({ memberId: 'm1' }), TerminusModule],
          providers: [health.CoordinationHealthIndicator],
        })(AppModule);

        const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
        const result = await app.get(health.CoordinationHealthIndicator).isHealthy();
        await app.close();
        console.log(JSON.stringify({ exports: Object.keys(health).sort(), isClass: typeof health.CoordinationHealthIndicator, result }));
      `,
      );
      expect(out).toEqual({
        exports: ['CoordinationHealthIndicator'],
        isClass: 'function',
        result: {
          coordination: { status: 'up', memberId: 'm1', started: true, reachable: true, groups: [], leading: [] },
        },
      });
    });
  });
});

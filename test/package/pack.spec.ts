import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

  // Runs after the test above, which uses the app as `npm install` left it.
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
      // npm installs the required peers with the package (common, core,
      // schedule, reflect-metadata, rxjs), not the optional @nestjs/terminus.
      // A real app declares its Nest packages itself, so install them as its
      // own dependencies even where npm already brought them (no download
      // then). That is more than realism: while @nestjs/common is only a peer
      // of nestjs-coordination, `npm install @nestjs/terminus` fails with
      // ERESOLVE (npm walks terminus's optional peer @mikro-orm/nestjs, whose
      // peer is @nestjs/common ^10 || ^11; cf. npm/cli#8416).
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

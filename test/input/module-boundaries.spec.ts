import { readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/** Every module `entry` loads, transitively: repo files (relative to the root) and bare package names. */
function closure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    const name = relative(root, file);
    if (files.has(name)) return;
    files.add(name);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else
        packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
    }
  };
  visit(resolve(root, entry));
  return { files, packages };
}

/** Every `.ts` file under `dir` (relative to the root), recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(resolve(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `${dir}/${name}`);
}

/** The repo files `file` imports itself (relative to the root), not their imports. */
function directImports(file: string): string[] {
  return [...readFileSync(resolve(root, file), 'utf8').matchAll(IMPORT)]
    .map(([, specifier]) => specifier!)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => relative(root, resolve(root, dirname(file), specifier.replace(/\.js$/, '.ts'))));
}

/** `from → to` for every import of a file under `dir` that `allowed` refuses. */
function breaches(dir: string, allowed: (from: string, to: string) => boolean): string[] {
  const files = filesUnder(dir);
  expect(files.length).toBeGreaterThan(0);
  return files.flatMap((from) =>
    directImports(from)
      .filter((to) => !allowed(from, to))
      .map((to) => `${from} → ${to}`),
  );
}

const DRIVERS = readdirSync(resolve(root, 'lib/drivers'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe('import rules', () => {
  it('lib/core imports no driver and nothing from lib/nest', () => {
    expect(breaches('lib/core', (_, to) => !to.startsWith('lib/drivers/') && !to.startsWith('lib/nest/'))).toEqual([]);
  });

  it.each(DRIVERS)('the %s driver imports no other driver and nothing from lib/nest', (driver) => {
    const own = `lib/drivers/${driver}/`;
    const otherDriver = (to: string) =>
      to.startsWith('lib/drivers/') && !to.startsWith(own) && /^lib\/drivers\/[^/]+\//.test(to);
    expect(breaches(own.slice(0, -1), (_, to) => !otherDriver(to) && !to.startsWith('lib/nest/'))).toEqual([]);
  });

  it('lib/hashring imports nothing of ours but lib/errors.ts', () => {
    expect(breaches('lib/hashring', (_, to) => to.startsWith('lib/hashring/') || to === 'lib/errors.ts')).toEqual([]);
  });

  it('the checker reads imports (else every rule above would pass on nothing)', () => {
    expect(directImports('lib/drivers/register.ts').some((to) => to.startsWith('lib/drivers/memory/'))).toBe(true);
    expect(directImports('lib/core/coordinator.ts').length).toBeGreaterThan(0);
  });
});

describe('module boundaries', () => {
  it.each(['lib/hashring/hash-ring.ts', 'lib/errors.ts'])('%s loads nothing from lib/core or lib/nest', (entry) => {
    const { files } = closure(entry);
    expect([...files].filter((f) => f.startsWith('lib/core/') || f.startsWith('lib/nest/'))).toEqual([]);
  });

  it('the core entry loads no NestJS code: nothing from lib/nest, no @nestjs/*, no reflect-metadata', () => {
    const { files, packages } = closure('lib/core-entry.ts');
    expect(files).toContain('lib/drivers/register.ts');
    expect(files).toContain('lib/hashring/hash-ring.ts');
    expect([...files].filter((f) => f.startsWith('lib/nest/'))).toEqual([]);
    expect([...packages].filter((p) => p.startsWith('@nestjs/') || p === 'reflect-metadata')).toEqual([]);
  });

  it('the core entry exports the core, the ring and working drivers, and the errors from their one home', async () => {
    const core = await import('../../lib/core-entry.js');
    const errors = await import('../../lib/errors.js');
    const coreErrors = await import('../../lib/core/index.js');
    expect(typeof core.getCoordinator).toBe('function');
    expect(typeof core.HashRing).toBe('function');
    expect(typeof core.assertWeight).toBe('function');
    expect('CoordinationModule' in core).toBe(false);
    expect(coreErrors.UnknownNodeError).toBe(errors.UnknownNodeError);
    expect(core.SerializationError).toBe(errors.SerializationError);
    expect(() => new core.HashRing(['a']).removeNode('b')).toThrow(errors.UnknownNodeError);
    expect(() => core.getCoordinator('memory://', 'm')).not.toThrow();
  });

  it('the main entry still exports everything the core entry does, and the Nest layer', async () => {
    const core = await import('../../lib/core-entry.js');
    const main = await import('../../lib/index.js');
    for (const name of Object.keys(core)) expect(main, name).toHaveProperty(name);
    expect(typeof main.CoordinationModule).toBe('function');
  });
});

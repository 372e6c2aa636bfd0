import { readFileSync } from 'node:fs';
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

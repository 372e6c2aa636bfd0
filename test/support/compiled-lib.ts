/**
 * `lib/` compiled to plain ESM JavaScript in a temporary directory, for tests
 * that run the library in a child Node process (what Node does with an
 * unsettled top-level await, heap use under `--expose-gc`). SWC transpiles
 * file by file, keeping the `.js` import specifiers the sources already use;
 * the directory's `node_modules` links to the repository's, so `rxjs` and
 * `@msgpack/msgpack` resolve as they do for the package.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFile } from '@swc/core';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CompiledLib {
  /** The directory holding the compiled `lib/` (with `core-entry.js`, `index.js`…). */
  readonly dir: string;
  /** A `file://` URL of `entry` (relative to `lib/`), for an `import` in a child script. */
  url(entry: string): string;
  /** Write `source` as an ESM script in the directory and return its path. */
  script(name: string, source: string): Promise<string>;
  remove(): Promise<void>;
}

async function* typescriptFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typescriptFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** Compile the current `lib/` (call once per test file, in `beforeAll`). */
export async function compileLib(): Promise<CompiledLib> {
  const root = await mkdtemp(join(tmpdir(), 'nestjs-coordination-lib-'));
  const out = join(root, 'lib');
  const source = join(REPO, 'lib');
  for await (const file of typescriptFiles(source)) {
    const { code } = await transformFile(file, {
      swcrc: false,
      configFile: false,
      sourceMaps: false,
      module: { type: 'es6' },
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
      },
    });
    const target = join(out, relative(source, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, code);
  }
  await writeFile(join(root, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  return {
    dir: out,
    url: (entry) => new URL(`file://${join(out, entry)}`).href,
    async script(name, text) {
      const path = join(root, name);
      await writeFile(path, text);
      return path;
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run `node [...nodeArgs] script`, killed after `timeoutMs`; resolves with what it printed and how it ended. */
export function runNode(script: string, nodeArgs: string[] = [], timeoutMs = 30_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

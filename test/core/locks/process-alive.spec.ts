/**
 * A blocked `acquire()` keeps the process alive while it waits
 * (docs/semantics.md#locks). A pending promise alone does not: with only
 * unref'd timers left, Node ends the process with exit code 13 (an unsettled
 * top-level await) and the waiter never gets the lock. Run in a child process
 * on the compiled lib.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CompiledLib, compileLib, runNode } from '../../support/compiled-lib.js';

describe('A blocked acquire keeps the process alive', () => {
  let lib: CompiledLib;
  beforeAll(async () => {
    lib = await compileLib();
  }, 120_000);
  afterAll(() => lib?.remove());

  // Guards against a wait that holds no ref'd handle: Node would exit with
  // code 13 while member B waits for A's release, which comes from an
  // unref'd timer (as a heart's or a lease's timers are).
  it('a top-level await on a blocking acquire is still running when the holder releases', async () => {
    const script = await lib.script(
      'blocked-acquire.mjs',
      `
import { getCoordinator } from ${JSON.stringify(lib.url('core-entry.js'))};

const url = 'memory://process-alive';
const a = getCoordinator(url, 'member-a');
const b = getCoordinator(url, 'member-b');
await a.start();
await b.start();
const held = a.getLock('resource');
if (!(await held.acquire({ blocking: false }))) throw new Error('A could not take the lock');
setTimeout(() => {
  held.release().catch((error) => {
    console.error(error);
    process.exit(2);
  });
}, 300).unref();

const waited = await b.getLock('resource').acquire();
console.log(waited ? 'acquired' : 'not acquired');
await b.stop();
await a.stop();
`,
    );
    const result = await runNode(script, [], 20_000);
    expect({ code: result.code, stdout: result.stdout.trim(), stderr: result.stderr }).toEqual({
      code: 0,
      stdout: 'acquired',
      stderr: '',
    });
  });

  // Guards against a keep-alive that outlives the wait: once nothing waits,
  // a script that forgot stop() must still be able to end.
  it('once the wait is over, nothing keeps the process alive', async () => {
    const script = await lib.script(
      'no-wait.mjs',
      `
import { getCoordinator } from ${JSON.stringify(lib.url('core-entry.js'))};

const url = 'memory://process-ends';
const a = getCoordinator(url, 'member-a');
const b = getCoordinator(url, 'member-b');
await a.start({ startHeart: true });
await b.start({ startHeart: true });
const held = a.getLock('resource');
await held.acquire();
const waiting = b.getLock('resource');
const gave = await waiting.acquire({ timeoutMs: 100 });
const late = b.getLock('resource').acquire();
setTimeout(() => held.release(), 50).unref();
console.log(String(gave), String(await late));
// No stop(): the process must end on its own now.
`,
    );
    const result = await runNode(script, [], 20_000);
    expect({ code: result.code, signal: result.signal, stdout: result.stdout.trim() }).toEqual({
      code: 0,
      signal: null,
      stdout: 'false true',
    });
  });
});

/**
 * A run refused because the coordinator is stopping rejects like any other
 * call on a coordinator that is not started, and is never an unhandled
 * rejection (docs/semantics.md#calls-and-errors, #watchers-and-elections).
 */
import { describe, expect, it } from 'vitest';
import { CoordinationError } from '../../../lib/index.js';
import { memoryDriver, testBackend, uid } from '../../support/drivers.js';
import { deferred, sleep, within } from '../../support/failing-coordinators.js';
import { useCoordinators } from '../support.js';

describe('A refused runWatchers() (memory)', () => {
  const start = useCoordinators();

  // Guards against the backend phase of a refused run rejecting while the
  // previous run's callbacks still block the delivery queue: nothing handled
  // it until then, and Node reported an unhandled rejection.
  it('is never an unhandled rejection, even while an earlier callback blocks', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const url = testBackend(memoryDriver).url();
      const [watcher, joiner] = [await start(url), await start(url)];
      const group = uid('g');
      await watcher.createGroup(group);
      const gate = deferred();
      const called = deferred();
      await watcher.watchJoinGroup(group, async () => {
        called.resolve();
        await gate.promise;
      });
      await joiner.joinGroup(group);

      const first = watcher.runWatchers();
      await within(called.promise, 3_000, 'the join callback');
      const stopping = watcher.stop();
      // Refused at once; its promise settles only after the blocked delivery ahead of it.
      const refused = watcher.runWatchers().then(
        () => null,
        (error: unknown) => error,
      );
      await sleep(50); // while the callback still blocks: Node reports an unhandled rejection now, if any
      gate.resolve();
      expect(await refused).toBeInstanceOf(CoordinationError);
      await first.catch(() => undefined);
      await stopping;
      await sleep(20);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

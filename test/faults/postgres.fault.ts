/**
 * postgresql:// under real faults (docs/fault-suite.md): a
 * PostgreSQL cluster of this file's own (initdb'd as the postgres user on a
 * spare port), a schema per scenario, three worker processes × two
 * coordinators hammering three locks and running for one leadership, the
 * fault repeated for the scenario's duration, then the history checker
 * (docs/postgresql.md#failure-behaviour-and-why-no-heartbeat-is-needed-to-detect-a-crash).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CompiledLib, compileLib } from '../support/compiled-lib.js';
import { PostgresCluster, serverBinaryInUse } from './servers.js';
import { DURATION_MS, killLeadingHolder, repeatFaults, Workload, type WorkloadOptions } from './workload.js';

/** tooz's `timeout` (seconds): membership 4 s, a beat every 2 s. */
const TIMEOUT_S = 4;
const BEAT_MS = (TIMEOUT_S * 1000) / 2;
/** `statement_timeout` (seconds); the client gives a silent connection 5 s more (docs/postgresql.md). */
const STATEMENT_TIMEOUT_S = 2;
const CALL_BOUND_MS = STATEMENT_TIMEOUT_S * 1000 + 5_000;
/** How often a beat also collects garbage (lib/drivers/postgres). */
const GC_INTERVAL_MS = 10_000;
/** Another member leads after a SIGKILLed leader within a lease and a beat at worst (the figure is printed; docs/fault-suite.md). */
const TAKEOVER_MS = 6_000;

describe.runIf(serverBinaryInUse('postgres'))('postgresql:// under faults', () => {
  let lib: CompiledLib;
  let cluster: PostgresCluster;
  let workload: Workload | undefined;
  let scenarios = 0;

  beforeAll(async () => {
    [lib, cluster] = await Promise.all([compileLib(), PostgresCluster.start()]);
  }, 120_000);
  afterEach(async () => {
    await workload?.dispose();
    workload = undefined;
  });
  afterAll(async () => {
    await cluster?.stop();
    await lib?.remove();
  });

  async function run(
    scenario: string,
    fault: (cluster: PostgresCluster, workload: Workload) => Promise<void>,
    statementTimeoutS = STATEMENT_TIMEOUT_S,
  ) {
    const schema = `faults${++scenarios}`;
    const url = (timeoutS: number) =>
      `${cluster.url}?schema=${schema}&timeout=${TIMEOUT_S}&statement_timeout=${timeoutS}`;
    const options: WorkloadOptions = {
      scenario: `postgresql: ${scenario}`,
      url: url(statementTimeoutS),
      // The test's own reads are not the ones under test: they get the default statement timeout here.
      observerUrl: url(STATEMENT_TIMEOUT_S),
      processes: 3,
      membersPerProcess: 2,
      locks: ['L1', 'L2', 'L3'],
      beatMs: BEAT_MS,
      callBoundMs: statementTimeoutS * 1000 + 5_000,
    };
    workload = await Workload.start(lib, options);
    await fault(cluster, workload);
    await workload.readMembers();
    await workload.stop();
    await workload.checkLocksFree();
    const { violations, text } = await workload.verdict();
    console.log(text);
    expect(violations.length, text).toBe(0);
  }

  it(
    'a restart of the server (fast shutdown: every session ends)',
    async () => {
      await run('restart', (pg, w) => repeatFaults(() => w.fault('restart', () => pg.restart()), 4_000));
    },
    90_000 + 2 * DURATION_MS,
  );

  it(
    'the whole server stopped (SIGSTOP of the postmaster and every backend) past the membership timeout',
    async () => {
      await run('SIGSTOP of the server', (pg, w) =>
        repeatFaults(
          () =>
            w.fault(`SIGSTOP ${TIMEOUT_S * 1000 + 1_000} ms`, async () => {
              const pids = pg.pause();
              try {
                await sleep(TIMEOUT_S * 1000 + 1_000);
              } finally {
                pg.resume(pids);
              }
            }),
          TIMEOUT_S * 1000 + 5_000,
        ),
      );
    },
    90_000 + 2 * DURATION_MS + CALL_BOUND_MS,
  );

  it(
    'pg_terminate_backend of every coordinator session',
    async () => {
      await run('pg_terminate_backend', (pg, w) =>
        repeatFaults(() => w.fault('pg_terminate_backend', () => pg.terminate().then(() => undefined)), 2_000),
      );
    },
    90_000 + 2 * DURATION_MS,
  );

  it(
    'a statement timeout mid-release: statement_timeout 0.1 s while another session holds 150 000 advisory locks',
    async () => {
      await run(
        'statement timeout mid-release',
        (pg, w) =>
          repeatFaults(
            () =>
              w.fault('a session holding 150 000 advisory locks for 2 s', async () => {
                // pg_locks is materialised whole on every read: this large, a release that reads it times out.
                const busy = await pg.client();
                try {
                  await busy.query('select count(pg_advisory_lock(1000000 + i)) from generate_series(1, 150000) i');
                  await sleep(2_000);
                } finally {
                  await busy.end();
                }
              }),
            3_500,
          ),
        0.1,
      );
    },
    90_000 + 2 * DURATION_MS,
  );

  it(
    'liveness under a huge pg_locks: 150 000 advisory locks held by another session, statement_timeout 0.1 s',
    async () => {
      await run(
        'beats under a huge pg_locks',
        async (pg, w) => {
          await sleep(1_500);
          const busy = await pg.client();
          try {
            await w.fault('another session takes 150 000 advisory locks (and keeps them)', async () => {
              await busy.query('select count(pg_advisory_lock(1000000 + i)) from generate_series(1, 150000) i');
            });
            // One garbage-collecting beat falls in this (docs/postgresql.md: every 10 s), then a membership timeout.
            await sleep(GC_INTERVAL_MS + TIMEOUT_S * 1000 + BEAT_MS);
            await w.readMembers();
          } finally {
            await busy.end();
          }
        },
        0.1,
      );
    },
    120_000 + 2 * DURATION_MS,
  );

  it(
    'SIGKILL of a process whose coordinator holds a lock and leads the group',
    async () => {
      await run('SIGKILL of a holder that leads', async (_pg, w) => {
        await sleep(1_500);
        const takeoverMs = await killLeadingHolder(w, TAKEOVER_MS);
        console.log(`another member led ${Math.round(takeoverMs)} ms after the leader's SIGKILL`);
        await sleep(Math.max(DURATION_MS - 1_500, 2_000));
      });
    },
    90_000 + 2 * DURATION_MS,
  );
});

/**
 * redis:// under real faults (docs/fault-suite.md): a
 * redis-server of this file's own per scenario, three worker processes × two
 * coordinators hammering three locks (exclusive and shared) and running for
 * one leadership, the fault repeated for the scenario's duration, then the
 * history checker over everything recorded (docs/redis.md#failover-a-crashed-process-does-not-cost-a-whole-lease).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CompiledLib, compileLib } from '../support/compiled-lib.js';
import { RedisServer, serverBinaryInUse } from './servers.js';
import { DURATION_MS, killLeadingHolder, repeatFaults, Workload, type WorkloadOptions } from './workload.js';

/** tooz's `timeout` (seconds): membership and lock lease 4 s, a beat every 2 s, one command at most 4 s. */
const TIMEOUT_S = 4;
const LEASE_MS = TIMEOUT_S * 1000;
/** Another member leads after a SIGKILLed leader within a lease and a beat at worst (the figure is printed; docs/fault-suite.md). */
const TAKEOVER_MS = 6_000;

describe.runIf(serverBinaryInUse('redis-server'))('redis:// under faults', () => {
  let lib: CompiledLib;
  let server: RedisServer | undefined;
  let workload: Workload | undefined;

  beforeAll(async () => {
    lib = await compileLib();
  }, 120_000);
  afterEach(async () => {
    await workload?.dispose();
    await server?.stop();
    workload = server = undefined;
  });
  afterAll(() => lib?.remove());

  async function run(
    scenario: string,
    fault: (server: RedisServer, workload: Workload) => Promise<void>,
    extra: Partial<WorkloadOptions> = {},
  ) {
    server = await RedisServer.start();
    const options: WorkloadOptions = {
      scenario: `redis: ${scenario}`,
      url: `redis://127.0.0.1:${server.port}/0?namespace=faults&timeout=${TIMEOUT_S}`,
      processes: 3,
      membersPerProcess: 2,
      locks: ['L1', 'L2', 'L3'],
      beatMs: LEASE_MS / 2,
      callBoundMs: LEASE_MS,
      ...extra,
    };
    workload = await Workload.start(lib, options);
    await fault(server, workload);
    await workload.readMembers();
    await workload.stop();
    await workload.checkLocksFree();
    const { violations, text } = await workload.verdict();
    console.log(text);
    expect(violations.length, text).toBe(0);
  }

  it(
    'SHUTDOWN NOSAVE and a restart on the same port: tokens keep rising, groups come back',
    async () => {
      await run('SHUTDOWN NOSAVE + restart', (redis, w) =>
        repeatFaults(
          () =>
            w.fault('SHUTDOWN NOSAVE + restart', async () => {
              await redis.shutdownNosave();
              await sleep(300);
              await redis.restart();
            }),
          3_000,
        ),
      );
    },
    60_000 + 2 * DURATION_MS,
  );

  it(
    'redis-server stopped (SIGSTOP) past the lock timeout, then SIGCONT',
    async () => {
      await run('SIGSTOP past the lock timeout', (redis, w) =>
        repeatFaults(
          () =>
            w.fault(`SIGSTOP ${LEASE_MS + 1_000} ms`, async () => {
              redis.pause();
              await sleep(LEASE_MS + 1_000);
              redis.resume();
            }),
          LEASE_MS + 4_000,
        ),
      );
    },
    60_000 + 2 * DURATION_MS,
  );

  it(
    'CLIENT KILL TYPE normal: every command connection dropped',
    async () => {
      await run('CLIENT KILL TYPE normal', (redis, w) =>
        repeatFaults(
          () => w.fault('CLIENT KILL TYPE normal', () => redis.killClients('normal').then(() => undefined)),
          1_500,
        ),
      );
    },
    60_000 + 2 * DURATION_MS,
  );

  it(
    'CLIENT KILL TYPE pubsub, kept out 2 s (maxclients): no grant to a member whose subscription is down',
    async () => {
      await run('CLIENT KILL TYPE pubsub', (redis, w) =>
        repeatFaults(
          () =>
            w.fault('CLIENT KILL TYPE pubsub, reconnects refused 2 s', async () => {
              // Full first (maxclients at the clients connected), so the dropped subscribers cannot come straight back.
              const info = (await redis.client().info('clients')) as string;
              const connected = Number(/connected_clients:(\d+)/.exec(info)![1]);
              await redis.client().config('SET', 'maxclients', String(connected));
              try {
                await redis.killClients('pubsub');
                await sleep(2_000);
              } finally {
                await redis.client().config('SET', 'maxclients', '10000');
              }
            }),
          3_500,
        ),
      );
    },
    60_000 + 2 * DURATION_MS,
  );

  it(
    'SIGKILL of a process whose coordinator holds a lock and leads the group',
    async () => {
      await run('SIGKILL of a holder that leads', async (_redis, w) => {
        await sleep(1_500);
        const takeoverMs = await killLeadingHolder(w, TAKEOVER_MS);
        console.log(`another member led ${Math.round(takeoverMs)} ms after the leader's SIGKILL`);
        await sleep(Math.max(DURATION_MS - 1_500, 2_000));
      });
    },
    60_000 + 2 * DURATION_MS,
  );
});

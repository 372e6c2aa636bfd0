/**
 * redis:// URL options as tooz names them (seconds in the URL, ms in code),
 * how start() fails when the server is down or hung, how calls fail while the
 * connection is down, and that credentials never show in an error or a log.
 */
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CoordinationError,
  type Coordinator,
  CoordinatorConnectionError,
  type CoordinatorOptions,
  getCoordinator,
} from '../../lib/index.js';
import { redisSettings } from '../../lib/drivers/redis/redis-options.js';
import { testNamespace, uid } from '../support/drivers.js';
import { REDIS, serverInUse } from '../support/servers.js';
import { freePort, silentServer, TcpProxy } from './tcp-proxy.js';

const settings = (url: string, options: CoordinatorOptions = {}) => redisSettings(new URL(url), options);

describe('redis:// URL options', () => {
  it('defaults to tooz’s: timeout 30 s for membership, locks and commands; connect 5 s; namespace _tooz; db 0', () => {
    const s = settings('redis://127.0.0.1');
    expect(s).toMatchObject({
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      namespace: '_tooz',
      membershipTimeoutMs: 30_000,
      lockTimeoutMs: 30_000,
      commandTimeoutMs: 30_000,
      connectTimeoutMs: 5_000,
      lockKeyStyle: 'current',
      tls: false,
      sentinel: undefined,
      username: undefined,
      password: undefined,
    });
  });

  it('timeout (seconds, decimals allowed) sets membership, lock and command timeouts in ms', () => {
    expect(settings('redis://h?timeout=2.5')).toMatchObject({
      membershipTimeoutMs: 2_500,
      lockTimeoutMs: 2_500,
      commandTimeoutMs: 2_500,
      connectTimeoutMs: 5_000,
    });
  });

  it('membership_timeout, lock_timeout, socket_timeout and socket_connect_timeout override timeout', () => {
    const s = settings(
      'redis://h?timeout=10&membership_timeout=1.5&lock_timeout=3&socket_timeout=0.25&socket_connect_timeout=0.3',
    );
    expect(s).toMatchObject({
      membershipTimeoutMs: 1_500,
      lockTimeoutMs: 3_000,
      commandTimeoutMs: 250,
      connectTimeoutMs: 300,
    });
  });

  it('the options object (ms) wins over the URL option of the same meaning', () => {
    const s = settings('redis://h?membership_timeout=9&lock_timeout=9&socket_connect_timeout=9', {
      membershipTimeoutMs: 1_200,
      lockTimeoutMs: 3_400,
      connectTimeoutMs: 560,
    });
    expect(s).toMatchObject({ membershipTimeoutMs: 1_200, lockTimeoutMs: 3_400, connectTimeoutMs: 560 });
  });

  it.each(['timeout=0', 'timeout=-1', 'timeout=abc', 'lock_timeout=1e3', 'socket_connect_timeout=0'])(
    'refuses %s',
    (query) => {
      expect(() => settings(`redis://h?${query}`)).toThrow(CoordinationError);
    },
  );

  it('namespace prefixes the keys', () => {
    expect(settings('redis://h?namespace=my_app').namespace).toBe('my_app');
  });

  it('db comes from a numeric path or from db= (which wins); any other path is ignored', () => {
    expect(settings('redis://h:6380/3')).toMatchObject({ port: 6380, db: 3 });
    expect(settings('redis://h?db=5').db).toBe(5);
    expect(settings('redis://h/3?db=5').db).toBe(5);
    expect(settings('redis://h/some/path').db).toBe(0);
    expect(() => settings('redis://h?db=x')).toThrow(CoordinationError);
  });

  it('username and password come from the URL, percent-decoded', () => {
    expect(settings('redis://alice:p%40ss%3Aw0rd@h')).toMatchObject({ username: 'alice', password: 'p@ss:w0rd' });
    expect(settings('redis://:only-pw@h')).toMatchObject({ username: undefined, password: 'only-pw' });
  });

  it('ssl=<oslo bool> or rediss:// turns TLS on; ssl_* name the files', () => {
    expect(settings('redis://h?ssl=true').tls).toBe(true);
    expect(settings('redis://h?ssl=yes').tls).toBe(true);
    expect(settings('redis://h?ssl=1').tls).toBe(true);
    expect(settings('redis://h?ssl=false').tls).toBe(false);
    expect(settings('redis://h?ssl=no').tls).toBe(false);
    expect(settings('rediss://h').tls).toBe(true);
    expect(settings('redis://h?ssl=1&ssl_certfile=/c.pem&ssl_keyfile=/k.pem&ssl_ca_certs=/ca.pem').tlsFiles).toEqual({
      cert: '/c.pem',
      key: '/k.pem',
      ca: '/ca.pem',
    });
  });

  it('sentinel=<name>: the URL host is the first sentinel, sentinel_fallback adds more (IPv6 too)', () => {
    const s = settings(
      'redis://10.0.0.1:26379?sentinel=mymaster&sentinel_fallback=10.0.0.2:26380&sentinel_fallback=[::1]:26381' +
        '&sentinel_username=sen&sentinel_password=sen-pw&sentinel_ssl=true',
    );
    expect(s.sentinel).toEqual({
      name: 'mymaster',
      hosts: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      username: 'sen',
      password: 'sen-pw',
      tls: true,
    });
    expect(() => settings('redis://h:26379?sentinel=m&sentinel_fallback=nohostport')).toThrow(CoordinationError);
  });

  it('lock_key_style is current, legacy or legacy_bytes, and nothing else', () => {
    expect(settings('redis://h?lock_key_style=current').lockKeyStyle).toBe('current');
    expect(settings('redis://h?lock_key_style=legacy').lockKeyStyle).toBe('legacy');
    expect(settings('redis://h?lock_key_style=legacy_bytes').lockKeyStyle).toBe('legacy_bytes');
    expect(() => settings('redis://h?lock_key_style=tooz9')).toThrow(/lock_key_style/);
  });

  it('an unknown option is refused by getCoordinator, naming it, without printing the password', () => {
    let error: unknown;
    try {
      getCoordinator('redis://u:hunter2-secret@127.0.0.1:6379?timout=5&sentinel_password=sen-secret', 'm');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CoordinationError);
    expect((error as Error).message).toMatch(/timout/);
    const shown = inspect(error, { depth: 10 });
    expect(shown).not.toContain('hunter2-secret');
    expect(shown).not.toContain('sen-secret');
  });
});

/** Every way an error could show a secret: message, stack, causes, util.inspect. */
function expectNoSecret(error: unknown, secrets: string[]): void {
  const shown = [inspect(error, { depth: 20, showHidden: true }), String(error), (error as Error).stack ?? ''];
  for (let cause = (error as Error).cause; cause; cause = (cause as Error).cause) shown.push(inspect(cause));
  for (const text of shown) for (const secret of secrets) expect(text).not.toContain(secret);
}

async function failedStart(c: Coordinator): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  try {
    await c.start();
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
  await c.stop();
  throw new Error('start() succeeded');
}

describe('redis:// start() against a server that is down or hung', () => {
  it('nothing listening: CoordinatorConnectionError at once (well inside the connect timeout), no secret shown', async () => {
    const port = await freePort();
    const c = getCoordinator(
      `redis://:pw-down-secret@127.0.0.1:${port}?sentinel_password=never-shown&namespace=${testNamespace()}`,
      uid('m'),
    );
    const { error, ms } = await failedStart(c);
    expect(error).toBeInstanceOf(CoordinatorConnectionError);
    expect(ms).toBeLessThan(5_000);
    expectNoSecret(error, ['pw-down-secret', 'never-shown']);
    expect(c.isStarted).toBe(false);
  });

  it('a sentinel that is down: CoordinatorConnectionError within socket_connect_timeout, no sentinel_password shown', async () => {
    const port = await freePort();
    const c = getCoordinator(
      `redis://127.0.0.1:${port}?sentinel=mymaster&sentinel_password=sentinel-secret-1&socket_connect_timeout=0.3`,
      uid('m'),
    );
    const { error, ms } = await failedStart(c);
    expect(error).toBeInstanceOf(CoordinatorConnectionError);
    expect(ms).toBeLessThan(300 + 700);
    expectNoSecret(error, ['sentinel-secret-1']);
  });

  it('a server that accepts but never answers: CoordinatorConnectionError after socket_connect_timeout=0.3', async () => {
    const hung = await silentServer();
    try {
      const c = getCoordinator(
        `redis://:hung-secret@127.0.0.1:${hung.port}?socket_connect_timeout=0.3&namespace=${testNamespace()}`,
        uid('m'),
      );
      const { error, ms } = await failedStart(c);
      expect(error).toBeInstanceOf(CoordinatorConnectionError);
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(300 + 700);
      expectNoSecret(error, ['hung-secret']);
    } finally {
      await hung.close();
    }
  });

  it('a server that never answers, default settings: CoordinatorConnectionError after about 5 s, never later', async () => {
    const hung = await silentServer();
    try {
      const c = getCoordinator(`redis://127.0.0.1:${hung.port}?namespace=${testNamespace()}`, uid('m'));
      const { error, ms } = await failedStart(c);
      expect(error).toBeInstanceOf(CoordinatorConnectionError);
      expect(ms).toBeGreaterThanOrEqual(4_900);
      expect(ms).toBeLessThan(5_000 + 1_500);
    } finally {
      await hung.close();
    }
  }, 15_000);
});

describe.runIf(await serverInUse(REDIS))('redis:// against the real Redis', () => {
  const made: Coordinator[] = [];
  const proxies: TcpProxy[] = [];

  afterEach(async () => {
    for (const c of made.splice(0)) if (c.isStarted) await c.stop().catch(() => undefined);
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  async function proxied(): Promise<TcpProxy> {
    const proxy = await new TcpProxy({ host: REDIS.host, port: REDIS.port }).start();
    proxies.push(proxy);
    return proxy;
  }

  it('a wrong username/password (AUTH refused): CoordinatorConnectionError, the password nowhere in it', async () => {
    const c = getCoordinator(
      `redis://nobody-${uid('u')}:wrong-pw-secret@127.0.0.1:${REDIS.port}/0?namespace=${testNamespace()}&socket_connect_timeout=2`,
      uid('m'),
    );
    const { error, ms } = await failedStart(c);
    expect(error).toBeInstanceOf(CoordinatorConnectionError);
    expect(ms).toBeLessThan(2_000 + 700);
    expectNoSecret(error, ['wrong-pw-secret']);
  });

  it('while the connection is down, calls fail fast with CoordinatorConnectionError; back up, it works again', async () => {
    const proxy = await proxied();
    const c = getCoordinator(
      `redis://:down-secret@127.0.0.1:${proxy.port}/0?namespace=${testNamespace()}&timeout=5`,
      uid('m'),
    );
    made.push(c);
    await c.start();
    const group = uid('group');
    await c.createGroup(group);
    await proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the client sees the close
    const calls: [string, () => Promise<unknown>][] = [
      ['getGroups', () => c.getGroups()],
      ['getMembers', () => c.getMembers(group)],
      ['joinGroup', () => c.joinGroup(group)],
      ['acquire', () => c.getLock(uid('lock')).acquire({ blocking: false })],
      ['heartbeat', () => c.heartbeat()],
    ];
    for (const [name, call] of calls) {
      const started = performance.now();
      const error = await call().then(
        () => new Error(`${name} succeeded while the server was down`),
        (caught: unknown) => caught,
      );
      expect(error, name).toBeInstanceOf(CoordinatorConnectionError);
      expect(performance.now() - started, name).toBeLessThan(500);
      expectNoSecret(error, ['down-secret']);
    }

    await proxy.restore();
    const deadline = performance.now() + 5_000;
    let groups: string[] | undefined;
    while (!groups && performance.now() < deadline) {
      groups = await c.getGroups().catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return undefined;
      });
    }
    expect(groups).toContain(group);
  });

  it('the heart’s failed beats are logged without the password', async () => {
    const proxy = await proxied();
    const logged: string[] = [];
    const c = getCoordinator(
      `redis://:log-secret@127.0.0.1:${proxy.port}/0?namespace=${testNamespace()}&timeout=0.4`,
      uid('m'),
      { logger: { warn: (message: string) => logged.push(String(message)) } },
    );
    made.push(c);
    await c.start({ startHeart: true });
    await proxy.cut();
    const deadline = performance.now() + 3_000;
    while (logged.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(line).not.toContain('log-secret');
  });
});

/**
 * The real servers the network drivers' tests talk to. With `CI` set, a
 * server that cannot be reached fails its tests; on a developer's machine
 * without it, its suites are skipped with a loud message naming what to start.
 */
import { connect } from 'node:net';

export interface Server {
  name: string;
  host: string;
  port: number;
  /** How to start it (printed when it is down). */
  start: string;
}

export const REDIS: Server = {
  name: 'Redis',
  host: '127.0.0.1',
  port: 6379,
  start: 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
};

export const POSTGRES: Server = {
  name: 'PostgreSQL',
  host: '127.0.0.1',
  port: 5432,
  start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
};

function reachable(server: Server, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: server.host, port: server.port });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const warned = new Set<string>();

/** Whether the suites of `server` run: always under CI (where a missing server must fail), else when it answers. */
export async function serverInUse(server: Server): Promise<boolean> {
  if (process.env.CI) return true;
  if (await reachable(server)) return true;
  if (!warned.has(server.name)) {
    warned.add(server.name);
    console.warn(
      `\n*** ${server.name} is not reachable at ${server.host}:${server.port}: its test suites are SKIPPED.\n` +
        `*** Start it with: ${server.start}\n`,
    );
  }
  return false;
}

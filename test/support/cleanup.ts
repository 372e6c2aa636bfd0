/**
 * Run after each test file (vitest `setupFiles`): delete the Redis keys of the
 * namespaces and drop the PostgreSQL schemas this file handed out, so runs
 * leave nothing behind. Only those: a run beside this one keeps its own.
 */
import { afterAll } from 'vitest';
import { testNamespaces, testSchemas } from './drivers.js';

afterAll(async () => {
  if (testSchemas.size === 0) return;
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: 'postgresql://root@127.0.0.1:5432/test',
    connectionTimeoutMillis: 2_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    // A coordinator a test left running (a killed child's backend) must not hold the drop up for long.
    await client.query("SET lock_timeout = '5s'");
    for (const schema of testSchemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    testSchemas.clear();
  } catch {
    // No PostgreSQL: nothing was written there.
  } finally {
    await client.end().catch(() => undefined);
  }
});

afterAll(async () => {
  if (testNamespaces.size === 0) return;
  const { Redis } = await import('ioredis');
  const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    for (const namespace of testNamespaces) {
      // tooz's legacy key style writes the namespace as b'<ns>'.
      for (const pattern of [`${namespace}*`, `b'${namespace}'*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
          if (keys.length > 0) await client.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      }
    }
    testNamespaces.clear();
  } catch {
    // No Redis: nothing was written there.
  } finally {
    client.disconnect();
  }
});

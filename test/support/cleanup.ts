/**
 * Run after each test file (vitest `setupFiles`): delete the Redis keys of the
 * namespaces this file handed out, so runs leave nothing behind. Only those
 * namespaces: a run beside this one keeps its keys.
 */
import { afterAll } from 'vitest';
import { testNamespaces } from './drivers.js';

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

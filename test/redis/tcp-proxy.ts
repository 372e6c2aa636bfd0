/**
 * A tiny TCP proxy on a free loopback port in front of a Redis server, for
 * tests that count round trips or cut the connection.
 *
 * A round trip is a client → server write burst that follows a server reply
 * on its connection (or opens it): a pipeline of any length is one, and each
 * wait for an answer before the next request is another. Counted over every
 * connection through the proxy (a coordinator has a command connection and a
 * subscriber connection).
 */
import { createServer, type Server, type Socket, connect } from 'node:net';
import { freePort } from '../support/free-port.js';

export { freePort };

export class TcpProxy {
  /** Client → server bursts, over every connection since the last `reset()`. */
  roundTrips = 0;
  /** Every client → server burst, each with the first bytes it carried (for a failure message). */
  readonly bursts: string[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly target: { host: string; port: number },
    /** A fixed port to listen on; 0 picks a free one. */
    private readonly fixedPort = 0,
  ) {}

  async start(): Promise<this> {
    const server = createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port || this.fixedPort, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this;
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.target);
    this.sockets.add(client).add(upstream);
    let answered = true; // a new connection's first burst is a round trip
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      if (answered) {
        this.roundTrips += 1;
        this.bursts.push(chunk.subarray(0, 120).toString('latin1').replace(/\r\n/g, ' '));
        answered = false;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      answered = true;
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.on('close', close);
    }
  }

  reset(): void {
    this.roundTrips = 0;
    this.bursts.length = 0;
  }

  /** Stop listening and drop every connection: the server looks down (connections refused). */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listen again on the same port. */
  async restore(): Promise<void> {
    await this.start();
  }

  async close(): Promise<void> {
    await this.cut();
  }
}

/** A server that accepts connections and never answers (a hung Redis). */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

import { connect, createServer, type Server, type Socket } from 'node:net';
import { onCleanup } from './cleanup.js';

/**
 * A TCP proxy in front of one listener, for fault injection that works anywhere:
 * `cut()` drops every open connection at once, `block()` refuses new ones (a
 * partition), `unblock()` heals it.
 */
export class FaultProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private isBlocked = false;

  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(target: string): Promise<FaultProxy> {
    const [targetHost, targetPort] = target.split(':');
    let proxy: FaultProxy | undefined;
    const server = createServer((client) => {
      if (!proxy || proxy.isBlocked) {
        client.destroy();
        return;
      }
      const upstream = connect({ host: targetHost, port: Number(targetPort) });
      const pair: [Socket, Socket] = [client, upstream];
      proxy.pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const close = () => {
        proxy?.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no port');
    proxy = new FaultProxy(server, `127.0.0.1:${address.port}`);
    onCleanup(() => proxy?.stop());
    return proxy;
  }

  get connectionCount(): number {
    return this.pairs.size;
  }

  /** Drops every open connection, as when a link or a node dies. */
  cut(): void {
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Cuts open connections and refuses new ones until unblock(). */
  block(): void {
    this.isBlocked = true;
    this.cut();
  }

  unblock(): void {
    this.isBlocked = false;
  }

  stop(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

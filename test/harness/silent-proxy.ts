import { connect, createServer, type Server, type Socket } from 'node:net';
import { parseHostPort } from '@meshchat/protocol';
import { registerCleanup } from './host.js';

interface Carried {
  near: Socket;
  far: Socket | undefined;
}

/**
 * A TCP proxy in front of one listener whose partition is silent, as when a cable is
 * pulled or a firewall starts dropping packets: `partition()` stops carrying bytes
 * either way, and neither side learns of it (a close on one side is not passed on);
 * connections opened meanwhile are accepted and never answered. Only a timeout tells
 * either side the other is gone (FaultProxy, by contrast, closes the connections).
 * `heal()` drops the connections the partition hung (bytes were lost in them), as a
 * peer's RST would once packets flow again, and carries new ones.
 */
export class SilentProxy {
  private readonly connections = new Set<Carried>();
  private isPartitioned = false;
  private server: Server | undefined;
  private boundAddress = '';

  private constructor(private readonly target: string) {}

  /** Listens at `listenAt` (an ephemeral loopback port by default) and carries to `target`. */
  static async start(target: string, listenAt = '127.0.0.1:0'): Promise<SilentProxy> {
    const proxy = new SilentProxy(target);
    const server = createServer((socket) => proxy.accept(socket));
    // Not parseHostPort: port 0 (any free one) is fine here.
    const host = listenAt.slice(0, listenAt.lastIndexOf(':'));
    const port = Number(listenAt.slice(listenAt.lastIndexOf(':') + 1));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no port');
    proxy.server = server;
    proxy.boundAddress = `${host}:${address.port}`;
    registerCleanup(() => proxy.stop());
    return proxy;
  }

  get address(): string {
    return this.boundAddress;
  }

  partition(): void {
    this.isPartitioned = true;
  }

  heal(): void {
    // Every connection open now lived through the partition and lost bytes: none can go on.
    for (const carried of [...this.connections]) this.drop(carried);
    this.isPartitioned = false;
  }

  async stop(): Promise<void> {
    for (const carried of [...this.connections]) this.drop(carried);
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private accept(near: Socket): void {
    const carried: Carried = { near, far: undefined };
    this.connections.add(carried);
    near.on('error', () => {});
    if (this.isPartitioned) {
      // Accepted by the kernel as the SYN arrived, but nothing ever comes back.
      near.on('data', () => {});
      return;
    }
    const { host, port } = parseHostPort(this.target);
    const far = connect({ host, port });
    carried.far = far;
    far.on('error', () => {});
    const carry = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (!this.isPartitioned) to.write(chunk);
      });
      from.on('close', () => {
        if (!this.isPartitioned) this.drop(carried);
      });
    };
    carry(near, far);
    carry(far, near);
  }

  private drop(carried: Carried): void {
    this.connections.delete(carried);
    carried.near.destroy();
    carried.far?.destroy();
  }
}

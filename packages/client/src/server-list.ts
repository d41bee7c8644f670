/**
 * The servers a client may use: its seeds, shuffled so clients of one list spread
 * over the cluster, plus every address nodes tell it about (so failover reaches
 * nodes added after it started).
 */
export class ServerList {
  private readonly servers: string[];
  private index = 0;

  constructor(seeds: readonly string[], random: () => number) {
    this.servers = [...new Set(seeds)];
    for (let i = this.servers.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [this.servers[i], this.servers[j]] = [this.servers[j] as string, this.servers[i] as string];
    }
  }

  get size(): number {
    return this.servers.length;
  }

  get all(): readonly string[] {
    return this.servers;
  }

  /** The server to try next; successive calls go round the list. */
  next(): string {
    const server = this.servers[this.index % this.servers.length] as string;
    this.index = (this.index + 1) % this.servers.length;
    return server;
  }

  peek(): string {
    return this.servers[this.index % this.servers.length] as string;
  }

  learn(addresses: readonly string[]): void {
    for (const address of addresses) if (!this.servers.includes(address)) this.servers.push(address);
  }
}

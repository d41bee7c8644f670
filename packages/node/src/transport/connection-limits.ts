import type { ErrorCode } from '@meshchat/protocol';

export interface ConnectionLimitsConfig {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

export interface Refusal {
  code: ErrorCode;
  message: string;
  /** The config field that refused it, for the log line. */
  limit: keyof ConnectionLimitsConfig;
}

/**
 * Counts open connections, in all and per remote address, and refuses one past either
 * limit. Admitted at accept, released at close: a refused socket never counts.
 */
export class ConnectionLimits {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly config: ConnectionLimitsConfig) {}

  get open(): number {
    return this.total;
  }

  /** Counts the connection in, or says why it is refused. */
  admit(address: string): Refusal | undefined {
    const { maxConnections, maxConnectionsPerAddress } = this.config;
    if (this.total >= maxConnections) {
      return {
        code: 'TOO_MANY_CONNECTIONS',
        message: `the node holds ${maxConnections} connections, its limit; try another node`,
        limit: 'maxConnections',
      };
    }
    const fromAddress = this.byAddress.get(address) ?? 0;
    if (fromAddress >= maxConnectionsPerAddress) {
      return {
        code: 'TOO_MANY_CONNECTIONS',
        message: `${maxConnectionsPerAddress} connections from ${address} already, the limit for one address`,
        limit: 'maxConnectionsPerAddress',
      };
    }
    this.total++;
    this.byAddress.set(address, fromAddress + 1);
    return undefined;
  }

  release(address: string): void {
    const fromAddress = this.byAddress.get(address);
    if (fromAddress === undefined) return;
    this.total--;
    if (fromAddress <= 1) this.byAddress.delete(address);
    else this.byAddress.set(address, fromAddress - 1);
  }
}

import { WEBSOCKET_PATH } from './constants.js';

/**
 * Parses a "host:port" address as nodes advertise them (welcome.servers, peer
 * addresses); an IPv6 host may be bracketed ("[::1]:7001"). Throws on anything else.
 */
export function parseHostPort(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address.trim());
  const port = Number(match?.[2]);
  if (!match?.[1] || !(port > 0 && port < 65536)) {
    throw new Error(`invalid server address "${address}": expected host:port`);
  }
  return { host: match[1], port };
}

// A server list entry "tls://host:port" means TLS to that address; plain "host:port" TCP.
const TLS_SCHEME = 'tls://';

/**
 * Parses a client's server address: "host:port" (plain TCP) or "tls://host:port" (TLS,
 * the node's certificate checked). Throws on anything else.
 */
export function parseServerAddress(address: string): { host: string; port: number; isTls: boolean } {
  const trimmed = address.trim();
  const isTls = trimmed.startsWith(TLS_SCHEME);
  return { ...parseHostPort(isTls ? trimmed.slice(TLS_SCHEME.length) : trimmed), isTls };
}

/** The address clients are told to use for a node: "tls://host:port" when it speaks TLS. */
export function serverAddress(hostPort: string, isTls: boolean): string {
  return isTls ? `${TLS_SCHEME}${hostPort}` : hostPort;
}

/**
 * How a client reaches nodes: TCP to the client port, or WebSocket on the HTTP port
 * (browsers). A node lists the cluster's addresses in the form of the session's own.
 */
export type ClientTransport = 'tcp' | 'websocket';

/**
 * The WebSocket endpoint of the node whose HTTP listener is at `httpAddress` (host:port):
 * wss:// when that listener speaks TLS.
 */
export function webSocketUrl(httpAddress: string, isTls = false): string {
  return `${isTls ? 'wss' : 'ws'}://${httpAddress}${WEBSOCKET_PATH}`;
}

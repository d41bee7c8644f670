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

/**
 * How a client reaches nodes: TCP to the client port, or WebSocket on the HTTP port
 * (browsers). A node lists the cluster's addresses in the form of the session's own.
 */
export type ClientTransport = 'tcp' | 'websocket';

/** The WebSocket endpoint of the node whose HTTP listener is at `httpAddress` (host:port). */
export function webSocketUrl(httpAddress: string): string {
  return `ws://${httpAddress}${WEBSOCKET_PATH}`;
}

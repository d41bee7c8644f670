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

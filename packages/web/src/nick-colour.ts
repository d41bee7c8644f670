/**
 * A hue for a nick, the same on every page and every visit: a hash of the nick as the
 * node compares it (case-insensitively), so "Alice" and "alice" look alike.
 */
export function nickHue(nick: string): number {
  // FNV-1a, 32 bits: cheap and spreads short strings well.
  let hash = 0x811c9dc5;
  for (const char of nick.toLowerCase()) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % 360;
}

// Reads what the load generator needs from an encoded msgpack map without decoding it:
// the frame type and where a string field's bytes start. Only the shapes node frames
// use are understood (maps, strings, integers, floats, booleans, nil); anything else
// gives up (undefined / -1), and the caller falls back to full decoding or counts it.

export interface StringField {
  at: number;
  length: number;
}

/** Whether the map's first key is "type" with the value `type` (ASCII, under 32 bytes). */
export function hasType(buf: Buffer, start: number, end: number, type: string): boolean {
  const keysAt = mapBody(buf, start);
  return (
    keysAt >= 0 &&
    keysAt + 6 + type.length <= end &&
    isShortString(buf, keysAt, 'type') &&
    isShortString(buf, keysAt + 5, type)
  );
}

/** Where the string value of top-level key `key` (ASCII, under 32 bytes) is, or undefined. */
export function findStringField(buf: Buffer, start: number, end: number, key: string): StringField | undefined {
  let at = mapBody(buf, start);
  if (at < 0) return undefined;
  const pairs = mapSize(buf, start);
  for (let pair = 0; pair < pairs && at < end; pair++) {
    const isKey = isShortString(buf, at, key);
    at = skip(buf, at, end);
    if (at < 0) return undefined;
    if (isKey) {
      const head = buf[at] as number;
      if ((head & 0xe0) === 0xa0) return { at: at + 1, length: head & 0x1f };
      if (head === 0xd9) return { at: at + 2, length: buf[at + 1] as number };
      if (head === 0xda) return { at: at + 3, length: buf.readUInt16BE(at + 1) };
      return undefined;
    }
    at = skip(buf, at, end);
    if (at < 0) return undefined;
  }
  return undefined;
}

// Offset of the first key of the map that starts at `at`: msgpackr writes map16, other
// encoders a fixmap.
function mapBody(buf: Buffer, at: number): number {
  const head = buf[at] as number;
  if ((head & 0xf0) === 0x80) return at + 1;
  if (head === 0xde) return at + 3;
  return -1;
}

function mapSize(buf: Buffer, at: number): number {
  const head = buf[at] as number;
  return (head & 0xf0) === 0x80 ? head & 0x0f : buf.readUInt16BE(at + 1);
}

function isShortString(buf: Buffer, at: number, text: string): boolean {
  if (buf[at] !== (0xa0 | text.length)) return false;
  for (let i = 0; i < text.length; i++) if (buf[at + 1 + i] !== text.charCodeAt(i)) return false;
  return true;
}

// Offset just after the value at `at`, or -1 for a type this reader does not handle.
function skip(buf: Buffer, at: number, end: number): number {
  const head = buf[at] as number;
  let next: number;
  if (head <= 0x7f || head >= 0xe0 || head === 0xc0 || head === 0xc2 || head === 0xc3) next = at + 1;
  else if ((head & 0xe0) === 0xa0) next = at + 1 + (head & 0x1f);
  else if ((head & 0xf0) === 0x80 || head === 0xde) {
    let inner = mapBody(buf, at);
    for (let i = mapSize(buf, at) * 2; i > 0 && inner >= 0; i--) inner = skip(buf, inner, end);
    next = inner;
  } else {
    switch (head) {
      case 0xcc:
      case 0xd0:
        next = at + 2;
        break;
      case 0xcd:
      case 0xd1:
        next = at + 3;
        break;
      case 0xca:
      case 0xce:
      case 0xd2:
        next = at + 5;
        break;
      case 0xcb:
      case 0xcf:
      case 0xd3:
        next = at + 9;
        break;
      case 0xd9:
        next = at + 2 + (buf[at + 1] as number);
        break;
      case 0xda:
        next = at + 3 + buf.readUInt16BE(at + 1);
        break;
      default:
        return -1;
    }
  }
  return next <= end ? next : -1;
}

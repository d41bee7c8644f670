import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';

// LMDB's on-disk meta pages (mdb.c, MDB_meta): the first two pages each hold the
// magic, the page size (in the free-list db's md_pad), the last page in use and the
// transaction id. The library maps the file and trusts them, so a garbage or
// truncated file crashes the process instead of raising an error: check them first.
const MAGIC = 0xbeefc0de;
const MAGIC_OFFSET = 24;
const PAGE_SIZE_OFFSET = 48;
const LAST_PAGE_OFFSET = 144;
const TXN_ID_OFFSET = 152;
const META_BYTES = 160;

/** Describes why `path` is not a usable LMDB file, or returns undefined when it is (or is absent). */
export function findLmdbFileProblem(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    const first = readAt(fd, 0);
    if (!first || first.readUInt32LE(MAGIC_OFFSET) !== MAGIC) return 'it is not an LMDB store (bad header)';
    const pageSize = first.readUInt32LE(PAGE_SIZE_OFFSET);
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
      return `its header names an impossible page size (${pageSize})`;
    }
    const second = readAt(fd, pageSize);
    if (!second || second.readUInt32LE(MAGIC_OFFSET) !== MAGIC) return 'its second meta page is damaged or missing';
    const current = first.readBigUInt64LE(TXN_ID_OFFSET) >= second.readBigUInt64LE(TXN_ID_OFFSET) ? first : second;
    const needed = (Number(current.readBigUInt64LE(LAST_PAGE_OFFSET)) + 1) * pageSize;
    if (size < needed) return `it is truncated: ${size} bytes, the store needs ${needed}`;
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, position: number): Buffer | undefined {
  const buffer = Buffer.alloc(META_BYTES);
  return readSync(fd, buffer, 0, META_BYTES, position) === META_BYTES ? buffer : undefined;
}

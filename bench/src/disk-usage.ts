import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface DiskUsage {
  files: number;
  /** Sum of the file sizes (`ls -l`, `du --apparent-size`). */
  bytes: number;
  /** Blocks the file system allocated for them (`du`): less than `bytes` for sparse files. */
  allocatedBytes: number;
}

/** What the files under `dir` take on disk, counted both ways. */
export function diskUsage(dir: string): DiskUsage {
  const usage: DiskUsage = { files: 0, bytes: 0, allocatedBytes: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = diskUsage(path);
      usage.files += inner.files;
      usage.bytes += inner.bytes;
      usage.allocatedBytes += inner.allocatedBytes;
    } else if (entry.isFile()) {
      const stat = statSync(path);
      usage.files++;
      usage.bytes += stat.size;
      // st_blocks counts 512-byte units whatever the file system's block size.
      usage.allocatedBytes += stat.blocks * 512;
    }
  }
  return usage;
}

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LmdbStore } from '@meshchat/node';
import { describe, expect, it } from 'vitest';
import { onCleanup, waitFor } from '../../../test/harness/index.js';

const APPENDER = fileURLToPath(new URL('./fixtures/store-appender.mjs', import.meta.url));
const ROOMS = ['r0', 'r1', 'r2'];
const isAlias = (seq: number) => seq % 10 === 0 && seq > 1;

function startAppender(dir: string): { child: ChildProcess; committed: () => number } {
  const child = spawn(process.execPath, [APPENDER, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  onCleanup(() => {
    child.kill('SIGKILL');
  });
  let committed = 0;
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const last = chunk.toString().trim().split('\n').pop() ?? '';
    const n = Number(last.replace('committed ', ''));
    if (Number.isSafeInteger(n)) committed = n;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.once('exit', (code, signal) => {
    if (signal !== 'SIGKILL') stderr += `\nexited with ${signal ?? code}`;
  });
  return {
    child,
    committed: () => {
      if (stderr) throw new Error(`the appender failed: ${stderr}`);
      return committed;
    },
  };
}

// What a torn commit would leave: messages past the vector, a hole, a message without
// its history entry or dedupe record, or an index entry without its message.
function expectWhole(store: LmdbStore): number {
  let total = 0;
  for (const room of ROOMS) {
    const highest = store.highestSeq(room, 'x');
    const seqs = store.range(room, 'x', 1, Number.MAX_SAFE_INTEGER).map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: highest }, (_, i) => i + 1));
    const shown = seqs.filter((seq) => !isAlias(seq));
    const history = store.latest(room, { limit: Number.MAX_SAFE_INTEGER }).messages.map((m) => m.seq);
    expect(history).toEqual(shown);
    for (const seq of shown) {
      expect(store.findByClientMsgId('c', `${room}-${seq}`)).toEqual({ room, origin: 'x', seq });
    }
    // Nothing of a batch that did not commit: no dedupe record past the vector.
    for (let seq = highest + 1; seq <= highest + 400; seq++) {
      if (!isAlias(seq)) expect(store.findByClientMsgId('c', `${room}-${seq}`)).toBeUndefined();
    }
    total += highest;
  }
  return total;
}

describe('LmdbStore killed -9 in the middle of group commits', () => {
  it('reopens each time with whole batches only: every message with its index entries, no hole, nothing past the vector', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshchat-crash-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    let before = 0;
    for (const round of [1, 2, 3]) {
      const appender = startAppender(dir);
      // Killed at a different point of the stream each round.
      await waitFor(() => appender.committed() >= 3_000 * round, `round ${round}: 3,000 more committed`);
      const exited = new Promise((resolve) => appender.child.once('exit', resolve));
      appender.child.kill('SIGKILL');
      await exited;
      const store = LmdbStore.open(dir);
      try {
        const total = expectWhole(store);
        // Everything the appender was told is committed survived the kill.
        expect(total).toBeGreaterThanOrEqual(before + appender.committed());
        before = total;
      } finally {
        await store.close();
      }
    }
  });
});

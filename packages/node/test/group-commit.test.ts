import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/store/group-commit.js';

/** A GroupCommit whose commits are settled by hand, recording each batch it writes. */
function commits() {
  const batches: number[][] = [];
  const pending: { resolve: () => void; reject: (err: Error) => void }[] = [];
  const group = new GroupCommit<number>({
    intervalMs: 0,
    write: (batch) => {
      batches.push([...batch]);
      if (batch.includes(-1)) throw new Error('the write threw');
      return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
    },
  });
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  return { group, batches, pending, turn };
}

describe('GroupCommit', () => {
  it('writes one turn of items as one batch, and what comes while it commits as the next', async () => {
    const { group, batches, pending, turn } = commits();
    const settled: string[] = [];
    for (const n of [1, 2, 3]) void group.add([n]).then(() => settled.push(`ok ${n}`));
    await turn();
    expect(batches).toEqual([[1, 2, 3]]);
    for (const n of [4, 5]) void group.add([n]).then(() => settled.push(`ok ${n}`));
    await turn();
    expect(batches).toHaveLength(1);
    pending.shift()?.resolve();
    await turn();
    await turn();
    expect(settled).toEqual(['ok 1', 'ok 2', 'ok 3']);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    pending.shift()?.resolve();
    await group.drain();
    expect(settled).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4', 'ok 5']);
  });

  it('rejects every item of a failed batch, whether its commit failed or its write threw, and goes on', async () => {
    const { group, pending, turn } = commits();
    const failed = Promise.allSettled([group.add([1]), group.add([2])]);
    await turn();
    pending.shift()?.reject(new Error('disk full'));
    expect((await failed).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const threw = Promise.allSettled([group.add([-1])]);
    expect((await threw).map((r) => r.status)).toEqual(['rejected']);
    const next = group.add([3]);
    await turn();
    pending.shift()?.resolve();
    await expect(next).resolves.toBeUndefined();
  });

  it('commits the items of one add in one batch with the single items around them, under one promise', async () => {
    const { group, batches, pending, turn } = commits();
    const settled: string[] = [];
    void group.add([1]).then(() => settled.push('one'));
    void group.add([2, 3, 4]).then(() => settled.push('many'));
    await turn();
    expect(batches).toEqual([[1, 2, 3, 4]]);
    pending.shift()?.resolve();
    await group.drain();
    expect(settled).toEqual(['one', 'many']);
  });

  it('fails what was queued behind a failed batch (its seqs followed what failed), and commits what comes after', async () => {
    const { group, batches, pending, turn } = commits();
    const first = group.add([1]);
    await turn();
    const behind = group.add([2, 3]);
    pending.shift()?.reject(new Error('disk full'));
    await expect(first).rejects.toThrow('disk full');
    await expect(behind).rejects.toThrow('disk full');
    const after = group.add([4]);
    await turn();
    pending.shift()?.resolve();
    await expect(after).resolves.toBeUndefined();
    expect(batches).toEqual([[1], [4]]);
  });
});

// Direct messages follow a client across reconnects: the node replays its inbox from
// the cursor given in hello, in pages, and only then delivers live, each message once.
// Raw connections show every frame the node sends, so a duplicate cannot hide.
import { type AppendEntry, MemoryStore } from '@meshchat/node';
import type { Cursor } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import {
  expectFatalError,
  framesOf,
  openRaw,
  RawConnection,
  startNode,
  waitFor,
  waitForFrameWhere,
} from './helpers.js';

/**
 * A MemoryStore whose appends can be held: `visible` holds the commit after the message
 * is readable (as LMDB's is between its commit and the callback that reports it),
 * `invisible` holds it before.
 */
class GatedStore extends MemoryStore {
  mode: 'open' | 'visible' | 'invisible' = 'open';
  private readonly held: (() => void)[] = [];

  // `append` goes through `appendBatch`: local and replicated messages are held alike.
  override appendBatch(entries: readonly AppendEntry[]): Promise<void> {
    if (this.mode === 'open') return super.appendBatch(entries);
    if (this.mode === 'invisible') {
      return new Promise((resolve, reject) => {
        this.held.push(() => super.appendBatch(entries).then(resolve, reject));
      });
    }
    const appended = super.appendBatch(entries);
    return new Promise((resolve, reject) => {
      this.held.push(() => appended.then(resolve, reject));
    });
  }

  get heldCount(): number {
    return this.held.length;
  }

  release(): void {
    this.mode = 'open';
    for (const commit of this.held.splice(0)) commit();
  }
}

/** Says hello as `nick` with an inbox cursor: a client resuming after a reconnect. */
async function resume(address: string, nick: string, clientId: string, inbox: Cursor): Promise<RawConnection> {
  const raw = await RawConnection.open(address);
  raw.sendFrame({ type: 'hello', version: 2, nick, clientId, inbox });
  await raw.waitForFrame('welcome');
  return raw;
}

const texts = (raw: RawConnection) => framesOf(raw, 'direct').map((d) => d.text);

async function dm(from: RawConnection, to: string, text: string): Promise<void> {
  const clientMsgId = `${text}-${Math.random()}`;
  from.sendFrame({ type: 'dm', to, text, clientMsgId });
  await waitForFrameWhere(from, 'ack', (a) => a.clientMsgId === clientMsgId, `the ack of "${text}"`);
}

describe('inbox replay on resume', () => {
  it('gives a first session the inbox position in welcome and replays nothing older', async () => {
    const node = await startNode();
    const bob = await openRaw(node, 'bob');
    const alice = await openRaw(node, 'alice', 'c-alice');
    await dm(bob, 'alice', 'one');
    await waitFor(() => texts(alice).length === 1, 'alice to get "one" live');
    alice.destroy();

    const again = await openRaw(node, 'alice', 'c-alice');
    expect((await again.waitForFrame('welcome')).inbox).toEqual({ [node.nodeId]: 1 });
    await dm(bob, 'alice', 'two');
    await waitFor(() => texts(again).length === 1, 'alice to get "two" live');
    expect(texts(again)).toEqual(['two']);
    expect(framesOf(again, 'inbox_replayed')).toEqual([]);
  });

  it('replays what the cursor has not seen, in order, then delivers live', async () => {
    const node = await startNode();
    const bob = await openRaw(node, 'bob');
    const alice = await openRaw(node, 'alice', 'c-alice');
    for (const text of ['one', 'two', 'three']) await dm(bob, 'alice', text);
    await waitFor(() => texts(alice).length === 3, 'alice to get three DMs');
    alice.destroy();
    await dm(bob, 'alice', 'four');

    const resumed = await resume(node.address, 'alice', 'c-alice', { [node.nodeId]: 2 });
    const replayed = await resumed.waitForFrame('inbox_replayed');
    expect(replayed).toEqual({ type: 'inbox_replayed', cursor: { [node.nodeId]: 4 }, complete: true });
    expect(resumed.frames.map((f) => f.type)).toEqual(['welcome', 'direct', 'direct', 'inbox_replayed']);
    await dm(bob, 'alice', 'five');
    await waitFor(() => texts(resumed).length === 3, 'alice to get "five" live');
    expect(texts(resumed)).toEqual(['three', 'four', 'five']);
    expect(framesOf(resumed, 'direct').map((d) => d.id.seq)).toEqual([3, 4, 5]);
  });

  it('holds live DMs back while the replay is in pages and sends each once, in order', async () => {
    const node = await startNode({ limits: { ratePerSec: 10_000, rateBurst: 10_000 } });
    const bob = await openRaw(node, 'bob');
    (await openRaw(node, 'alice', 'c-alice')).destroy();
    await waitFor(() => node.chat.sessionCount === 1, 'the node to notice alice gone');
    // 300 DMs of 1,000 characters need several 256 KiB pages.
    const long = 'z'.repeat(1000);
    for (let i = 0; i < 300; i++)
      bob.sendFrame({ type: 'dm', to: 'alice', text: `${i} ${long}`, clientMsgId: `b${i}` });
    await waitFor(() => framesOf(bob, 'ack').length === 300, 'bob to get 300 acks');

    const resumed = await resume(node.address, 'alice', 'c-alice', {});
    const firstPage = await resumed.waitForFrame('inbox_replayed');
    expect(firstPage.complete).toBe(false);
    // Sent while the replay is incomplete: it comes with a later page, not live.
    await dm(bob, 'alice', 'during the replay');
    expect(texts(resumed).at(-1)).not.toBe('during the replay');
    for (let pages = 1; !(framesOf(resumed, 'inbox_replayed').at(-1)?.complete ?? false); ) {
      const last = framesOf(resumed, 'inbox_replayed').at(-1) as { cursor: Cursor };
      resumed.sendFrame({ type: 'inbox', cursor: last.cursor });
      pages++;
      await waitFor(() => framesOf(resumed, 'inbox_replayed').length === pages, `page ${pages}`);
    }
    expect(framesOf(resumed, 'direct').map((d) => d.id.seq)).toEqual(Array.from({ length: 301 }, (_, i) => i + 1));
    expect(texts(resumed).at(-1)).toBe('during the replay');
    await dm(bob, 'alice', 'live again');
    await waitFor(() => texts(resumed).at(-1) === 'live again', 'alice to get "live again"');
    expect(framesOf(resumed, 'direct')).toHaveLength(302);
  });

  it('sends a DM whose commit completes while the replay reads it once: by the replay, not again live', async () => {
    const store = new GatedStore();
    const node = await startNode({}, { store });
    const bob = await openRaw(node, 'bob');
    // Alice's connection drops: she is within her grace, so DMs to her are still taken.
    (await openRaw(node, 'alice', 'c-alice')).destroy();
    await waitFor(() => node.chat.sessionCount === 1, 'the node to notice');

    store.mode = 'visible';
    const clientMsgId = 'in-the-window';
    bob.sendFrame({ type: 'dm', to: 'alice', text: 'in the window', clientMsgId });
    await waitFor(() => store.heldCount === 1, 'the DM to be appended');
    const resumed = await resume(node.address, 'alice', 'c-alice', {});
    await resumed.waitForFrame('inbox_replayed');
    expect(texts(resumed)).toEqual(['in the window']);

    store.release();
    await waitForFrameWhere(bob, 'ack', (a) => a.clientMsgId === clientMsgId, 'the ack, after the commit');
    await dm(bob, 'alice', 'next');
    await waitFor(() => texts(resumed).includes('next'), 'alice to get "next" live');
    expect(texts(resumed)).toEqual(['in the window', 'next']);
  });

  it('delivers live, once, a DM whose commit completes just after the replay read the inbox', async () => {
    const store = new GatedStore();
    const node = await startNode({}, { store });
    const bob = await openRaw(node, 'bob');
    await openRaw(node, 'alice', 'c-alice');

    store.mode = 'invisible';
    const clientMsgId = 'after-the-read';
    bob.sendFrame({ type: 'dm', to: 'alice', text: 'after the read', clientMsgId });
    await waitFor(() => store.heldCount === 1, 'the DM to be appended');
    const resumed = await resume(node.address, 'alice', 'c-alice', {});
    expect(await resumed.waitForFrame('inbox_replayed')).toMatchObject({ cursor: {}, complete: true });

    store.release();
    await waitForFrameWhere(bob, 'ack', (a) => a.clientMsgId === clientMsgId, 'the ack, after the commit');
    await waitFor(() => texts(resumed).length === 1, 'alice to get it live');
    await dm(bob, 'alice', 'next');
    await waitFor(() => texts(resumed).includes('next'), 'alice to get "next" live');
    expect(texts(resumed)).toEqual(['after the read', 'next']);
  });

  it('acks a resent DM with its first id, not NO_SUCH_USER, after its recipient left for good', async () => {
    const node = await startNode();
    const alice = await openRaw(node, 'alice', 'c-alice');
    const bob = await openRaw(node, 'bob');
    const dmFrame = { type: 'dm', to: 'alice', text: 'hi', clientMsgId: 'dm-1' } as const;
    bob.sendFrame(dmFrame);
    const first = await waitForFrameWhere(bob, 'ack', (a) => a.clientMsgId === 'dm-1', 'the first ack');
    alice.sendFrame({ type: 'bye' });
    await waitFor(() => node.chat.sessionCount === 1, 'the node to let alice go');

    // The ack was lost on the way (say), so the client resends.
    bob.sendFrame(dmFrame);
    await waitFor(() => framesOf(bob, 'ack').length === 2, 'the second ack');
    expect(framesOf(bob, 'ack').map((a) => a.id)).toEqual([first.id, first.id]);
    expect(framesOf(bob, 'error')).toEqual([]);
  });

  it('closes with UNEXPECTED_FRAME an inbox frame when no replay is under way', async () => {
    const node = await startNode();
    const alice = await openRaw(node, 'alice');
    alice.sendFrame({ type: 'inbox', cursor: {} });
    expect((await expectFatalError(alice, 'UNEXPECTED_FRAME')).message).toContain('inbox');
  });
});

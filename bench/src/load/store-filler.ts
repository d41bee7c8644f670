import { performance } from 'node:perf_hooks';
import { type AppendEntry, LmdbStore } from '@meshchat/node';
import { type ChatMessage, packHlc } from '@meshchat/protocol';
import { benchClientMsgId, benchText } from './bench-text.js';
import { exitWithParent, generatorSpec, report, type StoreFillSpec } from './ipc.js';

// Writes a room's history straight into a node's LMDB store, through the node's own
// store class, before the node starts on that data directory: a million messages
// through clients would take minutes at the measured ack rates, this takes seconds.
// Every message has the identity the node itself would give it: origin = the node's
// id, seqs 1..count without gaps, hlcs rising with the seqs and all in the past (so
// the node's clock runs after them), one of FILL_SENDERS senders with unique
// clientMsgIds, and a 100-byte text. A process of its own, so that the bench's heap
// (and its garbage collector) stays as small as it is for the measurement after.

const FILL_SENDERS = 10;

async function fillStore(spec: StoreFillSpec): Promise<void> {
  const store = LmdbStore.open(spec.dataDir);
  try {
    // One millisecond apart, ending now.
    const firstMs = Date.now() - spec.messages;
    for (let from = 1; from <= spec.messages; from += spec.batch) {
      const entries: AppendEntry[] = [];
      for (let seq = from; seq < from + spec.batch && seq <= spec.messages; seq++) {
        entries.push({ message: messageOf(spec, seq, firstMs + seq) });
      }
      // The way a node appends what an anti-entropy batch brings: one call, one commit.
      await store.appendBatch(entries);
    }
  } finally {
    await store.close();
  }
}

function messageOf({ nodeId, room }: StoreFillSpec, seq: number, atMs: number): ChatMessage {
  const sender = seq % FILL_SENDERS;
  return {
    room,
    origin: nodeId,
    seq,
    hlc: packHlc(atMs, 0),
    from: { clientId: `history-${sender}`, nick: `h${sender}` },
    text: benchText(sender, seq, 0),
    clientMsgId: benchClientMsgId(sender, seq),
    sentAt: atMs,
  };
}

async function main(): Promise<void> {
  exitWithParent();
  const startedAt = performance.now();
  await fillStore(generatorSpec<StoreFillSpec>());
  await report({ type: 'filled', seconds: (performance.now() - startedAt) / 1000 });
}

main().catch(async (err: unknown) => {
  await report({ type: 'failed', message: `store filler: ${err instanceof Error ? err.message : String(err)}` });
  process.exit(1);
});

import { connect, type Socket } from 'node:net';
import { encodeFrame, PROTOCOL_VERSION } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import {
  type LoggedNode,
  logsOf,
  parseMetrics,
  sampleValue,
  startLoggedNode,
  waitForFullMesh,
} from '../../../test/harness/index.js';
import { connectClient, expectChatCarriesOn, onCleanup, type TestClient, waitFor } from './helpers.js';

// A fixed seed: a failure replays exactly. Frames per port, and connections open at once.
const SEED = 0x5eed_2026;
const FRAMES_PER_PORT = 2000;
const CONCURRENCY = 8;

/** xorshift32: small, fast and reproducible from its seed. */
class Random {
  constructor(private state: number) {}
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 2 ** 32;
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }
  string(): string {
    const chars = 'abcdefghijklmnopqrstuvwxyzABC0123456789@#-_ \u00e9\u4e2d';
    return Array.from({ length: this.int(12) }, () => this.pick([...chars])).join('');
  }
}

function framed(payload: Uint8Array, declared = payload.length): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt32BE(declared >>> 0, 0);
  out.set(payload, 4);
  return out;
}

// A random value of any msgpack shape, nested a little.
function randomValue(r: Random, depth = 0): unknown {
  switch (r.int(depth > 2 ? 5 : 7)) {
    case 0:
      return r.int(2 ** 31) - 2 ** 30;
    case 1:
      return r.next() * 1e6;
    case 2:
      return r.string();
    case 3:
      return r.pick([true, false, null]);
    case 4:
      return -r.int(1000);
    case 5:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.string(), randomValue(r, depth + 1)]));
  }
}

// Keys a frame might have, `room` and `to` left out: a fuzzed frame never joins a room
// or names a user, so nothing it sends can be a message a node should store.
const KEYS = [
  'type',
  'version',
  'nick',
  'clientId',
  'reqId',
  'text',
  'clientMsgId',
  'cursor',
  'nonce',
  'limit',
  'token',
];

function wrongShape(r: Random, types: readonly string[]): Buffer {
  if (r.int(4) === 0) return Buffer.from(encodeFrame(Array.from({ length: r.int(5) }, () => randomValue(r))));
  const frame: Record<string, unknown> = { type: r.int(5) === 0 ? r.string() : r.pick(types) };
  for (let i = r.int(5); i > 0; i--) frame[r.pick(KEYS)] = randomValue(r);
  return Buffer.from(encodeFrame(frame));
}

function mutated(r: Random, valid: readonly object[]): Buffer {
  const bytes = Buffer.from(encodeFrame(r.pick(valid)));
  switch (r.int(4)) {
    case 0:
      return bytes.subarray(0, 1 + r.int(bytes.length - 1));
    case 1:
      return Buffer.concat([bytes, r.bytes(1 + r.int(8))]);
    default:
      for (let i = 1 + r.int(3); i > 0; i--) bytes[r.int(bytes.length)] = r.int(256);
      return bytes;
  }
}

/** One fuzzed frame: random bytes, a lying length prefix, a wrong shape, or a mutated valid frame. */
function fuzzFrame(r: Random, types: readonly string[], valid: readonly object[]): Buffer {
  switch (r.int(5)) {
    case 0:
      return r.bytes(1 + r.int(64));
    case 1:
      // Oversized, zero, or longer than what follows (truncated).
      return framed(r.bytes(r.int(32)), r.pick([0, 2 ** 32 - 1, 70_000, 16 * 1024 * 1024, 40 + r.int(2000)]));
    case 2:
      return framed(r.bytes(1 + r.int(40)));
    case 3:
      return wrongShape(r, types);
    default:
      return mutated(r, valid);
  }
}

/** Sends `chunks` in random splits, half-closes, and waits for the node to close. */
async function sendAndHangUp(address: string, chunks: Buffer[], r: Random): Promise<void> {
  const [host, port] = address.split(':') as [string, string];
  const socket: Socket = connect({ host, port: Number(port) });
  onCleanup(() => socket.destroy());
  socket.on('error', () => {});
  socket.on('data', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const all = Buffer.concat(chunks);
  for (let at = 0; at < all.length; ) {
    const size = 1 + r.int(256);
    socket.write(all.subarray(at, at + size));
    at += size;
  }
  socket.end();
  await closed;
}

/**
 * Fuzzes one port with FRAMES_PER_PORT frames over many short connections, CONCURRENCY
 * at a time, each connection a random script; `between` runs after every round.
 */
async function fuzzPort(
  address: string,
  r: Random,
  script: (r: Random) => Buffer[],
  between: () => Promise<void>,
): Promise<number> {
  let frames = 0;
  let connections = 0;
  while (frames < FRAMES_PER_PORT) {
    const round: Promise<void>[] = [];
    for (let i = 0; i < CONCURRENCY && frames < FRAMES_PER_PORT; i++) {
      const chunks = script(r);
      frames += chunks.length;
      connections++;
      round.push(sendAndHangUp(address, chunks, new Random(r.int(2 ** 31) + 1)));
    }
    await Promise.all(round);
    await between();
  }
  return connections;
}

const CLIENT_TYPES = [
  'hello',
  'join',
  'leave',
  'send',
  'dm',
  'inbox',
  'bye',
  'history',
  'rooms',
  'who',
  'ping',
  'pong',
];
const PEER_TYPES = ['peer_hello', 'peer_auth', 'peer_error', 'heartbeat', 'message', 'sync_vectors', 'sync_batch'];

describe(`fuzzing a live node (seed ${SEED.toString(16)}, ${FRAMES_PER_PORT} frames per port)`, () => {
  it('keeps serving honest clients and peers through random and mutated frames on its client and peer ports, and stores nothing from them', async () => {
    const n1 = await startLoggedNode({ nodeId: 'n1' }, 'warn');
    const n2 = await startLoggedNode({ nodeId: 'n2', seeds: [n1.peerAddress] }, 'warn');
    await waitForFullMesh([n1, n2]);
    const incarnationOfN2 = n1.membership.get('n2')?.incarnation;
    const alice = await connectClient(n1.address, 'alice');
    const bob = await connectClient(n2.address, 'bob');
    await alice.client.join('lobby');
    await bob.client.join('lobby');
    let honest = 0;
    const chat = async () => {
      await expectChatCarriesOn(alice, bob);
      honest += 2;
    };
    const r = new Random(SEED);

    // Valid frames to mutate: none joins a room or names a user (see KEYS).
    const clientValid = [
      { type: 'hello', version: PROTOCOL_VERSION, nick: 'fuzzer', clientId: 'c-fuzz' },
      { type: 'send', room: 'general', text: 'never stored', clientMsgId: 'm-1' },
      { type: 'history', reqId: 1, room: 'lobby', limit: 10 },
      { type: 'who', reqId: 2, room: 'lobby' },
      { type: 'rooms', reqId: 3 },
      { type: 'leave', reqId: 4, room: 'lobby' },
      { type: 'inbox', cursor: { n1: 1 } },
      { type: 'ping', nonce: 7 },
    ];
    const clientConnections = await fuzzPort(
      n1.address,
      r,
      (r) => {
        const frames: Buffer[] = [];
        if (r.int(2) === 0) {
          const nick = `fz${r.int(1e6)}`;
          frames.push(
            Buffer.from(encodeFrame({ type: 'hello', version: PROTOCOL_VERSION, nick, clientId: `c-${nick}` })),
          );
        }
        for (let i = 1 + r.int(12); i > 0; i--) frames.push(fuzzFrame(r, CLIENT_TYPES, clientValid));
        return frames;
      },
      chat,
    );

    const message = {
      room: 'lobby',
      origin: 'n2',
      seq: 99,
      hlc: 1,
      from: { clientId: 'x', nick: 'x' },
      text: 'forged',
      clientMsgId: 'f',
      sentAt: 1,
    };
    const peerValid = [
      {
        type: 'peer_hello',
        version: PROTOCOL_VERSION,
        cluster: 'meshchat',
        nodeId: 'n2',
        incarnation: 1,
        peerAddress: '127.0.0.1:1',
        clientAddress: '127.0.0.1:2',
        httpAddress: '127.0.0.1:3',
        nonce: 'ab'.repeat(32),
      },
      { type: 'peer_auth', proof: 'cd'.repeat(32) },
      { type: 'message', ...message },
      { type: 'sync_batch', messages: [message], floors: [] },
      { type: 'heartbeat', incarnation: 1 },
    ];
    const peerConnections = await fuzzPort(
      n1.peerAddress,
      r,
      (r) => Array.from({ length: 1 + r.int(12) }, () => fuzzFrame(r, PEER_TYPES, peerValid)),
      chat,
    );
    // The fuzz reached the node's checks: most connections were refused with a reason.
    const refusedClients = sampleValue(parseMetrics((await n1.metrics.render()).text), 'meshchat_client_errors_total');
    expect(refusedClients).toBeGreaterThan(clientConnections / 2);
    expect(logsOf(n1, 'peer link refused').length).toBeGreaterThan(peerConnections / 2);

    // The honest link never dropped, the honest clients never failed over.
    expect(logsOf(n1, 'peer link down')).toEqual([]);
    expect(n1.membership.get('n2')).toMatchObject({ state: 'alive', incarnation: incarnationOfN2 });
    expect([alice, bob].every((c: TestClient) => c.client.isConnected)).toBe(true);
    await chat();

    // Only the honest messages are stored, on both nodes: no other room, no inbox.
    for (const node of [n1, n2] as LoggedNode[]) {
      await waitFor(
        () => node.clusterView().rooms.lobby?.messages === honest,
        `${node.nodeId} to hold ${honest} messages`,
      );
      expect(Object.keys(node.clusterView().rooms)).toEqual(['lobby']);
    }
    expect(logsOf(n1, 'unexpected error')).toEqual([]);
    console.log(
      `fuzz: ${clientConnections} client and ${peerConnections} peer connections, ${refusedClients} error frames to clients, ${honest} honest messages`,
    );
  });
});

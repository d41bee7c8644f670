import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, type PeerFrame, peerFrameSchemas } from '../src/index.js';

const member = {
  nodeId: 'node-b',
  peerAddress: '10.0.0.2:7101',
  clientAddress: '10.0.0.2:7001',
  httpAddress: '10.0.0.2:7201',
  incarnation: 1795726351974,
  state: 'alive' as const,
  heartbeat: 42,
};
const message = {
  room: 'general',
  origin: 'node-a',
  seq: 7,
  hlc: 1838823890627584,
  from: { clientId: 'c-1', nick: 'alice' },
  text: 'hi',
  clientMsgId: 'm-7',
  sentAt: 1795726455691,
};
const hex = 'ab'.repeat(32);

// One example of every peer frame type; `satisfies` makes a missing type a compile error.
const examples = {
  peer_hello: {
    type: 'peer_hello',
    version: 1,
    cluster: 'meshchat-local',
    nodeId: 'node-a',
    incarnation: 1795726351974,
    peerAddress: '10.0.0.1:7101',
    clientAddress: '10.0.0.1:7001',
    httpAddress: '10.0.0.1:7201',
    nonce: hex,
  },
  peer_auth: { type: 'peer_auth', proof: hex },
  peer_error: { type: 'peer_error', code: 'AUTH_FAILED', message: 'node "x" did not prove knowledge of the secret' },
  heartbeat: { type: 'heartbeat', heartbeat: 9, updates: [member, { ...member, nodeId: 'node-c', state: 'dead' }] },
  membership: { type: 'membership', members: [member] },
  ping_req: { type: 'ping_req', nonce: 3, target: 'node-c' },
  ping_ack: { type: 'ping_ack', nonce: 3, target: 'node-c', isAlive: false },
  probe: { type: 'probe', nonce: 11 },
  probe_ack: { type: 'probe_ack', nonce: 11 },
  message: { type: 'message', ...message },
  sync_vectors: {
    type: 'sync_vectors',
    rooms: { general: { 'node-a': 7, 'node-b': 3 } },
    presence: { 'node-a': { epoch: 1795726351974, version: 12 } },
    isReply: false,
  },
  sync_batch: {
    type: 'sync_batch',
    floors: [{ room: 'general', origin: 'node-c', seq: 40 }],
    messages: [message, { ...message, seq: 8 }],
  },
  stored: { type: 'stored', acks: [{ room: 'general', origin: 'node-a', seq: 41 }] },
  presence_snapshot: {
    type: 'presence_snapshot',
    nodeId: 'node-b',
    epoch: 1795726351974,
    version: 4,
    sessions: [{ clientId: 'c-2', nick: 'bob', rooms: ['general'] }],
  },
  presence_delta: {
    type: 'presence_delta',
    epoch: 1795726351974,
    version: 5,
    event: 'joined',
    clientId: 'c-2',
    nick: 'bob',
    room: 'random',
  },
} satisfies { [T in PeerFrame['type']]: Extract<PeerFrame, { type: T }> };

describe('peer frames', () => {
  for (const [type, frame] of Object.entries(examples)) {
    it(`round-trips ${type}`, () => {
      const { frames, error } = new FrameDecoder(peerFrameSchemas).push(encodeFrame(frame));
      expect(error).toBeUndefined();
      expect(frames).toEqual([frame]);
    });
  }

  it('covers every peer frame type', () => {
    expect(Object.keys(examples).sort()).toEqual(Object.keys(peerFrameSchemas).sort());
  });

  it('rejects a nonce that is not 64 hex digits, naming the field', () => {
    const { error } = new FrameDecoder(peerFrameSchemas).push(encodeFrame({ ...examples.peer_hello, nonce: 'xyz' }));
    expect(error?.code).toBe('INVALID_FRAME');
    expect(error?.message).toContain('nonce');
  });

  it('refuses a client frame on the peer port as UNKNOWN_TYPE', () => {
    const { error } = new FrameDecoder(peerFrameSchemas).push(encodeFrame({ type: 'hello', version: 1 }));
    expect(error?.code).toBe('UNKNOWN_TYPE');
  });
});

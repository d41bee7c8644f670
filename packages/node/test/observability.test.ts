import { describe, expect, it } from 'vitest';
import { httpGet, parseMetrics, sampleValue, startNode, waitFor } from '../../../test/harness/index.js';
import { connectClient, expectChatCarriesOn, framesOf, openRaw, type TestNode } from './helpers.js';

async function healthOf(node: TestNode): Promise<{ status: number; body: { status: string; reasons?: string[] } }> {
  const answer = await httpGet(`http://${node.httpAddress}/healthz`);
  return { status: answer.status, body: JSON.parse(answer.text) };
}

async function metricsOf(node: TestNode) {
  const answer = await httpGet(`http://${node.httpAddress}/metrics`);
  expect(answer.status).toBe(200);
  expect(answer.contentType).toContain('text/plain');
  return parseMetrics(answer.text);
}

describe('GET /healthz', () => {
  it('is 200 at once for a node with no seeds (nothing to join)', async () => {
    const node = await startNode();
    expect(await healthOf(node)).toEqual({ status: 200, body: expect.objectContaining({ status: 'ok' }) });
  });

  it('is 503 naming the reason while a node with seeds has linked to no peer, then 200 once it joined', async () => {
    const first = await startNode({ nodeId: 'health-first' });
    // A seed where nothing listens: the node cannot join.
    const lonely = await startNode({ nodeId: 'health-lonely', seeds: ['127.0.0.1:1'] });
    const refused = await healthOf(lonely);
    expect(refused.status).toBe(503);
    expect(refused.body.status).toBe('not ready');
    expect(refused.body.reasons?.join(' ')).toContain('not linked to any peer');

    const joining = await startNode({ nodeId: 'health-joining', seeds: [first.peerAddress] });
    await waitFor(async () => (await healthOf(joining)).status === 200, 'the joining node to report ready');
    expect((await healthOf(lonely)).status).toBe(503);
  });
});

describe('GET /metrics', () => {
  it('counts accepted, relayed and delivered messages, acks with their latency, sessions and errors, per node', async () => {
    const a = await startNode({ nodeId: 'metrics-a' });
    const b = await startNode({ nodeId: 'metrics-b', seeds: [a.peerAddress] });
    await waitFor(async () => (await healthOf(b)).status === 200, 'b to join a');
    const alice = await connectClient(a.address, 'alice');
    const bob = await connectClient(b.address, 'bob');
    await alice.client.join('lobby');
    await bob.client.join('lobby');
    await expectChatCarriesOn(alice, bob);
    const raw = await openRaw(a, 'broken');
    raw.sendFrame({ type: 'join', reqId: 1, room: 'NOT VALID' });
    await waitFor(() => framesOf(raw, 'error').length === 1, 'the join refused');

    // Each node sent one message (acked once) and delivered both to its one member.
    for (const node of [a, b]) {
      const samples = await metricsOf(node);
      const node_ = { node: node.nodeId };
      expect(sampleValue(samples, 'meshchat_messages_accepted_total', node_)).toBe(1);
      expect(sampleValue(samples, 'meshchat_ack_latency_seconds_count', node_)).toBe(1);
      expect(sampleValue(samples, 'meshchat_messages_delivered_total', node_)).toBe(2);
      expect(sampleValue(samples, 'meshchat_messages_relayed_total', { direction: 'out' })).toBe(1);
      expect(sampleValue(samples, 'meshchat_messages_relayed_total', { direction: 'in' })).toBe(1);
      expect(sampleValue(samples, 'meshchat_peer_links')).toBe(1);
      expect(sampleValue(samples, 'meshchat_members', { state: 'alive' })).toBe(1);
      expect(sampleValue(samples, 'meshchat_members', { state: 'dead' })).toBe(0);
      expect(sampleValue(samples, 'meshchat_rooms_active')).toBe(1);
      expect(sampleValue(samples, 'meshchat_ready')).toBe(1);
      expect(sampleValue(samples, 'meshchat_event_loop_lag_seconds', { stat: 'max' })).toBeGreaterThanOrEqual(0);
      expect(sampleValue(samples, 'meshchat_store_bytes')).toBeGreaterThan(0);
      // Both messages committed here, in one group commit or two, each with its wait.
      expect(sampleValue(samples, 'meshchat_store_committed_messages_total')).toBe(2);
      const commits = sampleValue(samples, 'meshchat_store_commit_seconds_count') ?? 0;
      expect([1, 2]).toContain(commits);
      expect(sampleValue(samples, 'meshchat_store_commit_wait_seconds_count')).toBe(commits);
      expect(sampleValue(samples, 'meshchat_store_commit_seconds_sum')).toBeGreaterThan(0);
    }
    const onA = await metricsOf(a);
    expect(sampleValue(onA, 'meshchat_sessions')).toBe(2);
    expect(sampleValue(onA, 'meshchat_client_connections')).toBe(2);
    expect(sampleValue(onA, 'meshchat_client_errors_total', { code: 'INVALID_ROOM' })).toBe(1);
    expect(sampleValue(await metricsOf(b), 'meshchat_client_errors_total', { code: 'INVALID_ROOM' })).toBeUndefined();
  });

  it('counts a client that comes back with its inbox cursor as a resume, and a peer declared dead', async () => {
    const a = await startNode({ nodeId: 'resume-a' });
    const b = await startNode({ nodeId: 'resume-b', seeds: [a.peerAddress] });
    const carol = await connectClient([b.address, a.address], 'carol', { random: () => 0.99 });
    await waitFor(async () => (await healthOf(b)).status === 200, 'b to join a');
    const server = carol.client.server;
    const [onNode, other] = server === a.address ? [a, b] : [b, a];
    await onNode.stop();
    await waitFor(() => carol.client.isConnected && carol.client.server === other.address, 'carol to fail over');
    await waitFor(
      async () => sampleValue(await metricsOf(other), 'meshchat_client_resumes_total') === 1,
      'one resume counted',
    );
    await waitFor(
      async () => sampleValue(await metricsOf(other), 'meshchat_peers_declared_dead_total') === 1,
      'the stopped peer counted dead',
    );
  });
});

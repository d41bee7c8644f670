// Faults on single peer links (in-process nodes behind LinkFaults: every peer link
// passes through a proxy that can cut it, or stall or delay one direction), bad peers on the peer
// port, and anti-entropy after a node was cut off.
import { connect } from 'node:net';
import { encodeFrame, FrameDecoder, type PeerFrame, peerFrameSchemas } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import {
  type LoggedNode,
  logsOf,
  NodeProcess,
  onCleanup,
  startFaultyCluster,
  startProcessCluster,
  type TestClient,
  waitFor,
  waitForFullMesh,
  waitForMemberState,
  waitForViews,
} from '../../../test/harness/index.js';
import {
  CLUSTER_CONFIG,
  expectExactlyOnceInSenderOrder,
  expectSameRoomEverywhere,
  joinedClient,
  RoomWatcher,
  sendBurst,
  Traffic,
  waitForDelivery,
} from './cluster-helpers.js';

const ROOM = 'general';
const DEATH_LOGS = ['peer declared dead', 'peer reported dead by gossip'];
const PAIRS = [
  ['n1', 'n2'],
  ['n1', 'n3'],
  ['n2', 'n3'],
] as const;

/** Waits until n1 and n2 both see their link down. */
async function waitForCut(n1: LoggedNode, n2: LoggedNode): Promise<void> {
  await waitForViews(
    [n1, n2],
    ([v1, v2]) =>
      v1?.members.find((m) => m.nodeId === 'n2')?.isLinked === false &&
      v2?.members.find((m) => m.nodeId === 'n1')?.isLinked === false,
    'n1 and n2 to see their link down',
  );
}

/** Every "dead" verdict any of `nodes` logged, as "observer -> peer". */
function deathVerdicts(nodes: readonly LoggedNode[]): string[] {
  return nodes.flatMap((n) =>
    n.logs.filter((l) => DEATH_LOGS.includes(l.msg)).map((l) => `${n.nodeId} -> ${String(l.peer)} (${l.msg})`),
  );
}

/** Samples every node's membership view until stopped; collects any member ever seen dead. */
function watchForDeaths(nodes: readonly LoggedNode[]): { stop(): string[] } {
  const seen = new Set<string>();
  const timer = setInterval(() => {
    for (const node of nodes) {
      for (const m of node.membership.view()) if (m.state === 'dead') seen.add(`${node.nodeId} saw ${m.nodeId} dead`);
    }
  }, 10);
  onCleanup(() => clearInterval(timer));
  return {
    stop() {
      clearInterval(timer);
      return [...seen];
    },
  };
}

describe('a peer link cut and restored while messages flow', () => {
  it('no node is declared dead; the cut-off pair gets each other’s messages through the third node by anti-entropy; every client gets every message once, in order, and all nodes hold the same ids', async () => {
    const { nodes, faults } = await startFaultyCluster(3, { config: CLUSTER_CONFIG });
    const [n1, n2] = nodes as [LoggedNode, LoggedNode, LoggedNode];
    await waitForFullMesh(nodes);
    for (const [a, b] of PAIRS) await waitFor(() => faults.linkCount(a, b) === 1, `exactly one link ${a}-${b}`);
    const deaths = watchForDeaths(nodes);
    const watchers = await Promise.all(nodes.map((n) => RoomWatcher.open(n, `w${n.nodeId}`, ROOM)));
    const senders = await Promise.all(nodes.map((n) => joinedClient(n, `s${n.nodeId}`, ROOM)));
    const traffic = new Traffic(
      senders.map((s) => s.client),
      ROOM,
    );
    await traffic.waitForMore(15, 'before the cut');

    faults.cut('n1', 'n2');
    await waitForCut(n1, n2);
    await traffic.waitForMore(30, 'while n1-n2 is cut');
    // Still cut: what n1's client sent reaches n2's client only by way of n3 (anti-entropy).
    const fromN1 = traffic.acked.filter((s) => s.id.origin === 'n1');
    await waitForDelivery([watchers[1] as RoomWatcher], fromN1);
    expect(faults.linkCount('n1', 'n2')).toBe(0);

    // Presence does not travel through n3: a client joining on n2 now is seen on n1
    // once the link is back (the presence snapshot sent on every link up).
    const visitor = await joinedClient(n2, 'visitor', ROOM);

    faults.heal('n1', 'n2');
    await waitForFullMesh(nodes);
    await waitFor(() => (watchers[0] as RoomWatcher).hasPresence('joined', 'visitor', 'n2'), 'n1 to see visitor on n2');
    const who = await (senders[0] as TestClient).client.who(ROOM);
    expect(who.filter((m) => m.nick === 'visitor')).toEqual([expect.objectContaining({ nodeId: 'n2' })]);
    await visitor.client.close();
    await traffic.waitForMore(15, 'after the heal');
    const sent = await traffic.stop();

    await waitForDelivery(watchers, sent);
    for (const watcher of watchers) expectExactlyOnceInSenderOrder(watcher, sent);
    await expectSameRoomEverywhere(nodes, ROOM, sent);
    expect(deaths.stop(), 'members seen dead').toEqual([]);
    expect(deathVerdicts(nodes)).toEqual([]);
  });
});

describe('a peer link cut for good', () => {
  // Presence converges like messages: while the n1-n2 link is cut, anti-entropy rounds
  // with n3 carry n3's copy of n2's presence snapshot to n1.
  it('presence on n2 reaches n1 through n3 while their own link is cut, as n2’s messages do', async () => {
    const { nodes, faults } = await startFaultyCluster(3, { config: CLUSTER_CONFIG });
    const [n1, n2] = nodes as [LoggedNode, LoggedNode, LoggedNode];
    await waitForFullMesh(nodes);
    const watcher = await RoomWatcher.open(n1, 'wn1', ROOM);
    faults.cut('n1', 'n2');
    await waitForCut(n1, n2);

    const visitor = await joinedClient(n2, 'visitor', ROOM);
    const sent = await sendBurst(visitor.client, ROOM, 1, 'hello from n2');
    await waitForDelivery([watcher], sent);
    expect(watcher.hasPresence('joined', 'visitor', 'n2'), 'n1 saw visitor join on n2').toBe(true);
  });
});

describe('one slow link', () => {
  it('stalling one direction of one link for longer than deadAfterMs, again and again, gets no healthy node declared dead: indirect probes through the third node keep it alive', async () => {
    const { nodes, faults } = await startFaultyCluster(3, { config: CLUSTER_CONFIG });
    const [n1, n2] = nodes as [LoggedNode, LoggedNode, LoggedNode];
    await waitForFullMesh(nodes);
    const deaths = watchForDeaths(nodes);
    const watchers = await Promise.all(nodes.map((n) => RoomWatcher.open(n, `w${n.nodeId}`, ROOM)));
    const senders = await Promise.all(nodes.map((n) => joinedClient(n, `s${n.nodeId}`, ROOM)));
    const traffic = new Traffic(
      senders.map((s) => s.client),
      ROOM,
    );

    const rescued = () => logsOf(n2, 'peer no longer suspected', { peer: 'n1', why: 'an indirect probe reached it' });
    for (const [from, to] of [
      ['n1', 'n2'],
      ['n1', 'n2'],
      ['n2', 'n1'],
    ] as const) {
      const observer = to === 'n2' ? n2 : n1;
      const rescues = () =>
        logsOf(observer, 'peer no longer suspected', { peer: from, why: 'an indirect probe reached it' }).length;
      const before = rescues();
      faults.stall(from, to);
      // Each rescue follows suspectAfterMs of silence, so three of them mean the stall
      // outlasted deadAfterMs: without indirect probes the peer would be dead by now.
      await waitFor(() => rescues() >= before + 3, `${to} to be rescued from suspecting ${from} three times`);
      faults.release(from, to);
      await waitFor(
        () => observer.membership.view().some((m) => m.nodeId === from && m.state === 'alive' && m.isLinked),
        `${to} to hear ${from} directly again`,
      );
    }
    expect(rescued().length).toBeGreaterThanOrEqual(6);

    await traffic.waitForMore(10, 'after the stalls');
    const sent = await traffic.stop();
    await waitForDelivery(watchers, sent);
    for (const watcher of watchers) expectExactlyOnceInSenderOrder(watcher, sent);
    expect(deaths.stop(), 'members seen dead').toEqual([]);
    expect(deathVerdicts(nodes)).toEqual([]);
    await waitForFullMesh(nodes);
  });

  // An indirect probe keeps counting after the heartbeat it was sent in: a round runs
  // for suspectAfterMs, and a positive ping_ack of any round clears the suspicion. Here
  // n3 reaches n1 only through a helper link 250 ms slow, longer than one heartbeat.
  it('an indirect probe answered later than one heartbeat still counts: a node behind a stalled link, reached through a helper 250 ms away, is not declared dead', async () => {
    const { nodes, faults } = await startFaultyCluster(3, { config: CLUSTER_CONFIG });
    const n2 = nodes[1] as LoggedNode;
    await waitForFullMesh(nodes);
    faults.delay('n3', 'n2', 250);
    faults.stall('n1', 'n2');
    const rescued = () => logsOf(n2, 'peer no longer suspected', { peer: 'n1', why: 'an indirect probe reached it' });
    const verdicts = () => logsOf(n2, 'peer declared dead', { peer: 'n1' });
    await waitFor(() => rescued().length > 0 || verdicts().length > 0, 'n2 to rescue n1 or to declare it dead');
    expect(verdicts().map((l) => l.why)).toEqual([]);
  });
});

describe('anti-entropy after a partition', () => {
  it('a node cut off from every peer while messages are sent on both sides catches up when the partition heals: its clients get every message once in order and every node holds the same ids', async () => {
    // Senders may burst: the catch-up is larger than one anti-entropy batch (500).
    const limits = { ratePerSec: 10_000, rateBurst: 10_000 };
    const { nodes, faults } = await startFaultyCluster(3, { config: { ...CLUSTER_CONFIG, limits } });
    const [n1, n2, n3] = nodes as [LoggedNode, LoggedNode, LoggedNode];
    await waitForFullMesh(nodes);
    const watchers = await Promise.all(nodes.map((n) => RoomWatcher.open(n, `w${n.nodeId}`, ROOM)));
    const senders = await Promise.all(nodes.map((n) => joinedClient(n, `s${n.nodeId}`, ROOM)));
    const before = (await Promise.all(senders.map((s) => sendBurst(s.client, ROOM, 5, 'before')))).flat();
    await waitForDelivery(watchers, before);

    faults.isolate('n3', ['n1', 'n2']);
    await waitForMemberState([n1, n2], 'n3', ['dead']);
    await waitForMemberState([n3], 'n1', ['dead']);
    await waitForMemberState([n3], 'n2', ['dead']);
    // Both sides of the partition go on accepting messages.
    const majority = (
      await Promise.all(senders.slice(0, 2).map((s, i) => sendBurst(s.client, ROOM, i === 0 ? 600 : 20, 'apart')))
    ).flat();
    const minority = await sendBurst((senders[2] as (typeof senders)[2]).client, ROOM, 20, 'alone');
    await waitForDelivery(watchers.slice(0, 2), majority);
    await waitForDelivery([watchers[2] as RoomWatcher], minority);
    expect((watchers[2] as RoomWatcher).messages.some((m) => m.origin !== 'n3' && m.text.startsWith('apart'))).toBe(
      false,
    );

    faults.rejoin('n3', ['n1', 'n2']);
    await waitForFullMesh(nodes);
    const sent = [...before, ...majority, ...minority];
    await waitForDelivery(watchers, sent);
    for (const watcher of watchers) expectExactlyOnceInSenderOrder(watcher, sent);
    await expectSameRoomEverywhere(nodes, ROOM, sent);
  });
});

/** A raw socket on a node's peer port that records the frames the node sends back. */
async function openPeerSocket(
  address: string,
): Promise<{ frames: PeerFrame[]; write(b: Uint8Array): void; closed: () => boolean }> {
  const [host, port] = address.split(':');
  const socket = connect({ host, port: Number(port) });
  onCleanup(() => socket.destroy());
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const decoder = new FrameDecoder(peerFrameSchemas, { maxFrameBytes: 8 * 1024 * 1024 });
  const frames: PeerFrame[] = [];
  let isClosed = false;
  socket.on('data', (chunk: Buffer) => frames.push(...decoder.push(chunk).frames));
  socket.on('error', () => {});
  socket.on('close', () => {
    isClosed = true;
  });
  return { frames, write: (b) => socket.write(b), closed: () => isClosed };
}

describe('bad peers on the peer port (node processes)', () => {
  async function clusterWithFlow(): Promise<{ nodes: NodeProcess[]; expectChatCarriesOn(): Promise<void> }> {
    const nodes = await startProcessCluster(3, { config: CLUSTER_CONFIG });
    await waitForFullMesh(nodes);
    const watchers = await Promise.all(nodes.map((n) => RoomWatcher.open(n, `w${n.nodeId}`, ROOM)));
    const sender = await joinedClient(nodes[0] as NodeProcess, 'sender', ROOM);
    return {
      nodes,
      async expectChatCarriesOn() {
        const sent = await sendBurst(sender.client, ROOM, 5, 'still');
        await waitForDelivery(watchers, sent);
        for (const watcher of watchers) expectExactlyOnceInSenderOrder(watcher, sent);
        const views = await waitForFullMesh(nodes);
        // The intruder never became a member, on any node.
        for (const view of views) expect(view.members.map((m) => m.nodeId).sort()).toEqual(['n1', 'n2', 'n3']);
      },
    };
  }

  it.each([
    {
      fault: 'a wrong cluster secret',
      config: { clusterSecret: 'not-the-cluster-secret-at-all' },
      code: 'AUTH_FAILED',
      text: 'did not prove knowledge of the cluster secret',
    },
    {
      fault: 'a wrong cluster name',
      config: { cluster: 'another-cluster' },
      code: 'CLUSTER_MISMATCH',
      text: 'another-cluster',
    },
  ])(
    'a node with $fault is refused and both sides log why; the cluster stays a full mesh and relays',
    async ({ config, code, text }) => {
      const { nodes, expectChatCarriesOn } = await clusterWithFlow();
      const n1 = nodes[0] as NodeProcess;
      const intruder = await NodeProcess.start({
        ...CLUSTER_CONFIG,
        ...config,
        nodeId: 'intruder',
        seeds: [n1.addresses.peers],
      });

      const refusal = await n1.waitForLog('peer link refused', { code });
      expect(refusal.msg).toContain(text);
      expect(refusal.level).toBe(40);
      // The intruder logs the same verdict: its own refusal of n1, or n1's peer_error.
      await waitFor(
        () =>
          intruder.logs.some(
            (l) =>
              l.level === 40 &&
              l.code === code &&
              (l.msg.startsWith('peer link refused') || l.msg.startsWith('peer refused the link')),
          ),
        `the intruder to log a ${code} refusal`,
      );
      await expectChatCarriesOn();
    },
  );

  it('garbage, an oversized frame, a frame before the handshake and a hello of another protocol version are each refused with a peer_error and logged; the cluster stays a full mesh and relays', async () => {
    const { nodes, expectChatCarriesOn } = await clusterWithFlow();
    const n1 = nodes[0] as NodeProcess;
    const cases = [
      { bytes: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), code: 'FRAME_TOO_LARGE' },
      { bytes: Buffer.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]), code: 'MALFORMED' },
      { bytes: encodeFrame({ type: 'heartbeat', heartbeat: 1, updates: [] }), code: 'NOT_READY' },
      {
        bytes: encodeFrame({
          type: 'peer_hello',
          version: 99,
          cluster: 'meshchat',
          nodeId: 'from-the-future',
          incarnation: 1,
          peerAddress: '127.0.0.1:1',
          clientAddress: '127.0.0.1:2',
          httpAddress: '127.0.0.1:3',
          nonce: 'ab'.repeat(32),
        }),
        code: 'VERSION_MISMATCH',
      },
    ];
    for (const { bytes, code } of cases) {
      const socket = await openPeerSocket(n1.addresses.peers);
      socket.write(bytes);
      await waitFor(socket.closed, `n1 to close a peer connection that sent ${code} input`);
      expect(socket.frames[0]?.type, 'the node introduces itself first').toBe('peer_hello');
      expect(socket.frames.find((f) => f.type === 'peer_error')).toMatchObject({ code });
      await n1.waitForLog('peer link refused', { code });
    }
    await expectChatCarriesOn();
  });
});

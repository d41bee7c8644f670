import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Socket } from 'node:net';
import {
  type ClientTransport,
  clientFrameSchemas,
  encodeFrame,
  type PeerFrame,
  serverAddress,
  WEBSOCKET_PATH,
  webSocketUrl,
} from '@meshchat/protocol';
import type { Logger } from 'pino';
import { TokenVerifier } from './auth/token-verifier.js';
import { ChatService, type PresenceDelta } from './chat/chat-service.js';
import { isInboxRoom } from './chat/local-rooms.js';
import { checkNick } from './chat/rules.js';
import { Membership } from './cluster/membership.js';
import { Mesh } from './cluster/mesh.js';
import type { NodeConfig } from './config/schema.js';
import {
  CLOSE_FLUSH_MS,
  FULL_SYNC_EVERY_TICKS,
  INDIRECT_PROBES,
  PEER_HANDSHAKE_TIMEOUT_MS,
  TLS_EXPIRY_WARNING_MS,
} from './constants.js';
import { type ClusterView, roomVectors } from './http/cluster-view.js';
import { type HttpServer, listenHttp } from './http/http-server.js';
import { NodeMetrics } from './http/metrics.js';
import { Readiness } from './http/readiness.js';
import { StaticFiles } from './http/static-files.js';
import { defaultWebRoot } from './http/web-root.js';
import { AntiEntropy } from './replication/anti-entropy.js';
import { OriginRecovery, ownerOfOrigin } from './replication/origin-recovery.js';
import { Replicator } from './replication/replicator.js';
import { StoredAcks } from './replication/stored-acks.js';
import { WriteQuorum } from './replication/write-quorum.js';
import { LmdbStore } from './store/lmdb-store.js';
import { MemoryStore } from './store/memory-store.js';
import type { MessageStore } from './store/message-store.js';
import { Retention } from './store/retention.js';
import type { ByteChannel } from './transport/byte-channel.js';
import { ConnectionLimits } from './transport/connection-limits.js';
import { FrameConnection } from './transport/frame-connection.js';
import { SocketChannel } from './transport/socket-channel.js';
import { type ListenOptions, listenTcp, type TcpListener } from './transport/tcp-listener.js';
import {
  clientServerOptions,
  describeTlsFailure,
  httpServerOptions,
  loadTlsMaterial,
  peerDialOptions,
  peerServerOptions,
} from './transport/tls-options.js';
import { webSocketEndpoint } from './transport/websocket-endpoint.js';

export interface ChatNode {
  readonly nodeId: string;
  /** Bound addresses, with the real ports when 0 was configured. */
  readonly clientAddress: { host: string; port: number };
  readonly peerAddress: string;
  readonly httpAddress: string;
  readonly chat: ChatService;
  readonly membership: Membership;
  readonly metrics: NodeMetrics;
  clusterView(): ClusterView;
  stop(): Promise<void>;
}

export interface CreateNodeOptions {
  log: Logger;
  store?: MessageStore;
}

/**
 * Wires a node together: the one place where sockets, timers and the state machines
 * (chat, membership, replication) meet.
 */
export async function createNode(config: NodeConfig, options: CreateNodeOptions): Promise<ChatNode> {
  const { log } = options;
  // Before anything opens: a key that cannot be read stops the node with the field named.
  const verifier = config.auth.required
    ? new TokenVerifier(config.auth, { checkNick: (nick) => checkNick(nick, config.limits, true) })
    : undefined;
  const tls = config.tls ? { ...config.tls, material: loadTlsMaterial(config.tls) } : undefined;
  const advertiseHost = config.advertiseHost ?? (isWildcard(config.host) ? '127.0.0.1' : config.host);
  const timers = new Set<NodeJS.Timeout>();
  const every = (ms: number, task: () => void) => timers.add(setInterval(task, ms));
  const readiness = new Readiness({ hasSeeds: config.seeds.length > 0, isOriginKnown: () => recovery.isDone });
  const metrics = new NodeMetrics(config.nodeId, {
    clientConnections: () => connectionLimits.open,
    sessions: () => chat.readySessionCount,
    activeRooms: () => chat.activeRoomCount,
    storedRooms: () => store.rooms().length,
    storeBytes: () => (store instanceof LmdbStore ? fileSize(store.path) : 0),
    peerLinks: () => mesh.linkCount,
    memberStates: () => membership.others(),
    antiEntropyBacklog: () => antiEntropy.backlog,
    antiEntropySent: () => antiEntropy.sent,
    heldBack: () => replicator.heldBack,
    awaitingReplicas: () => quorum.waitingCount,
    isReady: () => readiness.isReady,
  });
  let store: MessageStore;
  try {
    store =
      options.store ??
      (config.store === 'memory'
        ? new MemoryStore()
        : LmdbStore.open(config.dataDir, {
            groupCommitMs: config.groupCommitMs,
            onCommitted: (stats) => metrics.storeCommitted(stats),
          }));
  } catch (err) {
    metrics.stop();
    throw err;
  }
  readiness.storeOpened();

  const tlsOn = (listener: 'clients' | 'peers' | 'http'): ListenOptions['onTlsError'] => {
    return (err, remote) => {
      log.warn({ remote, listener, reason: describeTlsFailure(err) }, `TLS handshake failed on the ${listener} port`);
      metrics.tlsHandshakeFailed(listener);
    };
  };
  // Listeners first, so the addresses gossiped to peers carry the real ports.
  let onClientChannel: (channel: ByteChannel) => void = (channel) => channel.destroy();
  let onPeerSocket: (socket: Socket) => void = (socket) => socket.destroy();
  const listeners: { close(): Promise<void> }[] = [];
  // Browsers speak the client protocol over WebSocket on the HTTP port, beside the page.
  const webSockets = webSocketEndpoint({ maxFrameBytes: config.limits.maxFrameBytes }, (c) => onClientChannel(c));
  listeners.push({ close: async () => webSockets.close() });
  let clientListener: TcpListener;
  let peerListener: TcpListener;
  let http: HttpServer;
  try {
    clientListener = await listenTcp(
      config.host,
      config.clientPort,
      'clients',
      (s) => onClientChannel(new SocketChannel(s)),
      tls?.clients
        ? { tls: clientServerOptions(tls.material, config.limits.handshakeTimeoutMs), onTlsError: tlsOn('clients') }
        : {},
    );
    listeners.push(clientListener);
    peerListener = await listenTcp(
      config.host,
      config.peerPort,
      'peers',
      (s) => onPeerSocket(s),
      tls?.peers ? { tls: peerServerOptions(tls.material, PEER_HANDSHAKE_TIMEOUT_MS), onTlsError: tlsOn('peers') } : {},
    );
    listeners.push(peerListener);
    http = await listenHttp(
      config.host,
      config.httpPort,
      {
        routes: {
          '/healthz': () => {
            const reasons = readiness.reasons();
            return reasons.length === 0
              ? { status: 200, body: { status: 'ok', nodeId: config.nodeId } }
              : { status: 503, body: { status: 'not ready', nodeId: config.nodeId, reasons } };
          },
          '/cluster': () => ({ status: 200, body: clusterView() }),
          '/metrics': async () => {
            const { contentType, text } = await metrics.render();
            return { status: 200, body: text, contentType };
          },
        },
        files: new StaticFiles(config.webRoot ?? defaultWebRoot()),
        upgrades: { [WEBSOCKET_PATH]: (req, socket, head) => webSockets.handleUpgrade(req, socket, head) },
      },
      // WebSocket upgrades ride on the same listener: wss:// when it speaks TLS.
      tls?.http ? { tls: httpServerOptions(tls.material), onTlsError: tlsOn('http') } : {},
    );
    listeners.push(http);
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    metrics.stop();
    await store.close();
    throw err;
  }
  const self = {
    nodeId: config.nodeId,
    peerAddress: `${advertiseHost}:${peerListener.port}`,
    // Clients told of this node (welcome, servers) reach it with TLS when it speaks TLS.
    clientAddress: serverAddress(`${advertiseHost}:${clientListener.port}`, tls?.clients === true),
    httpAddress: `${advertiseHost}:${http.port}`,
  };

  const membership: Membership = new Membership({
    self,
    // Above any incarnation this node used before a restart, without storing one.
    initialIncarnation: Date.now(),
    timing: { ...config.heartbeat, indirectProbes: INDIRECT_PROBES, fullSyncEveryTicks: FULL_SYNC_EVERY_TICKS },
    now: Date.now,
    random: Math.random,
    send: (nodeId, frame) => mesh.send(nodeId, frame),
    onChange: (member, previous) => {
      if (member.state === 'dead' && previous !== 'dead') {
        metrics.peerDeclaredDead();
        mesh.disconnectDead(member.nodeId);
        chat.presence.nodeDied(member.nodeId);
        antiEntropy.forget(member.nodeId);
      }
      // A member heard of for the first time is dialled now, not at the next heartbeat:
      // a restarted node then catches up from every peer at once.
      if (previous === undefined && member.state !== 'dead') mesh.maintain(Date.now());
      chat.clusterChanged();
    },
    log,
  });

  const mesh: Mesh = new Mesh({
    identity: {
      cluster: config.cluster,
      clusterSecret: config.clusterSecret,
      hello: () => ({ ...self, cluster: config.cluster, incarnation: membership.selfState().incarnation }),
    },
    seeds: config.seeds,
    ...(tls?.peers ? { dialTls: (host: string) => peerDialOptions(tls.material, host) } : {}),
    wantedPeers: () =>
      new Map(membership.others().map((m) => [m.nodeId, { address: m.peerAddress, isDead: m.state === 'dead' }])),
    random: Math.random,
    log,
    handlers: {
      onLinkUp: (nodeId, hello) => {
        readiness.linkedToPeer();
        membership.onLinkUp(hello);
        mesh.send(nodeId, chat.presence.snapshot());
        antiEntropy.linkUp(nodeId);
      },
      onLinkDown: (nodeId) => {
        membership.onLinkDown(nodeId);
        antiEntropy.forget(nodeId);
        quorum.onLinkDown(nodeId);
      },
      onFrame: (nodeId, frame, raw) => {
        membership.heardFrom(nodeId);
        routePeerFrame(nodeId, frame, raw);
      },
    },
  });

  const antiEntropy: AntiEntropy = new AntiEntropy({
    store,
    presence: {
      versions: () => chat.presence.versions(),
      reconcile: (nodeId, theirs) => chat.presence.reconcile(nodeId, theirs, (frame) => mesh.send(nodeId, frame)),
    },
    send: (nodeId, frame) => mesh.send(nodeId, frame),
    isLinked: (nodeId) => mesh.isLinked(nodeId),
    outboundBytes: (nodeId) => mesh.outboundBytes(nodeId),
    schedule: (task, ms) => (ms === 0 ? setImmediate(task) : setTimeout(task, ms)),
    push: {
      now: Date.now,
      // Two rounds: time for the owner to have pushed, or for a lost copy to show.
      retryAfterMs: 2 * config.antiEntropyMs,
      linkedOwnerOf: (origin) => ownerOfOrigin(origin, mesh.linkedPeers),
    },
    log,
  });

  const quorum = new WriteQuorum({ ackReplicas: config.ackReplicas, reachablePeers: () => mesh.linkedPeers });
  const storedAcks = new StoredAcks({ send: (nodeId, frame) => mesh.send(nodeId, frame), defer: setImmediate });

  // A gap on a link asks that peer for a round of anti-entropy, at most once a second.
  const lastSyncRequest = new Map<string, number>();
  const replicator = new Replicator({
    nodeId: config.nodeId,
    store,
    deliver: (message, encoded) => chat.deliverReplicated(message, encoded),
    showsBeforeCommit: (room) => !isInboxRoom(room),
    onStored: (from, message) => {
      storedAcks.add(from, message.room, message.origin, store.highestSeq(message.room, message.origin));
      if (message.origin === config.nodeId) recovery.onStored();
    },
    requestSync: (nodeId) => {
      const now = Date.now();
      if ((lastSyncRequest.get(nodeId) ?? 0) > now - 1000) return;
      lastSyncRequest.set(nodeId, now);
      antiEntropy.start(nodeId);
    },
    log,
  });

  const recovery = new OriginRecovery({
    nodeId: config.nodeId,
    store,
    hasPeers: config.seeds.length > 0,
    timeoutMs: config.heartbeat.deadAfterMs,
    now: Date.now,
    log,
  });

  const chat: ChatService = new ChatService({
    nodeId: config.nodeId,
    gate: recovery,
    config,
    store,
    log,
    now: Date.now,
    newSessionId: randomUUID,
    setTimer: (task, ms) => {
      const timer = setTimeout(task, ms).unref();
      return () => clearTimeout(timer);
    },
    metrics,
    ...(verifier ? { verifyToken: (token: string) => verifier.verify(token) } : {}),
    cluster: {
      publish: (_message, encoded) => {
        metrics.relayedOut(mesh.linkCount);
        mesh.broadcastEncoded(encoded);
      },
      whenReplicated: (room, seq) => quorum.whenReplicated(room, seq),
      shownBeforeCommit: (room) => replicator.shownBeforeCommit(room),
      isDead: (nodeId) => membership.get(nodeId)?.state === 'dead',
      hasPeers: () => config.seeds.length > 0 || membership.others().length > 0,
      presenceChanged: (delta: PresenceDelta) =>
        mesh.broadcastEncoded(encodeFrame({ type: 'presence_delta', ...delta })),
      clientAddresses: (transport: ClientTransport) => {
        const nodes = [self, ...membership.liveMembers().filter((m) => m.state === 'alive')];
        // Every node of a cluster serves HTTP alike: wss:// everywhere when this one does.
        return nodes.map((m) =>
          transport === 'tcp' ? m.clientAddress : webSocketUrl(m.httpAddress, tls?.http === true),
        );
      },
    },
  });

  function routePeerFrame(nodeId: string, frame: PeerFrame, raw: Uint8Array): void {
    switch (frame.type) {
      case 'heartbeat':
      case 'membership':
      case 'ping_req':
      case 'ping_ack':
      case 'probe':
      case 'probe_ack':
        return membership.handleFrame(nodeId, frame);
      case 'message': {
        const { type: _, ...message } = frame;
        metrics.relayedIn();
        // A relayed message frame is byte for byte the frame local clients get.
        return replicator.receive(nodeId, message, raw);
      }
      case 'stored':
        for (const ack of frame.acks) if (ack.origin === recovery.origin) quorum.onHeld(nodeId, ack.room, ack.seq);
        return;
      case 'sync_vectors':
        recovery.onPeerVectors(frame.rooms);
        for (const [room, vector] of Object.entries(frame.rooms)) {
          const held = vector[recovery.origin];
          if (held !== undefined) quorum.onHeld(nodeId, room, held);
        }
        return antiEntropy.onVectors(nodeId, frame);
      case 'sync_batch':
        metrics.caughtUp(frame.messages.length);
        return replicator.receiveBatch(nodeId, frame);
      case 'presence_snapshot':
        return chat.presence.directory.applySnapshot(nodeId, frame);
      case 'presence_delta':
        // A delta that does not follow what we hold means we missed one: resync.
        if (!chat.presence.directory.applyDelta(nodeId, frame)) antiEntropy.start(nodeId);
        return;
      case 'peer_hello':
      case 'peer_auth':
      case 'peer_error':
        return;
    }
  }

  function clusterView(): ClusterView {
    return {
      nodeId: config.nodeId,
      cluster: config.cluster,
      members: membership.view().map((m) => ({
        ...m,
        clients: m.isSelf ? chat.sessionCount : chat.presence.directory.clientCount(m.nodeId),
      })),
      rooms: roomVectors(store),
      replication: {
        heldBack: replicator.heldBack,
        awaitingReplicas: quorum.waitingCount,
        antiEntropyBacklog: antiEntropy.backlog,
        antiEntropySent: antiEntropy.sent,
      },
    };
  }

  const connectionLimits = new ConnectionLimits(config.limits);
  // TCP and WebSocket clients alike count against the limits, by remote address.
  onClientChannel = (channel: ByteChannel) => {
    const remote = hostOf(channel.remoteAddress);
    const refusal = connectionLimits.admit(remote);
    if (refusal) {
      log.warn(
        { remote, transport: channel.transport, code: refusal.code, limit: refusal.limit },
        `client connection refused: ${refusal.message}`,
      );
      metrics.errorSent(refusal.code);
      channel.end(encodeFrame({ type: 'error', code: refusal.code, message: refusal.message, fatal: true }));
      setTimeout(() => channel.destroy(), CLOSE_FLUSH_MS).unref();
      return;
    }
    const connection = new FrameConnection(
      channel,
      clientFrameSchemas,
      { maxFrameBytes: config.limits.maxFrameBytes, maxOutboundBytes: config.limits.maxOutboundBytes },
      {
        onFrame: (frame) => chat.handleFrame(session, frame),
        onProtocolError: (error) => chat.handleProtocolError(session, error),
        onOverflow: () => chat.handleOverflow(session),
        onClose: () => {
          connectionLimits.release(remote);
          chat.close(session);
        },
      },
    );
    const session = chat.open(connection);
  };
  onPeerSocket = (socket: Socket) => mesh.accept(socket);

  every(config.heartbeat.heartbeatMs, () => {
    membership.tick();
    mesh.maintain(Date.now());
  });
  every(config.antiEntropyMs, () => {
    const peers = mesh.linkedPeers;
    const peer = peers[Math.floor(Math.random() * peers.length)];
    if (peer) antiEntropy.start(peer);
  });
  // A quarter of the shorter timeout: a connection is dropped at most 25% late.
  every(Math.max(100, Math.min(config.limits.idleTimeoutMs, config.limits.handshakeTimeoutMs) / 4), () =>
    chat.sweepIdle(),
  );
  const retention = new Retention({ store, config: config.retention, now: Date.now, log });
  if (retention.isEnabled) {
    void retention.sweep();
    every(config.retention.sweepMs, () => void retention.sweep());
  }
  mesh.maintain(Date.now());
  log.info(
    {
      clients: self.clientAddress,
      peers: self.peerAddress,
      http: self.httpAddress,
      web: webSocketUrl(self.httpAddress, tls?.http === true),
      tls: tls !== undefined,
    },
    'node listening',
  );
  if (tls && tls.material.validTo - Date.now() < TLS_EXPIRY_WARNING_MS) {
    log.warn({ cert: tls.cert, validTo: new Date(tls.material.validTo).toISOString() }, 'TLS certificate expires soon');
  }

  let stopped: Promise<void> | undefined;
  return {
    nodeId: config.nodeId,
    clientAddress: { host: clientListener.host, port: clientListener.port },
    peerAddress: self.peerAddress,
    httpAddress: self.httpAddress,
    chat,
    membership,
    metrics,
    clusterView,
    stop() {
      stopped ??= (async () => {
        for (const timer of timers) clearInterval(timer);
        recovery.stop();
        chat.shutdown();
        mesh.close();
        await Promise.all(listeners.map((l) => l.close()));
        metrics.stop();
        readiness.storeClosed();
        await store.close();
        log.info('node stopped');
      })();
      return stopped;
    },
  };
}

// "10.0.0.5:51234" -> "10.0.0.5", "::1:51234" -> "::1": connection limits count per host.
function hostOf(remoteAddress: string): string {
  const colon = remoteAddress.lastIndexOf(':');
  return colon < 0 ? remoteAddress : remoteAddress.slice(0, colon);
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

import type { Socket } from 'node:net';
import {
  type ErrorCode,
  type PeerFrame,
  type PeerFrameOf,
  PROTOCOL_VERSION,
  type ProtocolError,
  peerFrameSchemas,
} from '@meshchat/protocol';
import type { Logger } from 'pino';
import {
  PEER_HANDSHAKE_MAX_FRAME_BYTES,
  PEER_HANDSHAKE_TIMEOUT_MS,
  PEER_MAX_FRAME_BYTES,
  PEER_MAX_OUTBOUND_BYTES,
} from '../constants.js';
import { FrameConnection } from '../transport/frame-connection.js';
import { SocketChannel } from '../transport/socket-channel.js';
import { computeProof, createNonce, isValidProof } from './handshake-proof.js';

export type PeerHello = PeerFrameOf<'peer_hello'>;

export interface PeerLinkIdentity {
  cluster: string;
  clusterSecret: string;
  hello: () => Omit<PeerHello, 'type' | 'nonce' | 'version'>;
}

export interface PeerLinkHandlers {
  /** Both proofs checked: the link may carry cluster traffic. */
  onEstablished(link: PeerLink): void;
  /** `raw`: the frame as received (see FrameDecoder.pushEach). */
  onFrame(link: PeerLink, frame: PeerFrame, raw: Uint8Array): void;
  /** Called once for every link, established or not. */
  onClosed(link: PeerLink, wasEstablished: boolean): void;
}

type LinkState = 'handshaking' | 'established' | 'closed';

/**
 * One authenticated connection to another node. Both sides send peer_hello with a
 * fresh nonce, then prove knowledge of the cluster secret over the other's nonce;
 * nothing else is accepted until both proofs are checked.
 */
export class PeerLink {
  private readonly connection: FrameConnection<typeof peerFrameSchemas>;
  private readonly nonce = createNonce();
  private readonly handshakeTimer: NodeJS.Timeout;
  private state: LinkState = 'handshaking';
  private hasSentProof = false;
  private hasCheckedProof = false;
  remote: PeerHello | undefined;
  /** The code the other side gave when it closed the link, if it said one. */
  closedByPeerWith: string | undefined;

  constructor(
    socket: Socket,
    /** True when this node opened the connection; the tie-break needs it. */
    readonly isDialer: boolean,
    private readonly identity: PeerLinkIdentity,
    private readonly handlers: PeerLinkHandlers,
    private readonly log: Logger,
  ) {
    this.connection = new FrameConnection(
      new SocketChannel(socket),
      peerFrameSchemas,
      // Until the peer proves it knows the secret, it may send only small frames.
      { maxFrameBytes: PEER_HANDSHAKE_MAX_FRAME_BYTES, maxOutboundBytes: PEER_MAX_OUTBOUND_BYTES },
      {
        onFrame: (frame, raw) => this.onFrame(frame, raw),
        onProtocolError: (error) => this.onProtocolError(error),
        onOverflow: () => this.refuse('SLOW_CONSUMER', `more than ${PEER_MAX_OUTBOUND_BYTES} bytes unsent to the peer`),
        onClose: () => this.onClose(),
      },
    );
    this.handshakeTimer = setTimeout(
      () => this.refuse('HANDSHAKE_TIMEOUT', `no handshake within ${PEER_HANDSHAKE_TIMEOUT_MS} ms`),
      PEER_HANDSHAKE_TIMEOUT_MS,
    );
    this.handshakeTimer.unref();
    this.connection.send({ type: 'peer_hello', version: PROTOCOL_VERSION, nonce: this.nonce, ...identity.hello() });
  }

  get nodeId(): string | undefined {
    return this.remote?.nodeId;
  }

  get isEstablished(): boolean {
    return this.state === 'established';
  }

  get remoteAddress(): string {
    return this.connection.remoteAddress;
  }

  get outboundBytes(): number {
    return this.connection.outboundBytes;
  }

  send(frame: PeerFrame): void {
    this.connection.send(frame);
  }

  sendEncoded(bytes: Uint8Array): void {
    this.connection.sendEncoded(bytes);
  }

  /** Closes with a reason the other side logs. */
  refuse(code: ErrorCode, message: string): void {
    if (this.state === 'closed') return;
    this.log.warn({ peer: this.remote?.nodeId, remote: this.remoteAddress, code }, `peer link refused: ${message}`);
    this.connection.closeWith({ type: 'peer_error', code, message });
    this.onClose();
  }

  /** Closes without blame (shutdown, tie-break, a peer declared dead). */
  close(code: ErrorCode, message: string): void {
    if (this.state === 'closed') return;
    this.connection.closeWith({ type: 'peer_error', code, message });
    this.onClose();
  }

  private onFrame(frame: PeerFrame, raw: Uint8Array): void {
    if (this.state === 'established') {
      if (frame.type === 'peer_hello' || frame.type === 'peer_auth') {
        this.refuse('UNEXPECTED_FRAME', `${frame.type} after the handshake`);
        return;
      }
      if (frame.type === 'peer_error') {
        // A peer leaving or a tie-break is routine; anything else is worth a warning.
        const isRoutine = frame.code === 'SHUTTING_DOWN' || frame.code === 'DUPLICATE_LINK';
        this.log[isRoutine ? 'info' : 'warn'](
          { peer: this.nodeId, code: frame.code },
          `peer closed the link: ${frame.message}`,
        );
        this.closedByPeerWith = frame.code;
        this.connection.destroy();
        return;
      }
      this.handlers.onFrame(this, frame, raw);
      return;
    }
    switch (frame.type) {
      case 'peer_hello':
        return this.onHello(frame);
      case 'peer_auth':
        return this.onAuth(frame);
      case 'peer_error': {
        const level = frame.code === 'DUPLICATE_LINK' ? 'info' : 'warn';
        this.log[level]({ remote: this.remoteAddress, code: frame.code }, `peer refused the link: ${frame.message}`);
        this.closedByPeerWith = frame.code;
        this.connection.destroy();
        return;
      }
      default:
        this.refuse('NOT_READY', `"${frame.type}" frame before the handshake completed`);
    }
  }

  private onHello(hello: PeerHello): void {
    if (this.remote) return this.refuse('UNEXPECTED_FRAME', 'second peer_hello');
    if (hello.version !== PROTOCOL_VERSION) {
      return this.refuse(
        'VERSION_MISMATCH',
        `peer speaks protocol version ${hello.version}, this node speaks version ${PROTOCOL_VERSION}`,
      );
    }
    if (hello.cluster !== this.identity.cluster) {
      return this.refuse(
        'CLUSTER_MISMATCH',
        `peer is in cluster "${hello.cluster}", this node is in cluster "${this.identity.cluster}"`,
      );
    }
    const self = this.identity.hello();
    if (hello.nodeId === self.nodeId) return this.refuse('SELF_CONNECTION', `dialled itself (${hello.peerAddress})`);
    this.remote = hello;
    const proof = computeProof(
      this.identity.clusterSecret,
      this.identity.cluster,
      hello.nonce,
      self.nodeId,
      hello.nodeId,
    );
    this.connection.send({ type: 'peer_auth', proof });
    this.hasSentProof = true;
    this.maybeEstablish();
  }

  private onAuth(auth: PeerFrameOf<'peer_auth'>): void {
    const remote = this.remote;
    if (!remote) return this.refuse('NOT_READY', 'peer_auth before peer_hello');
    const self = this.identity.hello();
    const expected = computeProof(
      this.identity.clusterSecret,
      this.identity.cluster,
      this.nonce,
      remote.nodeId,
      self.nodeId,
    );
    if (!isValidProof(expected, auth.proof)) {
      return this.refuse('AUTH_FAILED', `node "${remote.nodeId}" did not prove knowledge of the cluster secret`);
    }
    this.hasCheckedProof = true;
    this.maybeEstablish();
  }

  private maybeEstablish(): void {
    if (!this.hasSentProof || !this.hasCheckedProof || this.state !== 'handshaking') return;
    this.state = 'established';
    clearTimeout(this.handshakeTimer);
    this.connection.setMaxFrameBytes(PEER_MAX_FRAME_BYTES);
    this.handlers.onEstablished(this);
  }

  private onProtocolError(error: ProtocolError): void {
    this.refuse(error.code, `bad data on the peer link: ${error.message}`);
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    const wasEstablished = this.state === 'established';
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    this.handlers.onClosed(this, wasEstablished);
  }
}

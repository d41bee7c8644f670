import type { ClientTransport, Member, ServerFrame } from '@meshchat/protocol';
import type { InboxPosition } from './inbox-position.js';
import type { TokenBucket } from './token-bucket.js';

/** What the chat layer needs from a client connection; sockets stay in transport. */
export interface ClientLink {
  /** TCP or WebSocket: the cluster's addresses are told in this form. */
  readonly transport: ClientTransport;
  readonly remoteAddress: string;
  send(frame: ServerFrame): void;
  /** Bytes encoded once and shared by every recipient of a fan-out. */
  sendEncoded(bytes: Uint8Array): void;
  /** Sends the frame (usually a fatal error) and closes the connection. */
  closeWith(frame?: ServerFrame): void;
}

export interface Identity {
  clientId: string;
  nick: string;
}

/** One connected client, from its first byte to its close. */
export class ClientSession {
  identity: Identity | undefined;
  readonly rooms = new Set<string>();
  // Set at hello: where the session is in its inbox of direct messages.
  inbox: InboxPosition | undefined;
  // The client said bye: its leaves are announced at once, with no grace for a resume.
  hasSaidBye = false;
  // The hello's clientId: the identity's without auth, the device's with auth (the
  // identity's clientId is then the token's user id). A newer session of the same
  // device replaces this one.
  device: string | undefined;
  // A hello's token is being checked: no other hello is accepted meanwhile.
  isAuthenticating = false;
  // Stops the timer that ends the session when its token expires.
  cancelExpiry: () => void = () => {};
  isClosed = false;
  lastHeardAt: number;

  constructor(
    readonly sessionId: string,
    readonly link: ClientLink,
    readonly bucket: TokenBucket,
    readonly openedAt: number,
  ) {
    this.lastHeardAt = openedAt;
  }

  get isReady(): boolean {
    return this.identity !== undefined && !this.isClosed;
  }

  member(nodeId: string): Member {
    const identity = this.identity;
    if (!identity) throw new Error('member() before hello');
    return { clientId: identity.clientId, nick: identity.nick, nodeId };
  }

  describe(): Record<string, unknown> {
    return {
      sessionId: this.sessionId,
      remote: this.link.remoteAddress,
      nick: this.identity?.nick,
      clientId: this.identity?.clientId,
    };
  }
}

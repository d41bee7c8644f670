import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { clientFrameSchemas } from '@meshchat/protocol';
import type { Logger } from 'pino';
import { ChatService } from './chat/chat-service.js';
import type { NodeConfig } from './config/schema.js';
import { MemoryStore } from './store/memory-store.js';
import type { MessageStore } from './store/message-store.js';
import { FrameConnection } from './transport/frame-connection.js';
import { listenTcp, type TcpListener } from './transport/tcp-listener.js';

export interface ChatNode {
  readonly nodeId: string;
  /** The bound client address, with the real port when 0 was configured. */
  readonly clientAddress: { host: string; port: number };
  readonly chat: ChatService;
  stop(): Promise<void>;
}

export interface CreateNodeOptions {
  log: Logger;
  store?: MessageStore;
}

/** Wires a node together: the one place where sockets, timers and state machines meet. */
export async function createNode(config: NodeConfig, options: CreateNodeOptions): Promise<ChatNode> {
  const { log } = options;
  const store = options.store ?? new MemoryStore();
  let clientListener: TcpListener | undefined;

  const chat = new ChatService({
    nodeId: config.nodeId,
    config,
    store,
    log,
    now: Date.now,
    newSessionId: randomUUID,
    clientAddresses: () => (clientListener ? [`${clientListener.host}:${clientListener.port}`] : []),
  });

  const acceptClient = (socket: Socket) => {
    const connection = new FrameConnection(
      socket,
      clientFrameSchemas,
      { maxFrameBytes: config.limits.maxFrameBytes, maxOutboundBytes: config.limits.maxOutboundBytes },
      {
        onFrame: (frame) => chat.handleFrame(session, frame),
        onProtocolError: (error) => chat.handleProtocolError(session, error),
        onOverflow: () => chat.handleOverflow(session),
        onClose: () => chat.close(session),
      },
    );
    const session = chat.open(connection);
  };

  clientListener = await listenTcp(config.host, config.clientPort, 'clients', acceptClient);
  const idleSweep = setInterval(() => chat.sweepIdle(), Math.max(100, config.limits.idleTimeoutMs / 4));
  log.info({ clients: `${clientListener.host}:${clientListener.port}` }, 'node listening');

  let stopped: Promise<void> | undefined;
  return {
    nodeId: config.nodeId,
    clientAddress: { host: clientListener.host, port: clientListener.port },
    chat,
    stop() {
      stopped ??= (async () => {
        clearInterval(idleSweep);
        chat.shutdown();
        await clientListener?.close();
        await store.close();
        log.info('node stopped');
      })();
      return stopped;
    },
  };
}

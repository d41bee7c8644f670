/**
 * @packageDocumentation
 * The meshchat client: connects to a cluster from a seed list, fails over between
 * nodes, and shows every message of its rooms exactly once.
 *
 * ```ts
 * import { ChatClient } from '@meshchat/client';
 * const c = new ChatClient({ servers: ['127.0.0.1:7001', '127.0.0.1:7002'], nick: 'alice' });
 * await c.connect();
 * const { members, history } = await c.join('general');
 * c.on('message', (m) => console.log(`${m.from.nick}: ${m.text}`));
 * const { id } = await c.send('general', 'hi');
 * await c.close();
 * ```
 */
import { BaseChatClient, type ChatClientOptions } from './chat-client.js';
import { createTcpTransport, type TcpTransportOptions } from './tcp-transport.js';

export type NodeChatClientOptions = Omit<ChatClientOptions, 'transport'> &
  Partial<Pick<ChatClientOptions, 'transport'>> &
  TcpTransportOptions;

/**
 * ChatClient over TCP (Node); "tls://host:port" servers over TLS, checked against
 * `tlsCa` or the system's CAs. Give `transport` to use another byte stream.
 */
export class ChatClient extends BaseChatClient {
  constructor({ tlsCa, ...options }: NodeChatClientOptions) {
    super({ transport: createTcpTransport(tlsCa === undefined ? {} : { tlsCa }), ...options });
  }
}

export { parseHostPort } from '@meshchat/protocol';
export {
  DEFAULT_BACKOFF,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_PING_MS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  SILENCE_CHECKS_PER_TIMEOUT,
} from './constants.js';
export * from './shared-exports.js';
export { createTcpTransport, type TcpTransportOptions, tcpTransport } from './tcp-transport.js';

/**
 * @packageDocumentation
 * The meshchat client for browsers: the same ChatClient over a node's WebSocket
 * endpoint, with nothing from Node (no net, fs or os) on its import path.
 *
 * ```ts
 * import { ChatClient } from '@meshchat/client/browser';
 * const c = new ChatClient({ servers: [`ws://${location.host}/ws`], nick: 'alice' });
 * await c.connect(); // the node lists the cluster's other WebSocket endpoints for failover
 * ```
 */
import { BaseChatClient, type ChatClientOptions } from './chat-client.js';
import { webSocketTransport } from './websocket-transport.js';

export type BrowserChatClientOptions = Omit<ChatClientOptions, 'transport'> &
  Partial<Pick<ChatClientOptions, 'transport'>>;

/** ChatClient over the runtime's WebSocket. `servers` are ws:// URLs. */
export class ChatClient extends BaseChatClient {
  constructor(options: BrowserChatClientOptions) {
    super({ transport: webSocketTransport(), ...options });
  }
}

export { WEBSOCKET_PATH } from '@meshchat/protocol';
export { randomId } from './random-id.js';
export * from './shared-exports.js';

// What both entry points (index.ts for Node, browser.ts) export besides their ChatClient.
export type { ChatMessage, Member, MessageId, RoomSummary } from '@meshchat/protocol';
export {
  BaseChatClient,
  type ChatClientEvents,
  type ChatClientOptions,
  type ConnectedInfo,
  type DirectMessage,
  type DisconnectedInfo,
  type PresenceEvent,
  type ReconnectingInfo,
} from './chat-client.js';
export { ChatClientError, type ClientErrorCode } from './errors.js';
export type { Transport, TransportConnection, TransportHandlers } from './transport.js';
export { type WebSocketConstructor, type WebSocketLike, webSocketTransport } from './websocket-transport.js';

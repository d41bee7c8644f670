import type { Transport, TransportConnection, TransportHandlers } from './transport.js';

/**
 * The part of the WHATWG WebSocket the transport uses: browsers have it as a global, and
 * in Node the `ws` package's WebSocket has the same shape.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

// WebSocket.OPEN in every implementation.
const OPEN = 1;

/**
 * The byte stream over a node's WebSocket endpoint (`ws://host:httpPort/ws`, as nodes
 * list it for WebSocket sessions). Each binary message holds whole frames, length
 * prefixes included (docs/protocol.md "WebSocket"), so the bytes go to ChatClient's
 * decoder as a TCP chunk would. Uses the runtime's WebSocket unless one is given.
 */
export function webSocketTransport(WebSocketImpl?: WebSocketConstructor): Transport {
  return {
    open(server: string, handlers: TransportHandlers): TransportConnection {
      const Impl = WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (!Impl) throw new Error('this runtime has no WebSocket; pass one to webSocketTransport()');
      if (!/^wss?:\/\//.test(server)) throw new Error(`invalid server address "${server}": expected a ws:// URL`);
      const socket = new Impl(server);
      socket.binaryType = 'arraybuffer';
      let isClosed = false;
      let reason = 'socket closed';
      // onClose is called once. A close asked for here is reported at once: a browser
      // fires `close` only when the node answers the closing handshake, and a hung node
      // never does, which would hold the client on it.
      const finish = (why: string) => {
        if (isClosed) return;
        isClosed = true;
        socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
        handlers.onClose(why);
      };
      socket.onopen = () => handlers.onOpen();
      socket.onmessage = (event) => {
        if (event.data instanceof ArrayBuffer) handlers.onData(new Uint8Array(event.data));
        else {
          socket.close();
          finish('the node sent a text message; frames are binary');
        }
      };
      // Browsers say nothing of the cause in the error event; the close event follows.
      socket.onerror = () => {
        reason = 'WebSocket error';
      };
      socket.onclose = (event) => finish(event.code === 1006 ? reason : `closed by node (${event.code})`);
      return {
        write: (bytes) => {
          if (socket.readyState === OPEN) socket.send(bytes);
        },
        close: () => {
          socket.close();
          queueMicrotask(() => finish('closed by client'));
        },
      };
    },
  };
}

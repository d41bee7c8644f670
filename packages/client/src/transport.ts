/** What ChatClient needs from a byte stream; TCP in Node, WebSocket in browsers. */
export interface Transport {
  /** Opens a connection to "host:port" (or a URL the transport understands). */
  open(server: string, handlers: TransportHandlers): TransportConnection;
}

export interface TransportHandlers {
  onOpen(): void;
  onData(chunk: Uint8Array): void;
  /** Called once, whether the close was asked for or not; `reason` says why. */
  onClose(reason: string): void;
}

export interface TransportConnection {
  write(bytes: Uint8Array): void;
  close(): void;
}

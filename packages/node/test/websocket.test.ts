// The WebSocket endpoint on the HTTP port (issue 7): a WebSocket session is a client
// session like a TCP one, with the same frames, limits and errors, and the cluster's
// addresses told as WebSocket endpoints, so a browser can fail over.
import { type WebSocketConstructor, webSocketTransport } from '@meshchat/client';
import { encodeFrame, FrameDecoder, serverFrameSchemas, webSocketUrl } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startLoggedNode, waitForFullMesh } from '../../../test/harness/index.js';
import { CLUSTER_CONFIG } from './cluster-helpers.js';
import {
  connectBystanders,
  connectClient,
  expectChatCarriesOn,
  expectFatalError,
  floodUntilLeft,
  framesOf,
  RawConnection,
  rawJoin,
  rawSend,
  startNode,
  type TestNode,
  waitFor,
  waitForFrameWhere,
} from './helpers.js';

// The `ws` package's WebSocket has the browser's shape; Node 20 has no global one.
const overWebSocket = { transport: webSocketTransport(WebSocket as unknown as WebSocketConstructor) };

async function openWebSocket(node: TestNode, nick?: string): Promise<RawConnection> {
  const raw = await RawConnection.openWebSocket(webSocketUrl(node.httpAddress));
  if (nick) await raw.hello(nick);
  return raw;
}

describe('a WebSocket session', () => {
  it('chats with TCP clients: welcome lists WebSocket endpoints, and sends, acks and messages are the same frames', async () => {
    const node = await startNode();
    const browser = await openWebSocket(node, 'wendy');
    const welcome = await browser.waitForFrame('welcome');
    expect(welcome.servers).toEqual([`ws://${node.httpAddress}/ws`]);
    const terminal = await connectClient(node.address, 'tom');
    await terminal.client.join('general');
    await rawJoin(browser, 'general');

    const ack = await rawSend(browser, 'general', 'hello from a browser');
    await waitFor(() => terminal.messages.length === 1, 'the TCP client to receive the WebSocket message');
    expect(terminal.messages[0]).toMatchObject({ text: 'hello from a browser', seq: ack.id.seq });
    await terminal.client.send('general', 'hello from a terminal');
    await waitForFrameWhere(browser, 'message', (m) => m.text === 'hello from a terminal', 'the TCP message');
    expect(framesOf(browser, 'message').map((m) => m.text)).toEqual(['hello from a browser', 'hello from a terminal']);
  });

  it('gets whole frames in every message, many to a message in a burst', async () => {
    const node = await startNode();
    const browser = await openWebSocket(node, 'wendy');
    const messages: Buffer[] = [];
    browser.webSocket?.on('message', (data: Buffer) => messages.push(data));
    await rawJoin(browser, 'burst');
    const sender = await connectClient(node.address, 'tom');
    await sender.client.join('burst');
    await Promise.all(Array.from({ length: 50 }, (_, i) => sender.client.send('burst', `m${i}`)));
    await waitFor(() => framesOf(browser, 'message').length === 50, 'the browser to receive the burst');
    for (const message of messages) {
      const decoder = new FrameDecoder(serverFrameSchemas);
      const { frames, error } = decoder.push(message);
      expect(error).toBeUndefined();
      expect(frames.length).toBeGreaterThan(0);
      expect(decoder.bufferedBytes, 'a message ends at a frame boundary').toBe(0);
    }
    expect(messages.length, 'a burst is batched into fewer messages than frames').toBeLessThan(50);
  });

  it('is rate limited like a TCP session: RATE_LIMITED, not fatal', async () => {
    const node = await startNode({ limits: { ratePerSec: 1, rateBurst: 3 } });
    const browser = await openWebSocket(node, 'wendy');
    await rawJoin(browser, 'general');
    for (let i = 0; i < 5; i++)
      browser.sendFrame({ type: 'send', room: 'general', text: `t${i}`, clientMsgId: `c${i}` });
    await waitFor(
      () => framesOf(browser, 'ack').length + framesOf(browser, 'error').length === 5,
      'an answer to every send',
    );
    expect(framesOf(browser, 'ack')).toHaveLength(2);
    expect(framesOf(browser, 'error').map((e) => [e.code, e.fatal])).toEqual([
      ['RATE_LIMITED', false],
      ['RATE_LIMITED', false],
      ['RATE_LIMITED', false],
    ]);
    expect(browser.isClosed).toBe(false);
  });

  it('is closed with IDLE_TIMEOUT when silent, like a TCP session', async () => {
    const node = await startNode({ limits: { idleTimeoutMs: 300 } });
    const browser = await openWebSocket(node, 'wendy');
    await expectFatalError(browser, 'IDLE_TIMEOUT');
  });

  it('is cut off as a SLOW_CONSUMER when it stops reading, and the others keep receiving', async () => {
    const maxOutboundBytes = 128 * 1024;
    const node = await startNode({
      limits: { maxOutboundBytes, maxMessageLength: 8000, ratePerSec: 100_000, rateBurst: 100_000 },
    });
    const sender = await connectClient(node.address, 'sender');
    const reader = await connectClient(node.address, 'reader');
    await sender.client.join('flood');
    await reader.client.join('flood');
    const slow = await openWebSocket(node, 'slow');
    await rawJoin(slow, 'flood');
    slow.pause();
    await floodUntilLeft(sender, reader, 'flood', 'slow');
    expect(reader.client.isConnected).toBe(true);
    slow.resume();
    await slow.waitForClose();
  });
});

describe('bad input on a WebSocket gets an error frame and a close, and nothing else', () => {
  const maxFrameBytes = 4096;
  const cases: { name: string; send: (raw: RawConnection) => void; code: string; message?: RegExp }[] = [
    {
      name: 'a text message gets MALFORMED',
      send: (raw) => raw.webSocket?.send('{"type":"join","room":"general"}'),
      code: 'MALFORMED',
      message: /text message/,
    },
    {
      name: 'a message over maxFrameBytes + 4 bytes gets FRAME_TOO_LARGE before it is read',
      send: (raw) => raw.sendFrame({ type: 'send', room: 'general', text: 'x'.repeat(5000), clientMsgId: 'big' }),
      code: 'FRAME_TOO_LARGE',
    },
    {
      name: 'a length prefix over maxFrameBytes gets FRAME_TOO_LARGE',
      send: (raw) => raw.sendBytes(Uint8Array.of(0, 1, 0, 0, 0x80)),
      code: 'FRAME_TOO_LARGE',
      message: /65536 bytes exceeds maxFrameBytes 4096/,
    },
    {
      name: 'garbage bytes get MALFORMED',
      send: (raw) => raw.sendBytes(Uint8Array.of(0, 0, 0, 3, 0xc1, 0xc1, 0xc1)),
      code: 'MALFORMED',
    },
    {
      name: 'a message that ends inside a frame gets MALFORMED',
      send: (raw) => raw.sendBytes(encodeFrame({ type: 'join', reqId: 1, room: 'general' }).subarray(0, 10)),
      code: 'MALFORMED',
      message: /ended inside a frame/,
    },
    {
      name: 'a frame that fails its schema gets INVALID_FRAME naming the field',
      send: (raw) => raw.sendFrame({ type: 'join', reqId: 1 }),
      code: 'INVALID_FRAME',
      message: /room/,
    },
  ];

  for (const { name, send, code, message } of cases) {
    it(name, async () => {
      const node = await startNode({ limits: { maxFrameBytes } });
      const [a, b] = await connectBystanders(node);
      const webBystander = await connectClient(webSocketUrl(node.httpAddress), 'webby', overWebSocket);
      await webBystander.client.join('lobby');
      const bad = await openWebSocket(node, 'mallory');
      send(bad);
      const error = await expectFatalError(bad, code);
      if (message) expect(error.message).toMatch(message);
      await expectChatCarriesOn(a, webBystander);
      await expectChatCarriesOn(b, a);
    });
  }

  it('a frame before hello gets NOT_READY', async () => {
    const node = await startNode();
    const raw = await openWebSocket(node);
    raw.sendFrame({ type: 'join', reqId: 1, room: 'general' });
    await expectFatalError(raw, 'NOT_READY');
  });

  it('an upgrade to another path is refused with 404', async () => {
    const node = await startNode();
    const socket = new WebSocket(`ws://${node.httpAddress}/not-here`);
    const status = await new Promise<number | undefined>((resolve) => {
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      socket.once('error', () => resolve(undefined));
    });
    expect(status).toBe(404);
  });
});

describe('ChatClient over WebSocket', () => {
  it('fails over to another node it learned of as a WebSocket endpoint, and shows every message once', async () => {
    const a = await startLoggedNode({ ...CLUSTER_CONFIG, nodeId: 'n1' });
    const b = await startLoggedNode({ ...CLUSTER_CONFIG, nodeId: 'n2', seeds: [a.peerAddress] });
    await waitForFullMesh([a, b]);
    const wendy = await connectClient(webSocketUrl(a.httpAddress), 'wendy', {
      ...overWebSocket,
      backoff: { initialMs: 20, maxMs: 100 },
    });
    await waitFor(
      () => wendy.client.knownServers.includes(webSocketUrl(b.httpAddress)),
      'the client to learn n2 as a WebSocket endpoint',
    );
    expect(wendy.client.knownServers).toEqual([webSocketUrl(a.httpAddress), webSocketUrl(b.httpAddress)]);
    await wendy.client.join('general');
    const tom = await connectClient(b.address, 'tom');
    await tom.client.join('general');
    await wendy.client.send('general', 'before');

    await a.stop();
    await waitFor(() => wendy.client.nodeId === 'n2', 'wendy to fail over to n2');
    await wendy.client.send('general', 'after');
    await tom.client.send('general', 'from tom');
    await waitFor(() => wendy.messages.length === 3, 'wendy to see all three messages');
    expect(wendy.messages.map((m) => m.text)).toEqual(['before', 'after', 'from tom']);
    expect(wendy.errors).toEqual([]);
  });
});

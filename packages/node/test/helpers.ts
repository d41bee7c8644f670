// Small helpers shared by the node suites, on top of the one harness in test/harness.
import { randomUUID } from 'node:crypto';
import type { ServerFrame, ServerFrameOf } from '@meshchat/protocol';
import { expect } from 'vitest';
import { connectClient, RawConnection, type TestClient, type TestNode, waitFor } from '../../../test/harness/index.js';

export {
  connectClient,
  onCleanup,
  RawConnection,
  startNode,
  type TestClient,
  type TestNode,
  waitFor,
} from '../../../test/harness/index.js';

type FrameType = ServerFrame['type'];

/** Every frame of one type a raw connection has received so far, in arrival order. */
export function framesOf<T extends FrameType>(raw: RawConnection, type: T): ServerFrameOf<T>[] {
  return raw.frames.filter((f): f is ServerFrameOf<T> => f.type === type);
}

/** Waits for the first frame of `type` that matches `match`, received at any time. */
export async function waitForFrameWhere<T extends FrameType>(
  raw: RawConnection,
  type: T,
  match: (frame: ServerFrameOf<T>) => boolean,
  what: string,
): Promise<ServerFrameOf<T>> {
  const find = () => framesOf(raw, type).find(match);
  await waitFor(() => find() !== undefined, what);
  return find() as ServerFrameOf<T>;
}

/** A raw connection that has said hello as `nick`. */
export async function openRaw(node: TestNode, nick: string, clientId = `raw-${nick}`): Promise<RawConnection> {
  const raw = await RawConnection.open(node.address);
  await raw.hello(nick, clientId);
  return raw;
}

let reqIds = 1000;

/** Joins over a raw connection and returns the node's `joined` reply. */
export async function rawJoin(
  raw: RawConnection,
  room: string,
  cursor?: Record<string, number>,
): Promise<ServerFrameOf<'joined'>> {
  const reqId = ++reqIds;
  raw.sendFrame({ type: 'join', reqId, room, ...(cursor ? { cursor } : {}) });
  return waitForFrameWhere(raw, 'joined', (f) => f.reqId === reqId, `joined ${room} (reqId ${reqId})`);
}

/** Sends over a raw connection and returns the node's ack. */
export async function rawSend(
  raw: RawConnection,
  room: string,
  text: string,
  clientMsgId: string = randomUUID(),
): Promise<ServerFrameOf<'ack'>> {
  raw.sendFrame({ type: 'send', room, text, clientMsgId });
  return waitForFrameWhere(raw, 'ack', (f) => f.clientMsgId === clientMsgId, `ack of ${clientMsgId}`);
}

/**
 * Asserts the node sent one fatal error with `code` and then closed the connection.
 * Returns the error frame so callers can check its message.
 */
export async function expectFatalError(raw: RawConnection, code: string): Promise<ServerFrameOf<'error'>> {
  const error = await raw.waitForFrame('error');
  expect(error).toMatchObject({ code, fatal: true });
  await raw.waitForClose();
  expect(framesOf(raw, 'error')).toHaveLength(1);
  return error;
}

/** Two recording clients in `room`, used to show that the rest of the node carries on. */
export async function connectBystanders(
  node: TestNode,
  options: Parameters<typeof connectClient>[2] = {},
  room = 'lobby',
): Promise<[TestClient, TestClient]> {
  const a = await connectClient(node.address, `by${randomUUID().slice(0, 8)}`, options);
  const b = await connectClient(node.address, `by${randomUUID().slice(0, 8)}`, options);
  await a.client.join(room);
  await b.client.join(room);
  return [a, b];
}

/** Each client sends one new message and the other receives it: the node still serves them. */
export async function expectChatCarriesOn(a: TestClient, b: TestClient, room = 'lobby'): Promise<void> {
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    const text = `still here ${randomUUID()}`;
    const { id } = await from.client.send(room, text);
    await waitFor(() => to.messages.some((m) => m.text === text), `${to.client.nick} to receive "${text}"`);
    expect(to.messages.find((m) => m.text === text)).toMatchObject({ room: id.room, origin: id.origin, seq: id.seq });
    expect(from.client.isConnected).toBe(true);
  }
}

/**
 * Floods `room` from `sender` in batches well under any outbound limit, each read by the
 * healthy `reader` before the next, until `reader` sees `slowNick` leave: only a paused
 * connection's backlog grows, first in the kernel buffers, then in the node's.
 */
export async function floodUntilLeft(
  sender: TestClient,
  reader: TestClient,
  room: string,
  slowNick: string,
): Promise<void> {
  const text = 'x'.repeat(8000);
  const batch = 8;
  const slowLeft = () => reader.presence.some((p) => p.event === 'left' && p.member.nick === slowNick);
  let sent = 0;
  while (!slowLeft()) {
    expect(sent, 'the paused reader should be cut off within 64 MiB').toBeLessThan(8000);
    await Promise.all(Array.from({ length: batch }, () => sender.client.send(room, text)));
    sent += batch;
    await waitFor(() => reader.messages.length === sent, `the reader to receive ${sent} messages`);
  }
}

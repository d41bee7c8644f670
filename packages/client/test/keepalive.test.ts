// ChatClient's keepalive against a node played by the test: it pings a quiet node at
// its ping rate, keeps a node that answers, and leaves one that falls silent (hung, or
// cut off without a close) after pingTimeoutMs, checking the silence more often than it
// pings. No wall-clock assertion: one test polls for the outcome, the other runs on
// vitest's virtual clock.
import {
  BaseChatClient,
  type ChatClientOptions,
  DEFAULT_PING_MS,
  DEFAULT_PING_TIMEOUT_MS,
  type DisconnectedInfo,
  SILENCE_CHECKS_PER_TIMEOUT,
} from '@meshchat/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { onCleanup, waitFor } from '../../../test/harness/index.js';
import { ScriptedTransport } from './scripted-node.js';

function scriptedClient(options: Partial<ChatClientOptions> = {}) {
  const transport = new ScriptedTransport();
  const client = new BaseChatClient({
    servers: ['10.0.0.1:7001', '10.0.0.2:7001'],
    nick: 'alice',
    clientId: 'c-alice',
    transport,
    random: () => 0,
    backoff: { initialMs: 1, maxMs: 1 },
    ...options,
  });
  onCleanup(() => client.close());
  const disconnected: DisconnectedInfo[] = [];
  client.on('disconnected', (d) => disconnected.push(d));
  return { client, transport, disconnected };
}

describe('ChatClient keepalive (against a scripted node)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('leaves a node that stops answering after pingTimeoutMs, without waiting for its next ping, and moves on', async () => {
    // A ping is due only after a minute (the node's idle timeout allows it): the
    // silence alone must make the client leave.
    const { client, transport, disconnected } = scriptedClient({ pingMs: 60_000, pingTimeoutMs: 200 });
    const connecting = client.connect();
    const first = await transport.waitForConnection(1);
    await first.waitForFrame('hello');
    first.welcome('n1', {}, [first.server], 600_000);
    await connecting;

    await waitFor(() => disconnected.length === 1, 'the client to leave the silent node');
    expect(disconnected[0]).toEqual({ nodeId: 'n1', server: first.server, reason: 'no answer within 200 ms' });
    expect(first.framesOf('ping')).toEqual([]);
    expect(first.isClosed).toBe(true);
    const second = await transport.waitForConnection(2);
    expect(second.server).not.toBe(first.server);
  });

  it('with its defaults, pings a quiet node once a second, keeps it while it answers, and leaves it within an eighth of the timeout once it falls silent', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const { client, transport, disconnected } = scriptedClient();
    const connecting = client.connect();
    await vi.advanceTimersByTimeAsync(0);
    const first = transport.connections[0];
    if (!first) throw new Error('the client opened no connection');
    first.answersPings = true;
    first.welcome('n1', {});
    await connecting;

    await vi.advanceTimersByTimeAsync(10 * DEFAULT_PING_MS);
    expect(first.framesOf('ping')).toHaveLength(10);
    expect(disconnected).toEqual([]);

    // Hung: the last pong came with the last ping; nothing after it.
    first.answersPings = false;
    await vi.advanceTimersByTimeAsync(DEFAULT_PING_TIMEOUT_MS);
    expect(disconnected).toEqual([]);
    await vi.advanceTimersByTimeAsync(DEFAULT_PING_TIMEOUT_MS / SILENCE_CHECKS_PER_TIMEOUT);
    expect(disconnected).toEqual([
      { nodeId: 'n1', server: first.server, reason: `no answer within ${DEFAULT_PING_TIMEOUT_MS} ms` },
    ]);
    // Two more pings went out while it was silent, no more than at the ping rate.
    expect(first.framesOf('ping')).toHaveLength(12);
  });
});

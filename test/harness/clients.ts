import type { NodeChatClientOptions } from '@meshchat/client';
import { ChatClient, type ChatMessage, type DirectMessage, type PresenceEvent } from '@meshchat/client';
import { onCleanup } from './cleanup.js';

/** A ChatClient that records what it received, closed after the test. */
export interface TestClient {
  client: ChatClient;
  messages: ChatMessage[];
  directs: DirectMessage[];
  presence: PresenceEvent[];
  errors: Error[];
}

export async function connectClient(
  servers: string | string[],
  nick: string,
  options: Partial<NodeChatClientOptions> = {},
): Promise<TestClient> {
  const client = new ChatClient({ servers: Array.isArray(servers) ? servers : [servers], nick, ...options });
  const recorded: TestClient = { client, messages: [], directs: [], presence: [], errors: [] };
  client.on('message', (m) => recorded.messages.push(m));
  client.on('direct', (m) => recorded.directs.push(m));
  client.on('presence', (p) => recorded.presence.push(p));
  client.on('error', (e) => recorded.errors.push(e));
  onCleanup(() => client.close());
  await client.connect();
  return recorded;
}

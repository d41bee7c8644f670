import { ChatClient, ChatClientError } from '@meshchat/client/browser';
import { type AppElements, ChatApp } from './app.js';
import { byId } from './dom.js';
import { rememberedNick, rememberNick, tabClientId } from './identity.js';
import { endpointOf } from './server-url.js';
import { NickPrompt } from './views/nick-prompt.js';

// Refusals another try with the same nick would get again: ask for another nick.
const NICK_PROBLEMS = new Set(['NICK_TAKEN', 'INVALID_NICK']);

function elements(): AppElements {
  return {
    app: byId('app'),
    title: byId('title'),
    connection: byId('connection'),
    connectionText: byId('connection-text'),
    rooms: byId('rooms'),
    directs: byId('directs'),
    directory: byId('directory'),
    joinForm: byId('join-form'),
    joinInput: byId('join-input'),
    me: byId('me'),
    messages: byId('messages'),
    scroller: byId('scroller'),
    composer: byId('composer'),
    composerInput: byId('composer-input'),
    members: byId('members'),
    memberCount: byId('member-count'),
    toggleRooms: byId('toggle-rooms'),
    toggleMembers: byId('toggle-members'),
  };
}

/**
 * Asks for a nick until a node welcomes it, then runs the chat in the room the address
 * names (`#room`, general by default). The first server is the node that served the
 * page; its welcome lists the cluster's other WebSocket endpoints for failover.
 */
async function main(): Promise<void> {
  const prompt = new NickPrompt(byId('nick-overlay'), byId('nick-form'), byId('nick-input'), byId('nick-problem'));
  const room = roomInAddress(location.hash) ?? 'general';
  const server = endpointOf(location);
  let problem: string | undefined;
  for (;;) {
    const nick = await prompt.ask(rememberedNick(), problem);
    const client = new ChatClient({ servers: [server], nick, clientId: tabClientId() });
    const app = new ChatApp(client, elements());
    app.connecting(server);
    try {
      await client.connect();
    } catch (err) {
      await client.close();
      const isNickProblem = err instanceof ChatClientError && NICK_PROBLEMS.has(err.code);
      problem = isNickProblem ? err.message : `cannot connect: ${(err as Error).message}`;
      continue;
    }
    rememberNick(nick);
    prompt.hide();
    await app.start(room);
    return;
  }
}

/** The room named after `#` in the page's address, if any. */
function roomInAddress(hash: string): string | undefined {
  try {
    return decodeURIComponent(hash.slice(1)).toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

void main();

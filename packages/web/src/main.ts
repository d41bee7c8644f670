import { ChatClient, ChatClientError } from '@meshchat/client/browser';
import { type AppElements, ChatApp } from './app.js';
import { byId } from './dom.js';
import { rememberedNick, rememberedToken, rememberNick, rememberToken, tabClientId } from './identity.js';
import { endpointOf } from './server-url.js';
import { NickPrompt } from './views/nick-prompt.js';

// Refusals another try with the same nick would get again: ask for another nick.
const NICK_PROBLEMS = new Set(['NICK_TAKEN', 'INVALID_NICK']);
// Refusals of a cluster that requires sign-in (auth.required): ask for a token.
const TOKEN_PROBLEMS = new Set(['AUTH_REQUIRED', 'TOKEN_EXPIRED', 'TOKEN_INVALID', 'TOKEN_SIGNATURE_INVALID']);

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
  const prompt = new NickPrompt({
    overlay: byId('nick-overlay'),
    form: byId('nick-form'),
    nick: byId('nick-input'),
    token: byId('token-input'),
    tokenField: [...document.querySelectorAll<HTMLElement>('.token-field')],
    problem: byId('nick-problem'),
  });
  const room = roomInAddress(location.hash) ?? 'general';
  const server = endpointOf(location);
  let problem: string | undefined;
  let wantsToken = rememberedToken() !== undefined;
  // What to offer next time: what was typed in this page, else what worked before.
  let offered = { nick: rememberedNick(), token: rememberedToken() };
  for (;;) {
    const { nick, token } = await prompt.ask(offered, { ...(problem === undefined ? {} : { problem }), wantsToken });
    offered = { nick, token };
    const client = new ChatClient({
      servers: [server],
      nick,
      clientId: tabClientId(),
      ...(token === undefined ? {} : { token }),
    });
    const app = new ChatApp(client, elements());
    app.connecting(server);
    try {
      await client.connect();
    } catch (err) {
      await client.close();
      const message = (err as Error).message;
      const code = err instanceof ChatClientError ? err.code : undefined;
      if (code !== undefined && TOKEN_PROBLEMS.has(code)) {
        wantsToken = true;
        problem = code === 'AUTH_REQUIRED' ? 'this cluster requires sign-in: paste your token' : message;
      } else {
        problem = code !== undefined && NICK_PROBLEMS.has(code) ? message : `cannot connect: ${message}`;
      }
      continue;
    }
    rememberNick(nick);
    rememberToken(token);
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

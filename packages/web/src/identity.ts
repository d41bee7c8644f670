import { randomId } from '@meshchat/client/browser';

const NICK_KEY = 'meshchat.nick';
const CLIENT_ID_KEY = 'meshchat.clientId';

// The node's nick rule (packages/node/src/constants.ts NICK_PATTERN), checked here so
// a typo is caught before connecting; the node still decides.
export const NICK_PATTERN = /^[A-Za-z][A-Za-z0-9_\-[\]{}^`|]{0,31}$/;

/** The nick last used on this browser, to offer it again. */
export function rememberedNick(): string {
  return localStorage.getItem(NICK_KEY) ?? '';
}

export function rememberNick(nick: string): void {
  localStorage.setItem(NICK_KEY, nick);
}

/**
 * This tab's client id: kept across reloads (sessionStorage), so a reload is the same
 * client to the cluster, and different in each tab, so two tabs are two clients.
 */
export function tabClientId(): string {
  let id = sessionStorage.getItem(CLIENT_ID_KEY);
  if (!id) {
    id = `web-${randomId()}`;
    sessionStorage.setItem(CLIENT_ID_KEY, id);
  }
  return id;
}

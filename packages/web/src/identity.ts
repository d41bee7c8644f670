import { randomId } from '@meshchat/client/browser';

const NICK_KEY = 'meshchat.nick';
const CLIENT_ID_KEY = 'meshchat.clientId';
const TOKEN_KEY = 'meshchat.token';

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
 * The sign-in token last accepted in this tab: a bearer secret, so kept for the tab's
 * life only (sessionStorage), never across browser restarts.
 */
export function rememberedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function rememberToken(token: string | undefined): void {
  if (token === undefined) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
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

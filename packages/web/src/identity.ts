import { randomId } from '@meshchat/client/browser';
import { DEFAULT_MAX_NICK_LENGTH, NICK_PATTERN } from '@meshchat/protocol';

const NICK_KEY = 'meshchat.nick';
const CLIENT_ID_KEY = 'meshchat.clientId';
const TOKEN_KEY = 'meshchat.token';

/** The nodes' nick rule at its default length, checked before connecting; the node still decides. */
export function isNick(nick: string): boolean {
  return nick.length <= DEFAULT_MAX_NICK_LENGTH && NICK_PATTERN.test(nick);
}

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

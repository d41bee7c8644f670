import { NICK_PATTERN, ROOM_PATTERN } from '../constants.js';
import { ChatError } from '../errors.js';

/** The node's configured bounds on names (limits.maxNickLength, limits.maxRoomNameLength). */
export interface NameLimits {
  maxNickLength: number;
  maxRoomNameLength: number;
}

export function checkNick(nick: string, limits: NameLimits, fatal: boolean): void {
  if (nick.length > limits.maxNickLength || !NICK_PATTERN.test(nick)) {
    throw new ChatError(
      'INVALID_NICK',
      `nick "${nick}" is invalid: use 1-${limits.maxNickLength} characters, a letter first, then letters, digits or _-[]{}^\`|`,
      fatal,
    );
  }
}

export function checkRoom(room: string, limits: NameLimits): void {
  if (room.length > limits.maxRoomNameLength || !ROOM_PATTERN.test(room)) {
    throw new ChatError(
      'INVALID_ROOM',
      `room "${room}" is invalid: use 1-${limits.maxRoomNameLength} lowercase letters, digits, "_", "." or "-", starting with a letter or digit`,
    );
  }
}

/** Length counts Unicode characters (code points), so an emoji is one. */
export function checkText(text: string, maxLength: number): void {
  // UTF-16 length bounds the code point count from above: count only when it matters.
  const length = text.length > maxLength ? [...text].length : text.length;
  if (length > maxLength) {
    throw new ChatError('MESSAGE_TOO_LONG', `message of ${length} characters exceeds the limit of ${maxLength}`);
  }
  if (text.trim().length === 0) throw new ChatError('EMPTY_MESSAGE', 'message text is empty');
}

/** Nicks are unique regardless of case, as on IRC. */
export function nickKey(nick: string): string {
  return nick.toLowerCase();
}

import { type ChatMessage, type Cursor, estimateMessageBytes } from '@meshchat/protocol';
import { REPLY_BUDGET_BYTES } from '../constants.js';

/** The longest prefix (oldest first) that fits one reply; at least one message. */
export function oldestWithinBudget(messages: ChatMessage[], budget = REPLY_BUDGET_BYTES): ChatMessage[] {
  let used = 0;
  for (let i = 0; i < messages.length; i++) {
    used += estimateMessageBytes(messages[i] as ChatMessage);
    if (used > budget) return messages.slice(0, Math.max(1, i));
  }
  return messages;
}

/** The longest suffix (newest messages) that fits one reply; at least one message. */
export function newestWithinBudget(messages: ChatMessage[], budget = REPLY_BUDGET_BYTES): ChatMessage[] {
  let used = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    used += estimateMessageBytes(messages[i] as ChatMessage);
    if (used > budget) return messages.slice(Math.min(messages.length - 1, i + 1));
  }
  return messages;
}

/** The cursor after seeing `page`: per origin, the highest seq in it or before. */
export function advanceCursor(cursor: Cursor, page: readonly ChatMessage[]): Cursor {
  const next: Cursor = { ...cursor };
  for (const message of page) if (message.seq > (next[message.origin] ?? 0)) next[message.origin] = message.seq;
  return next;
}

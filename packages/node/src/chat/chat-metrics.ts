import type { ErrorCode } from '@meshchat/protocol';

/**
 * What the chat layer reports as it works, for /metrics. Called on hot paths: an
 * implementation increments counters and allocates nothing per call.
 */
export interface ChatMetrics {
  /** A local client's message was committed here. */
  accepted(): void;
  /** A message or direct frame was queued for `sessions` local sessions. */
  delivered(sessions: number): void;
  /** A send or dm was acked, `latencyMs` after the node received it. */
  acked(latencyMs: number): void;
  /** An error frame went to a client. */
  errorSent(code: ErrorCode): void;
  /** A client resumed here after losing its node or connection (its hello had an inbox cursor). */
  resumed(): void;
}

export const noChatMetrics: ChatMetrics = {
  accepted() {},
  delivered() {},
  acked() {},
  errorSent() {},
  resumed() {},
};

/** How one guarantee fared in a run. */
export interface GuaranteeResult {
  /** Stable name, e.g. "durable". */
  name: string;
  /** What it promises, as printed. */
  title: string;
  /** What was checked, e.g. "2,345 acked messages on 3 live nodes". */
  checked: string;
  /** One line of evidence per violation: the message, the client or node, what it saw. */
  violations: string[];
}

/** 12345 -> "12,345". */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 message" / "2 messages". */
export function plural(n: number, noun: string): string {
  return `${count(n)} ${noun}${n === 1 ? '' : 's'}`;
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Challenge-response over HMAC-SHA256: each side sends a fresh nonce and proves it
// knows the cluster secret by MACing the other side's nonce. Binding both node ids
// and the cluster name stops a proof from being replayed to another pair or cluster.
const LABEL = 'meshchat-peer-v1';

export function createNonce(): string {
  return randomBytes(32).toString('hex');
}

/** The proof `proverId` sends to `verifierId`, who issued `verifierNonce`. */
export function computeProof(
  secret: string,
  cluster: string,
  verifierNonce: string,
  proverId: string,
  verifierId: string,
): string {
  return createHmac('sha256', secret)
    .update([LABEL, cluster, verifierNonce, proverId, verifierId].join('\u0000'))
    .digest('hex');
}

export function isValidProof(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(received, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

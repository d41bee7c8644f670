import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

export interface MintTokenOptions {
  /** The user id: the token's `sub`, which becomes the session's clientId. */
  userId: string;
  /** The display nick (claim `nick`); the node uses the user id when absent. */
  nick?: string;
  /** Lifetime: seconds, or a jose time span such as "1h", "30m", "7d". */
  ttl: number | string;
  /** HS256 with this secret, or EdDSA with this Ed25519 private key. */
  key: { hs256Secret: string } | { ed25519PrivateKey: KeyObject };
  issuer?: string;
  audience?: string;
}

/** Signs a token a node with matching `auth` settings accepts (jose). */
export function mintToken(options: MintTokenOptions): Promise<string> {
  const isHs256 = 'hs256Secret' in options.key;
  let jwt = new SignJWT(options.nick === undefined ? {} : { nick: options.nick })
    .setProtectedHeader({ alg: isHs256 ? 'HS256' : 'EdDSA', typ: 'JWT' })
    .setSubject(options.userId)
    .setIssuedAt()
    .setExpirationTime(typeof options.ttl === 'number' ? `${options.ttl}s` : options.ttl);
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return 'hs256Secret' in options.key
    ? jwt.sign(new TextEncoder().encode(options.key.hs256Secret))
    : jwt.sign(options.key.ed25519PrivateKey);
}

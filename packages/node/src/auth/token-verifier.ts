import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MAX_ID_LENGTH } from '@meshchat/protocol';
import { errors, type JWSAlgorithm, type JWTPayload, jwtVerify } from 'jose';
import type { AuthConfig } from '../config/schema.js';
import { ChatError, ConfigError } from '../errors.js';

/** Who a verified token says the client is. */
export interface VerifiedToken {
  /** The token's `sub`: the user id, which becomes the session's clientId. */
  userId: string;
  /** The `nick` claim (the `sub` when absent): the only nick the session may use. */
  nick: string;
  /** When the token expires (ms since the epoch); the session ends then. */
  expiresAt: number;
}

export interface TokenVerifierOptions {
  /** Checks the nick claim against the node's nick rules; throws a ChatError if it breaks them. */
  checkNick: (nick: string) => void;
}

/**
 * Checks the JWTs clients present in hello (jose): HS256 with the configured secret,
 * EdDSA with the configured Ed25519 public key, or either when both are configured.
 * Every refusal is a fatal ChatError with a stable code: TOKEN_EXPIRED,
 * TOKEN_SIGNATURE_INVALID (signed with another key, or altered since) or TOKEN_INVALID
 * (not a JWT, an algorithm not accepted such as "none", a claim missing or wrong).
 */
export class TokenVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly publicKey: KeyObject | undefined;
  private readonly algorithms: JWSAlgorithm[];

  constructor(
    private readonly config: AuthConfig,
    private readonly options: TokenVerifierOptions,
  ) {
    this.secret = config.hs256Secret === undefined ? undefined : new TextEncoder().encode(config.hs256Secret);
    this.publicKey = config.ed25519PublicKey === undefined ? undefined : loadPublicKey(config.ed25519PublicKey);
    this.algorithms = [...(this.secret ? ['HS256'] : []), ...(this.publicKey ? ['EdDSA'] : [])];
  }

  async verify(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        (header) => {
          const key = header.alg === 'HS256' ? this.secret : header.alg === 'EdDSA' ? this.publicKey : undefined;
          if (!key) throw new errors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
          return key;
        },
        {
          algorithms: this.algorithms,
          requiredClaims: ['sub', 'exp'],
          clockTolerance: this.config.clockToleranceSec,
          ...(this.config.issuer === undefined ? {} : { issuer: this.config.issuer }),
          ...(this.config.audience === undefined ? {} : { audience: this.config.audience }),
        },
      ));
    } catch (err) {
      throw refusal(err);
    }
    const userId = payload.sub;
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_ID_LENGTH) {
      throw new ChatError('TOKEN_INVALID', `token "sub" must be 1-${MAX_ID_LENGTH} characters`, true);
    }
    const nick = payload.nick ?? userId;
    if (typeof nick !== 'string') throw new ChatError('TOKEN_INVALID', 'token "nick" claim is not a string', true);
    try {
      this.options.checkNick(nick);
    } catch (err) {
      throw new ChatError('TOKEN_INVALID', `token "nick" claim: ${(err as Error).message}`, true);
    }
    return { userId, nick, expiresAt: (payload.exp as number) * 1000 };
  }
}

function refusal(err: unknown): ChatError {
  if (err instanceof errors.JWTExpired) return new ChatError('TOKEN_EXPIRED', 'the token has expired', true);
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new ChatError('TOKEN_SIGNATURE_INVALID', 'the token signature does not match the configured key', true);
  }
  const why = err instanceof errors.JOSEError ? err.message : 'not a JWT';
  return new ChatError('TOKEN_INVALID', `the token is not acceptable: ${why}`, true);
}

// Inline PEM, or the path of a PEM file; refused at startup with the field named.
function loadPublicKey(value: string): KeyObject {
  let pem = value;
  if (!value.includes('-----BEGIN')) {
    try {
      pem = readFileSync(value, 'utf8');
    } catch (err) {
      throw new ConfigError(`auth.ed25519PublicKey: cannot read "${value}": ${(err as NodeJS.ErrnoException).code}`);
    }
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new ConfigError(`auth.ed25519PublicKey: not a PEM public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(`auth.ed25519PublicKey: expected an Ed25519 key, got ${key.asymmetricKeyType}`);
  }
  return key;
}

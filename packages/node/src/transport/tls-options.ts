import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type ConnectionOptions, createSecureContext, type TlsOptions } from 'node:tls';
import type { TlsConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';

/** The PEM files of `tls`, read once at startup. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  /** When this node's certificate stops being valid (ms since the epoch). */
  validTo: number;
}

/**
 * Reads and checks the node's TLS files before anything listens: a missing file, a key
 * that does not match the certificate or a certificate already expired stops the node
 * with the field named.
 */
export function loadTlsMaterial(config: TlsConfig): TlsMaterial {
  const read = (field: 'cert' | 'key' | 'ca') => {
    try {
      return readFileSync(config[field]);
    } catch (err) {
      throw new ConfigError(`tls.${field}: cannot read "${config[field]}": ${(err as NodeJS.ErrnoException).code}`);
    }
  };
  const material = { cert: read('cert'), key: read('key'), ca: read('ca') };
  try {
    createSecureContext(material);
  } catch (err) {
    throw new ConfigError(`tls.key: does not fit tls.cert, or one is not PEM: ${(err as Error).message}`);
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(material.cert);
  } catch (err) {
    throw new ConfigError(`tls.cert: not a PEM certificate: ${(err as Error).message}`);
  }
  const validTo = Date.parse(certificate.validTo);
  if (validTo <= Date.now()) {
    throw new ConfigError(`tls.cert: "${config.cert}" expired on ${certificate.validTo}; renew it`);
  }
  return { ...material, validTo };
}

/** The client listener: the node proves itself; clients present no certificate. */
export function clientServerOptions(material: TlsMaterial, handshakeTimeoutMs: number): TlsOptions {
  return { cert: material.cert, key: material.key, handshakeTimeout: handshakeTimeoutMs };
}

/** The peer listener: mutual TLS, a dialler without a certificate of the cluster CA is refused. */
export function peerServerOptions(material: TlsMaterial, handshakeTimeoutMs: number): TlsOptions {
  return {
    cert: material.cert,
    key: material.key,
    ca: material.ca,
    requestCert: true,
    rejectUnauthorized: true,
    handshakeTimeout: handshakeTimeoutMs,
  };
}

/** Dialling a peer: present our certificate, and check theirs against the CA and the address. */
export function peerDialOptions(material: TlsMaterial, host: string): ConnectionOptions {
  return {
    cert: material.cert,
    key: material.key,
    ca: material.ca,
    rejectUnauthorized: true,
    ...(isIP(host) ? {} : { servername: host }),
  };
}

/** The HTTP listener: HTTPS with the node's certificate. */
export function httpServerOptions(material: TlsMaterial): TlsOptions {
  return { cert: material.cert, key: material.key };
}

/** A failed TLS handshake, worded for the log: plaintext on a TLS port is the usual one. */
export function describeTlsFailure(err: NodeJS.ErrnoException): string {
  const code = err.code ?? 'TLS_ERROR';
  const isPlaintext = /WRONG_VERSION_NUMBER|HTTP_REQUEST|UNEXPECTED_MESSAGE|PACKET_LENGTH_TOO_LONG|RECORD_LAYER/.test(
    code,
  );
  return isPlaintext ? `${code} (plaintext sent to a TLS port?)` : code;
}

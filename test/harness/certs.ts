import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.js';

const GEN_CERTS = fileURLToPath(new URL('../../scripts/gen-certs.sh', import.meta.url));

/** A certificate and its key, as file paths (what a node's `tls` config takes). */
export interface CertFiles {
  cert: string;
  key: string;
}

/** Certificates for TLS tests, made with openssl in a temp dir removed after the test. */
export interface TestCerts {
  /** The cluster CA every good certificate chains to. */
  ca: string;
  caPem: string;
  /** Good certificates naming 127.0.0.1, signed by `ca`. */
  node(name: string): CertFiles;
  /** Signed by another CA, which nodes do not trust. */
  otherCa: CertFiles & { ca: string };
  /** Signed by itself. */
  selfSigned: CertFiles;
  /** Signed by `ca`, valid only in January 2020. */
  expired: CertFiles;
}

/**
 * Makes a CA and certificates through scripts/gen-certs.sh (so the script is what the
 * tests trust), plus the bad ones a test needs: another CA's, a self-signed one and an
 * expired one (openssl ca with dates in the past).
 */
export function makeTestCerts(names: readonly string[] = ['n1', 'n2', 'n3']): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'meshchat-certs-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const good = join(dir, 'good');
  const other = join(dir, 'other');
  execFileSync('bash', [GEN_CERTS, '--out', good, '--days', '2', ...names], { stdio: 'ignore' });
  execFileSync('bash', [GEN_CERTS, '--out', other, '--days', '2', 'stranger'], { stdio: 'ignore' });

  const selfSigned = { cert: join(dir, 'self.crt'), key: join(dir, 'self.key') };
  openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    selfSigned.key,
    '-out',
    selfSigned.cert,
    '-days',
    '2',
    '-subj',
    '/CN=self-signed',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);

  const expired = { cert: join(dir, 'expired.crt'), key: join(dir, 'expired.key') };
  const csr = join(dir, 'expired.csr');
  openssl(['req', '-new', ...EC_KEY, '-keyout', expired.key, '-out', csr, '-subj', '/CN=expired', ...LEAF_EXT]);
  const db = join(dir, 'ca-db');
  mkdirSync(db);
  writeFileSync(join(db, 'index.txt'), '');
  const caConfig = join(db, 'ca.cnf');
  writeFileSync(
    caConfig,
    [
      '[ ca ]',
      'default_ca = test',
      '[ test ]',
      `database = ${join(db, 'index.txt')}`,
      `new_certs_dir = ${db}`,
      'rand_serial = yes',
      'default_md = sha256',
      'policy = any',
      'copy_extensions = copy',
      'unique_subject = no',
      '[ any ]',
      'commonName = supplied',
    ].join('\n'),
  );
  // openssl ca takes any validity dates, past ones included (x509 -days cannot go back).
  openssl([
    'ca',
    '-batch',
    '-config',
    caConfig,
    '-cert',
    join(good, 'ca.crt'),
    '-keyfile',
    join(good, 'ca.key'),
    '-in',
    csr,
    '-out',
    expired.cert,
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200201000000Z',
    '-notext',
  ]);

  const ca = join(good, 'ca.crt');
  return {
    ca,
    caPem: readFileSync(ca, 'utf8'),
    node: (name) => ({ cert: join(good, `${name}.crt`), key: join(good, `${name}.key`) }),
    otherCa: { cert: join(other, 'stranger.crt'), key: join(other, 'stranger.key'), ca: join(other, 'ca.crt') },
    selfSigned,
    expired,
  };
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const LEAF_EXT = ['-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'extendedKeyUsage=serverAuth,clientAuth'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

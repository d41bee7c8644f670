import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '@meshchat/node';
import { describe, expect, it } from 'vitest';
import { onCleanup, RawConnection, startNode, waitFor } from './helpers.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

const minimal = {
  nodeId: 'node-t',
  clientPort: 0,
  peerPort: 0,
  httpPort: 0,
  dataDir: '/tmp/meshchat-config-test',
  clusterSecret: 'a-secret-of-16-chars',
};

/** A temp directory removed after the test. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshchat-config-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `content` (JSON-encoded unless a string) to a temp file and returns its path. */
function configFile(content: unknown, name = 'node.json'): string {
  const file = join(tempDir(), name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function configError(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('CONFIG_INVALID');
    return (err as Error).message;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig', () => {
  it('fills every default the README documents from a file with only the required fields', () => {
    const config = loadConfig(configFile(minimal));
    expect(config).toMatchObject({
      ...minimal,
      cluster: 'meshchat',
      host: '127.0.0.1',
      seeds: [],
      historyOnJoin: 50,
      limits: {
        maxFrameBytes: 65536,
        maxMessageLength: 4000,
        ratePerSec: 200,
        rateBurst: 400,
        maxOutboundBytes: 1048576,
        idleTimeoutMs: 15000,
        maxConnections: 10000,
        maxConnectionsPerAddress: 1000,
        handshakeTimeoutMs: 5000,
        maxRoomsPerClient: 100,
        maxNickLength: 32,
        maxRoomNameLength: 64,
      },
      heartbeat: { heartbeatMs: 500, suspectAfterMs: 1500, deadAfterMs: 2500 },
      auth: { required: false, clockToleranceSec: 30 },
      logLevel: 'info',
    });
  });

  it('names auth.hs256Secret when auth.required has no key to check tokens with, and takes --auth.required true', () => {
    const file = configFile({ ...minimal, auth: { required: true } });
    expect(configError(() => loadConfig(file))).toBe(
      `${file}: auth.hs256Secret: auth.required needs hs256Secret or ed25519PublicKey to check tokens with`,
    );
    const secret = 'a'.repeat(32);
    const config = loadConfig(configFile({ ...minimal, auth: { hs256Secret: secret } }), {
      auth: { required: 'true' },
    });
    expect(config.auth).toMatchObject({ required: true, hs256Secret: secret });
  });

  it('lets overrides win over the file, merging nested fields like limits.ratePerSec', () => {
    const file = configFile({ ...minimal, clientPort: 7001, limits: { maxFrameBytes: 1000, ratePerSec: 10 } });
    const config = loadConfig(file, { clientPort: 7005, limits: { ratePerSec: 50 } });
    expect(config.clientPort).toBe(7005);
    expect(config.limits).toMatchObject({ maxFrameBytes: 1000, ratePerSec: 50, rateBurst: 400 });
  });

  it('takes seeds given as a comma-separated override', () => {
    const config = loadConfig(configFile(minimal), { seeds: '127.0.0.1:7101,127.0.0.1:7102' });
    expect(config.seeds).toEqual(['127.0.0.1:7101', '127.0.0.1:7102']);
  });

  it('works from overrides alone, without a file', () => {
    expect(loadConfig(undefined, { ...minimal }).nodeId).toBe('node-t');
  });

  it('names the file and the field of a bad value, with the value', () => {
    const file = configFile({ ...minimal, clientPort: 'x' });
    expect(configError(() => loadConfig(file))).toBe(
      `${file}: clientPort: expected an integer 0..65535 (0 picks a free port), got "x"`,
    );
  });

  it('names the nested field of a bad value in the file', () => {
    const file = configFile({ ...minimal, limits: { rateBurst: 0 } });
    expect(configError(() => loadConfig(file))).toBe(`${file}: limits.rateBurst: expected a positive integer, got 0`);
  });

  it('names the flag of a bad override, nested ones with dots', () => {
    const file = configFile(minimal);
    expect(configError(() => loadConfig(file, { clientPort: 'x' }))).toBe(
      '--clientPort: expected an integer 0..65535 (0 picks a free port), got "x"',
    );
    expect(configError(() => loadConfig(file, { limits: { ratePerSec: 'fast' } }))).toBe(
      '--limits.ratePerSec: expected a positive integer, got "fast"',
    );
  });

  it('reports every problem, one line each', () => {
    const file = configFile({ ...minimal, peerPort: -1, clusterSecret: 'short' });
    expect(configError(() => loadConfig(file)).split('\n')).toEqual([
      `${file}: peerPort: expected an integer 0..65535 (0 picks a free port), got -1`,
      `${file}: clusterSecret: expected at least 16 characters, got "short"`,
    ]);
  });

  it('names a missing required field', () => {
    const { nodeId: _, ...withoutNodeId } = minimal;
    const file = configFile(withoutNodeId);
    expect(configError(() => loadConfig(file))).toMatch(new RegExp(`^${escapeRegExp(file)}: nodeId: `));
  });

  it('rejects an unknown field in the file, naming it', () => {
    const file = configFile({ ...minimal, colour: 'blue' });
    expect(configError(() => loadConfig(file))).toBe(`${file}: colour: unknown field`);
    const nested = configFile({ ...minimal, limits: { maxBytes: 1 } });
    expect(configError(() => loadConfig(nested))).toBe(`${nested}: limits.maxBytes: unknown field`);
  });

  it('names each of two unknown fields separately', () => {
    const file = configFile({ ...minimal, colour: 'blue', size: 3 });
    expect(configError(() => loadConfig(file)).split('\n')).toEqual([
      `${file}: colour: unknown field`,
      `${file}: size: unknown field`,
    ]);
  });

  it('names an unknown override as a flag', () => {
    const file = configFile(minimal);
    expect(configError(() => loadConfig(file, { verbose: true }))).toBe('--verbose: unknown field');
  });

  it('names an unknown nested field of the file as the file, also when a flag sets a sibling', () => {
    const file = configFile({ ...minimal, limits: { maxBytes: 1 } });
    expect(configError(() => loadConfig(file, { limits: { ratePerSec: 5 } }))).toBe(
      `${file}: limits.maxBytes: unknown field`,
    );
  });

  it('says when the file cannot be read', () => {
    const missing = join(tempDir(), 'missing.json');
    expect(configError(() => loadConfig(missing))).toBe(`${missing}: cannot read config file: ENOENT`);
  });

  it('says when the config path cannot be read as a file', () => {
    const dir = tempDir();
    expect(configError(() => loadConfig(dir))).toBe(`${dir}: cannot read config file: EISDIR`);
  });

  it('says when the file is not valid JSON', () => {
    const file = configFile('{ "nodeId": "a", }');
    expect(configError(() => loadConfig(file))).toMatch(new RegExp(`^${escapeRegExp(file)}: not valid JSON: `));
  });

  it('says when the file holds JSON that is not an object', () => {
    const file = configFile([minimal]);
    expect(configError(() => loadConfig(file))).toBe(`${file}: expected a JSON object at the top level`);
  });
});

interface NodeProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  hasExited: () => boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `node dist/main.js ...args`; killed after the test whatever happened. */
function runMain(args: string[]): NodeProcess {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let hasExited = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // 'close' comes after the output streams have ended, so stdout and stderr are complete.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      hasExited = true;
      resolve({ code, signal });
    });
  });
  onCleanup(async () => {
    if (!hasExited) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, stdout: () => stdout, stderr: () => stderr, hasExited: () => hasExited, exited };
}

/** The parsed JSON log lines a child node has written so far. */
function logLines(proc: NodeProcess): Record<string, unknown>[] {
  return proc
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Waits for a log line with this msg; fails at once, with stderr, if the process exits first. */
async function waitForLog(proc: NodeProcess, msg: string): Promise<Record<string, unknown>> {
  const find = () => logLines(proc).find((l) => l.msg === msg);
  await waitFor(() => find() !== undefined || proc.hasExited(), `the log line "${msg}"`);
  const line = find();
  if (!line) throw new Error(`the node exited before logging "${msg}"; stderr: ${proc.stderr()}`);
  return line;
}

function goodConfigFile(overrides: Record<string, unknown> = {}): string {
  const dir = tempDir();
  return configFile({ ...minimal, nodeId: 'child-node', dataDir: join(dir, 'data'), ...overrides });
}

describe('meshchat-node process', () => {
  it('exits with status 2 and names the file and field of a bad config file', async () => {
    const file = configFile({ ...minimal, clientPort: 'x' });
    const proc = runMain(['--config', file]);
    expect(await proc.exited).toEqual({ code: 2, signal: null });
    expect(proc.stderr()).toBe(
      `meshchat-node: invalid configuration\n${file}: clientPort: expected an integer 0..65535 (0 picks a free port), got "x"\n`,
    );
  });

  it('exits with status 2 and names the flag of a bad override', async () => {
    const proc = runMain(['--config', goodConfigFile(), '--limits.ratePerSec', 'fast']);
    expect(await proc.exited).toEqual({ code: 2, signal: null });
    expect(proc.stderr()).toBe(
      'meshchat-node: invalid configuration\n--limits.ratePerSec: expected a positive integer, got "fast"\n',
    );
  });

  it('exits with status 2 when the config file does not exist', async () => {
    const missing = join(tempDir(), 'nope.json');
    const proc = runMain(['--config', missing]);
    expect(await proc.exited).toEqual({ code: 2, signal: null });
    expect(proc.stderr()).toBe(`meshchat-node: invalid configuration\n${missing}: cannot read config file: ENOENT\n`);
  });

  it('exits with status 1 and says why when its client port is taken', async () => {
    const other = await startNode();
    const port = other.clientAddress.port;
    const proc = runMain(['--config', goodConfigFile({ clientPort: port })]);
    expect(await proc.exited).toEqual({ code: 1, signal: null });
    expect(proc.stderr()).toContain(`cannot listen for clients on 127.0.0.1:${port}: EADDRINUSE`);
  });

  it('takes a number-like --nodeId flag as the string id', async () => {
    const proc = runMain(['--config', goodConfigFile(), '--nodeId', '42']);
    expect(await waitForLog(proc, 'node listening')).toMatchObject({ nodeId: '42' });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`logs "node listening" with its nodeId, and on ${signal} tells clients SHUTTING_DOWN and exits 0`, async () => {
      const proc = runMain(['--config', goodConfigFile(), '--limits.ratePerSec', '50']);
      const listening = await waitForLog(proc, 'node listening');
      expect(listening).toMatchObject({ nodeId: 'child-node', level: 30 });
      expect(listening.clients).toMatch(/^127\.0\.0\.1:\d+$/);

      const raw = await RawConnection.open(listening.clients as string);
      await raw.hello('alice');
      proc.child.kill(signal);
      expect(await raw.waitForFrame('error')).toMatchObject({ code: 'SHUTTING_DOWN', fatal: true });
      await raw.waitForClose();
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(logLines(proc).find((l) => l.msg === 'shutting down')).toMatchObject({ signal, nodeId: 'child-node' });
      expect(proc.stderr()).toBe('');
    });
  }
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ChatMessage } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import {
  connectClient,
  FaultProxy,
  onCleanup,
  startNode,
  type TestNode,
  waitFor,
  waitForFullMesh,
} from '../../../test/harness/index.js';
import { ChatApp } from '../src/cli/chat-app.js';
import { clientIdPath, configDir } from '../src/cli/client-id.js';
import { parseLine } from '../src/cli/commands.js';
import { clock, Formatter, nickColor, sanitize, shouldUseColor } from '../src/cli/format.js';
import { nickFromEnv, parseServers } from '../src/cli/options.js';
import { Terminal } from '../src/cli/terminal.js';
import { ChatClient } from '../src/index.js';

const CLI_MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** The terminal client as a child process, stdin piped, output recorded. */
class CliProcess {
  stdout = '';
  stderr = '';
  /** undefined while running; the exit code (null when killed by a signal) after. */
  exitCode: number | null | undefined = undefined;
  private readonly exited: Promise<number | null>;

  constructor(private readonly child: ChildProcessByStdio<Writable, Readable, Readable>) {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      });
    });
    onCleanup(async () => {
      if (this.exitCode === undefined) child.kill('SIGKILL');
      await this.exited;
    });
  }

  static start(args: string[], options: { configDir: string; env?: NodeJS.ProcessEnv }): CliProcess {
    if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`npx tsc -b\` first`);
    const child = spawn(process.execPath, [CLI_MAIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, MESHCHAT_CONFIG_DIR: options.configDir, NO_COLOR: '1', ...options.env },
    });
    return new CliProcess(child);
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  endInput(): void {
    this.child.stdin.end();
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void> {
    const matches = () => (typeof text === 'string' ? this.stdout.includes(text) : text.test(this.stdout));
    await waitFor(matches, `stdout to show ${text}; it shows:\n${this.stdout}${this.stderr}`, timeoutMs);
  }

  async waitForExit(): Promise<number | null> {
    await waitFor(() => this.exitCode !== undefined, `the client to exit; it shows:\n${this.stdout}${this.stderr}`);
    return this.exited;
  }

  /** Output after the first occurrence of `marker`, to check what came later. */
  after(marker: string): string {
    const index = this.stdout.indexOf(marker);
    return index < 0 ? '' : this.stdout.slice(index + marker.length);
  }
}

function tempConfigDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshchat-cli-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts a CLI on `node` as `nick` and waits until it has joined its room. */
async function startCli(
  servers: TestNode | TestNode[],
  nick: string,
  { configDir = tempConfigDir(), args = [] as string[], room = 'general' } = {},
): Promise<CliProcess> {
  const addresses = (Array.isArray(servers) ? servers : [servers]).map((n) => n.address).join(',');
  const cli = CliProcess.start(['--servers', addresses, '--nick', nick, '--room', room, ...args], { configDir });
  await cli.waitForOutput(`joined #${room}`);
  return cli;
}

describe('terminal client against a node', () => {
  it('shows a line typed in one client in the other, with the sender nick, and presence', async () => {
    const node = await startNode();
    const alice = await startCli(node, 'alice');
    expect(alice.stdout).toContain(`connected to ${node.nodeId} (${node.address})`);
    const bob = await startCli(node, 'bob');
    await alice.waitForOutput(`bob (${node.nodeId}) joined #general`);

    alice.type('hello bob, how are you?');
    await bob.waitForOutput(/\d\d:\d\d alice: hello bob, how are you\?/);
    // The sender sees its own line once the node has delivered it.
    await alice.waitForOutput('alice: hello bob, how are you?');
  });

  it('delivers /msg as a direct message and confirms it to the sender', async () => {
    const node = await startNode();
    const alice = await startCli(node, 'alice');
    const bob = await startCli(node, 'bob');
    alice.type('/msg bob psst, over here');
    await bob.waitForOutput('[dm] alice: psst, over here');
    await alice.waitForOutput('-> bob: psst, over here');
  });

  it('lists everyone in the room with /who, and rooms with /rooms', async () => {
    const node = await startNode();
    const alice = await startCli(node, 'alice');
    await startCli(node, 'bob');
    alice.type('/who');
    await alice.waitForOutput(`2 members in #general: alice (${node.nodeId}), bob (${node.nodeId})`);
    alice.type('/rooms');
    await alice.waitForOutput('rooms: #general (2 members)');
  });

  it('prints recent history on join and the last n messages on /history n', async () => {
    const node = await startNode();
    const alice = await startCli(node, 'alice');
    for (const text of ['one', 'two', 'three']) alice.type(text);
    await alice.waitForOutput('alice: three');

    const bob = await startCli(node, 'bob');
    const beforeJoin = bob.stdout.slice(0, bob.stdout.indexOf('joined #general'));
    expect(beforeJoin).toMatch(/alice: one\n.*alice: two\n.*alice: three\n/);

    bob.type('/history 2');
    // The header and each message are separate writes: wait for the last one.
    await bob.waitForOutput(/last 2 messages of #general[^\n]*\n(.*\n){2}/);
    expect(bob.after('last 2 messages of #general')).toMatch(/^[^\n]*\n.*alice: two\n.*alice: three\n/);
  });

  it('switches rooms with /join and stops receiving a room after /leave', async () => {
    const node = await startNode();
    const alice = await startCli(node, 'alice');
    const bob = await startCli(node, 'bob');

    alice.type('/join #random');
    await alice.waitForOutput('joined #random');
    bob.type('/join random');
    await bob.waitForOutput('joined #random');
    await alice.waitForOutput(`bob (${node.nodeId}) joined #random`);
    alice.type('plain text goes to the current room');
    await bob.waitForOutput(/\d\d:\d\d alice: plain text goes to the current room/);

    bob.type('/leave');
    await bob.waitForOutput('left #random');
    await bob.waitForOutput('now in #general');
    await alice.waitForOutput(`bob (${node.nodeId}) left #random`);

    alice.type('anyone still in random?');
    alice.type('/join general');
    alice.type('back in general');
    // Messages of other rooms than the current one are tagged with their room.
    await bob.waitForOutput('alice: back in general');
    await alice.waitForOutput('#random alice: anyone still in random?');
    // Per-sender order: had bob still been in #random, that line would be here by now.
    expect(bob.stdout).not.toContain('anyone still in random?');
  });

  it('prints an error for an unknown command or bad arguments and keeps running', async () => {
    const node = await startNode();
    const alice = await startCli(node, 'alice');
    alice.type('/frobnicate now');
    await alice.waitForOutput('! UNKNOWN_COMMAND: unknown command /frobnicate; /help lists the commands');
    alice.type('/history lots');
    await alice.waitForOutput('! USAGE: usage: /history [n]: n is a whole number from 1 to 1000');
    alice.type('/msg bob');
    await alice.waitForOutput('! USAGE: usage: /msg <nick> <text>');
    alice.type('/msg nobody hello?');
    await alice.waitForOutput('! NO_SUCH_USER: no user "nobody" is connected');
    alice.type('/join Not-A-Room');
    await alice.waitForOutput(/! INVALID_ROOM: room "Not-A-Room" is invalid/);

    alice.type('/who');
    await alice.waitForOutput('1 member in #general: alice');
    expect(alice.exitCode).toBeUndefined();
  });

  it('exits 0 on /quit, at the end of input and on SIGINT, leaving the room', async () => {
    const node = await startNode();
    const observer = await startCli(node, 'observer');
    const quitter = await startCli(node, 'quitter');
    const eof = await startCli(node, 'eof');
    const interrupted = await startCli(node, 'interrupted');

    quitter.type('/quit');
    eof.type('last words');
    eof.endInput();
    interrupted.signal('SIGINT');

    expect(await quitter.waitForExit()).toBe(0);
    expect(await eof.waitForExit()).toBe(0);
    expect(await interrupted.waitForExit()).toBe(0);
    // End of input still delivers what was typed before it.
    await observer.waitForOutput('eof: last words');
    for (const nick of ['quitter', 'eof', 'interrupted']) await observer.waitForOutput(`${nick} (${node.nodeId}) left`);
    expect(quitter.stderr + eof.stderr + interrupted.stderr).toBe('');
  });

  it('exits 1 with the reason on stderr when the nick is taken or no server answers', async () => {
    const node = await startNode();
    await startCli(node, 'alice');
    // Another user (another config directory, so another clientId) wants the same nick.
    const impostor = CliProcess.start(['--servers', node.address, '--nick', 'ALICE'], { configDir: tempConfigDir() });
    expect(await impostor.waitForExit()).toBe(1);
    expect(impostor.stderr).toContain('meshchat: cannot start: NICK_TAKEN: nick "ALICE" is in use; pick another');

    const stranded = CliProcess.start(['--servers', '127.0.0.1:1', '--nick', 'bob'], { configDir: tempConfigDir() });
    expect(await stranded.waitForExit()).toBe(1);
    expect(stranded.stderr).toContain('meshchat: cannot start: CONNECT_FAILED: no server answered: 127.0.0.1:1');

    const confused = CliProcess.start(['--servers', 'nowhere', '--nick', 'bob'], { configDir: tempConfigDir() });
    expect(await confused.waitForExit()).toBe(1);
    expect(confused.stderr).toContain('--servers: invalid server address "nowhere": expected host:port');
  });

  it('exits 1 saying why when a second start of the same nick and clientId takes over its session', async () => {
    const node = await startNode();
    const dir = tempConfigDir();
    const first = await startCli(node, 'alice', { configDir: dir });
    await startCli(node, 'alice', { configDir: dir });
    expect(await first.waitForExit()).toBe(1);
    expect(first.stdout).toContain('! SESSION_REPLACED: replaced by a newer connection of the same client');
    expect(first.stdout).not.toContain('reconnecting');
    expect(first.stderr).toContain(
      `meshchat: disconnected for good from ${node.nodeId}: replaced by a newer connection`,
    );
  });

  it('keeps one clientId per nick in the config directory and reuses it on the next start', async () => {
    const node = await startNode();
    const observer = await connectClient(node.address, 'observer');
    await observer.client.join('general');
    const dir = tempConfigDir();
    const idFile = join(dir, 'clients', 'alice.id');
    const joinedIds = () =>
      observer.presence
        .filter((p) => p.event === 'joined' && p.member.nick.toLowerCase() === 'alice')
        .map((p) => p.member.clientId);

    const first = await startCli(node, 'alice', { configDir: dir });
    const clientId = readFileSync(idFile, 'utf8').trim();
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(() => joinedIds().length === 1, 'alice to join');
    first.type('/quit');
    expect(await first.waitForExit()).toBe(0);

    const second = await startCli(node, 'Alice', { configDir: dir });
    await waitFor(() => joinedIds().length === 2, 'alice to join again');
    expect(joinedIds()).toEqual([clientId, clientId]);
    second.type('/quit');
    expect(await second.waitForExit()).toBe(0);

    // --client-id wins over the file.
    await startCli(node, 'alice', { configDir: dir, args: ['--client-id', 'given-id'] });
    await waitFor(() => joinedIds().length === 3, 'alice to join with the given id');
    expect(joinedIds()[2]).toBe('given-id');
    expect(readFileSync(idFile, 'utf8').trim()).toBe(clientId);
  });

  it('shows failover as it happens when its node shuts down, and keeps chatting', async () => {
    const a = await startNode({ nodeId: 'node-a' });
    const b = await startNode({ nodeId: 'node-b' });
    const alice = await startCli([a, b], 'alice');
    const first = /connected to (node-[ab]) /.exec(alice.stdout)?.[1];
    const [lost, other] = first === 'node-a' ? [a, b] : [b, a];

    await lost.stop();
    await alice.waitForOutput(`connection to ${lost.nodeId} lost (SHUTTING_DOWN`);
    await alice.waitForOutput(
      new RegExp(`reconnected to ${other.nodeId} ${other.address} in \\d+ ms · 0 messages caught up`),
    );
    alice.type('still here');
    await alice.waitForOutput('alice: still here');
  });
});

describe('terminal client pieces', () => {
  const message = (overrides: Partial<ChatMessage> = {}): ChatMessage => ({
    room: 'general',
    origin: 'node-a',
    seq: 1,
    hlc: 1,
    from: { clientId: 'c1', nick: 'alice' },
    text: 'hi',
    clientMsgId: 'm1',
    sentAt: new Date(2024, 0, 1, 9, 5).getTime(),
    ...overrides,
  });

  it('parses commands, plain text and mistakes', () => {
    expect(parseLine('  hello  ')).toEqual({ command: { name: 'say', text: 'hello' } });
    expect(parseLine('//shrug')).toEqual({ command: { name: 'say', text: '/shrug' } });
    expect(parseLine('   ')).toEqual({ empty: true });
    expect(parseLine('/join #Random')).toEqual({ command: { name: 'join', room: 'Random' } });
    expect(parseLine('/leave')).toEqual({ command: { name: 'leave' } });
    expect(parseLine('/who dev')).toEqual({ command: { name: 'who', room: 'dev' } });
    expect(parseLine('/msg bob  two  spaces ')).toEqual({ command: { name: 'msg', nick: 'bob', text: 'two  spaces' } });
    expect(parseLine('/history')).toEqual({ command: { name: 'history', limit: 20 } });
    expect(parseLine('/HISTORY 5')).toEqual({ command: { name: 'history', limit: 5 } });
    expect(parseLine('/quit')).toEqual({ command: { name: 'quit' } });
    expect(parseLine('/join')).toMatchObject({ error: { code: 'USAGE', message: 'usage: /join <room>' } });
    expect(parseLine('/join a b')).toMatchObject({ error: { code: 'USAGE' } });
    expect(parseLine('/history 0')).toMatchObject({ error: { code: 'USAGE' } });
    expect(parseLine('/history 1001')).toMatchObject({ error: { code: 'USAGE' } });
    expect(parseLine('/toString')).toMatchObject({ error: { code: 'UNKNOWN_COMMAND' } });
  });

  it('formats lines as "HH:MM nick: text", naming the room when it is not the current one', () => {
    const format = new Formatter({ color: false, now: () => new Date(2024, 0, 1, 23, 59).getTime() });
    expect(clock(new Date(2024, 0, 1, 9, 5).getTime())).toBe('09:05');
    expect(format.message(message(), 'general')).toBe('09:05 alice: hi');
    expect(format.message(message({ room: 'dev' }), 'general')).toBe('09:05 #dev alice: hi');
    const { room: _, origin: __, seq: ___, ...rest } = message();
    expect(format.direct({ ...rest, id: { room: '@c2', origin: 'node-a', seq: 1 }, to: 'bob' })).toBe(
      '09:05 [dm] alice: hi',
    );
    expect(format.sentDirect('bob', 'psst')).toBe('23:59 -> bob: psst');
    expect(format.info('joined #general')).toBe('23:59 * joined #general');
    expect(format.error('NOT_IN_ROOM', 'join first')).toBe('23:59 ! NOT_IN_ROOM: join first');
    expect(format.prompt('node-a', 'general')).toBe('[node-a #general] > ');
    expect(format.prompt(undefined, 'general')).toBe('[reconnecting #general] > ');
  });

  it('colors nicks by a stable hash only when asked, and dims system lines', () => {
    const format = new Formatter({ color: true, now: () => new Date(2024, 0, 1, 8, 0).getTime() });
    expect(nickColor('alice')).toBe(nickColor('ALICE'));
    expect(new Set(['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map(nickColor)).size).toBeGreaterThan(1);
    expect(format.nick('alice')).toBe(`\u001b[${nickColor('alice')}malice\u001b[39m`);
    expect(format.info('x')).toBe('\u001b[2m08:00 * x\u001b[22m');
    expect(shouldUseColor({ isTTY: true }, {})).toBe(true);
    expect(shouldUseColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldUseColor({ isTTY: false }, {})).toBe(false);
  });

  it('neutralises control characters in text from others', () => {
    expect(sanitize('red\u001b[31m alert\u0007')).toBe('red\uFFFD[31m alert\uFFFD');
    expect(sanitize('a\tb\r\nc')).toBe('a  b\uFFFD\n      c');
  });

  it('derives settings from the environment', () => {
    expect(configDir({ MESHCHAT_CONFIG_DIR: '/m', XDG_CONFIG_HOME: '/x' }, '/home/u')).toBe('/m');
    expect(configDir({ XDG_CONFIG_HOME: '/x' }, '/home/u')).toBe('/x/meshchat');
    expect(configDir({ XDG_CONFIG_HOME: 'relative' }, '/home/u')).toBe('/home/u/.config/meshchat');
    expect(clientIdPath('/m', 'Bob[away]')).toBe('/m/clients/bob%5Baway%5D.id');
    expect(nickFromEnv({ USER: 'jane.doe' })).toBe('janedoe');
    expect(nickFromEnv({ USER: '42' })).toBeUndefined();
    expect(parseServers(' 127.0.0.1:7001, [::1]:7002 ,')).toEqual(['127.0.0.1:7001', '[::1]:7002']);
    expect(() => parseServers('localhost')).toThrow(/expected host:port/);
    expect(parseServers('tls://chat.example:7001,127.0.0.1:7002')).toEqual([
      'tls://chat.example:7001',
      '127.0.0.1:7002',
    ]);
    expect(() => parseServers('tls://chat.example')).toThrow(/expected host:port/);
  });
});

/**
 * Just enough of a VT100 to replay what readline and the printer write: printable
 * text with deferred line wrap, CR/LF, and the cursor and erase sequences they use.
 */
class Screen {
  readonly lines: string[][] = [[]];
  private row = 0;
  private col = 0;
  private isWrapPending = false;

  constructor(readonly columns: number) {}

  write(data: string): void {
    for (let i = 0; i < data.length; i++) {
      const char = data[i] as string;
      if (char === '\u001b') {
        const csi = /^\[(\??)(\d*)([A-Za-z])/.exec(data.slice(i + 1));
        if (!csi) throw new Error(`unsupported escape ${JSON.stringify(data.slice(i, i + 8))}`);
        if (!csi[1]) this.control(Number(csi[2] || 0), csi[3] as string);
        i += csi[0].length;
      } else if (char === '\n') {
        this.moveTo(this.row + 1, 0); // the tty's ONLCR turns LF into CR LF
      } else if (char === '\r') {
        this.moveTo(this.row, 0);
      } else {
        if (this.isWrapPending) this.moveTo(this.row + 1, 0);
        (this.lines[this.row] as string[])[this.col] = char;
        if (this.col === this.columns - 1) this.isWrapPending = true;
        else this.col++;
      }
    }
  }

  /** The screen's text, trailing blanks trimmed, and where the cursor is. */
  get text(): string[] {
    return this.lines.map((line) =>
      Array.from(line, (c) => c ?? ' ')
        .join('')
        .trimEnd(),
    );
  }

  get cursor(): { row: number; col: number } {
    return { row: this.row, col: this.col };
  }

  private control(n: number, command: string): void {
    const count = n || 1;
    if (command === 'A') this.moveTo(Math.max(0, this.row - count), this.col);
    else if (command === 'B') this.moveTo(this.row + count, this.col);
    else if (command === 'C') this.moveTo(this.row, Math.min(this.columns - 1, this.col + count));
    else if (command === 'D') this.moveTo(this.row, Math.max(0, this.col - count));
    else if (command === 'G') this.moveTo(this.row, count - 1);
    else if (command === 'J') {
      this.lines[this.row] = (this.lines[this.row] as string[]).slice(0, this.col);
      this.lines.length = this.row + 1;
    } else if (command === 'K')
      this.lines[this.row] = n === 2 ? [] : (this.lines[this.row] as string[]).slice(0, this.col);
    else throw new Error(`unsupported control sequence ${n}${command}`);
  }

  private moveTo(row: number, col: number): void {
    while (this.lines.length <= row) this.lines.push([]);
    this.row = row;
    this.col = col;
    this.isWrapPending = false;
  }
}

describe('Terminal printer on a TTY', () => {
  function fakeTty(columns: number) {
    const screen = new Screen(columns);
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const output = Object.assign(new PassThrough(), { isTTY: true, columns, rows: 24 });
    output.setEncoding('utf8').on('data', (chunk: string) => screen.write(chunk));
    const terminal = new Terminal({ input, output });
    const lines: string[] = [];
    terminal.onLine((line) => lines.push(line));
    onCleanup(() => terminal.close());
    // Keystrokes and screen writes go through streams: let them land before looking.
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    return { screen, input, terminal, lines, settle };
  }

  it('prints incoming lines above the prompt and keeps the half-typed line intact', async () => {
    const { screen, input, terminal, lines, settle } = fakeTty(80);
    terminal.setPrompt('[node-a #general] > ');
    terminal.showPrompt();
    input.write('hello wor');
    await settle();
    terminal.print('12:00 bob: are you there?');
    terminal.print('12:00 * carol (node-b) joined #general');
    await settle();
    expect(screen.text).toEqual([
      '12:00 bob: are you there?',
      '12:00 * carol (node-b) joined #general',
      '[node-a #general] > hello wor',
    ]);
    expect(screen.cursor).toEqual({ row: 2, col: '[node-a #general] > hello wor'.length });

    input.write('ld\r');
    await settle();
    expect(lines).toEqual(['hello world']);
  });

  it.each(['typed', 'pasted'])(
    'keeps a %s line that wraps over rows intact, with the cursor inside it',
    async (how) => {
      const { screen, input, terminal, lines, settle } = fakeTty(20);
      terminal.setPrompt('> ');
      terminal.showPrompt();
      const text = 'abcdefghijklmnopqrstuvwxyz0123456789';
      // readline redraws when typing wraps the line, but not within one pasted chunk.
      for (const chunk of how === 'typed' ? text : [text]) {
        input.write(chunk);
        await settle();
      }
      input.write('\u001b[D\u001b[D'); // two steps left
      await settle();
      terminal.print('09:00 bob: one');
      terminal.print('09:00 bob: two');
      await settle();
      expect(screen.text).toEqual(['09:00 bob: one', '09:00 bob: two', '> abcdefghijklmnopqr', 'stuvwxyz0123456789']);
      expect(screen.cursor).toEqual({ row: 3, col: 16 });

      input.write('!');
      await settle();
      input.write('\r');
      await settle();
      expect(lines).toEqual(['abcdefghijklmnopqrstuvwxyz01234567!89']);
    },
  );

  it('shows a failover as it happens (the loss, what was caught up, where it went and how long it took) and keeps the half-typed line', async () => {
    const a = await startNode({ nodeId: 'n1' });
    const b = await startNode({ nodeId: 'n2', seeds: [a.peerAddress] });
    await waitForFullMesh([a, b]);
    const [toA, toB] = [await FaultProxy.start(a.address), await FaultProxy.start(b.address)];
    const client = new ChatClient({
      servers: [toA.address, toB.address],
      nick: 'alice',
      random: () => 0.999999,
      discoverServers: false,
      backoff: { initialMs: 20, maxMs: 50 },
    });
    const { screen, input, terminal, settle } = fakeTty(120);
    const app = new ChatApp({ client, terminal, format: new Formatter({ color: false }), printFatal: () => {} });
    onCleanup(() => app.quit({ flush: false }));
    void app.run('general');
    // The screen without the HH:MM of each line.
    const shown = () => screen.text.map((line) => line.replace(/^\d\d:\d\d /, ''));
    const waitForLine = async (matches: (line: string) => boolean, what: string) => {
      await waitFor(() => shown().some(matches), what).catch((err: Error) => {
        throw new Error(`${err.message}; the screen shows:\n${shown().join('\n')}`);
      });
    };
    await waitForLine((l) => l.startsWith('* joined #general'), 'alice to join');
    const bob = await connectClient(b.address, 'bob');
    await bob.client.join('general');
    await waitForLine((l) => l.startsWith('* bob (n2) joined'), "bob's join");
    input.write('half typ');
    await settle();

    toA.block();
    toB.block();
    await waitFor(() => !client.isConnected, 'alice to lose n1');
    await bob.client.send('general', 'while you were away');
    await bob.client.dm('alice', 'psst');
    toB.unblock();
    const reconnected = new RegExp(`^\\* reconnected to n2 ${toB.address} in \\d+ ms · 2 messages caught up$`);
    await waitForLine((l) => reconnected.test(l), 'the reconnect line');
    await settle();
    const lost = shown().indexOf('* connection to n1 lost (socket closed) · reconnecting…');
    expect(lost).toBeGreaterThan(0);
    // Attempts that find both proxies shut say so; the caught-up DM and room message
    // come from two replays, in either order.
    const after = shown()
      .slice(lost + 1)
      .filter((line) => !line.startsWith('* still reconnecting (socket closed) · trying'));
    expect(after.slice(0, 2).sort()).toEqual(['[dm] bob: psst', 'bob: while you were away']);
    expect(after.slice(2)).toEqual([expect.stringMatching(reconnected), '[n2 #general] > half typ']);
    expect(screen.cursor).toEqual({ row: screen.text.length - 1, col: '[n2 #general] > half typ'.length });

    input.write('ed\r');
    await waitFor(() => bob.messages.some((m) => m.text === 'half typed'), 'bob to get the finished line');
  });
});

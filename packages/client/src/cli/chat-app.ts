import type { ChatMessage } from '@meshchat/protocol';
import type { BaseChatClient, DisconnectedInfo } from '../chat-client.js';
import { type CommandContext, parseLine, runCommand } from './commands.js';
import { QUIT_FLUSH_MS } from './constants.js';
import { count, type Formatter, sanitize } from './format.js';
import type { Terminal } from './terminal.js';

export interface ChatAppOptions {
  client: BaseChatClient;
  terminal: Terminal;
  format: Formatter;
  /** Where a reason to stop goes (stderr), so it is seen even when stdout is piped away. */
  printFatal(text: string): void;
}

/**
 * The terminal client: shows what the ChatClient reports (messages, DMs, presence,
 * failover) and runs what the user types, one line after another.
 */
export class ChatApp {
  private readonly client: BaseChatClient;
  private readonly terminal: Terminal;
  private readonly format: Formatter;
  private readonly printFatal: (text: string) => void;
  private currentRoom: string | undefined;
  private hasConnected = false;
  private lost: DisconnectedInfo | undefined;
  private isStarted = false;
  private isQuitting = false;
  private isClosing = false;
  // Sends waiting for their ack; quitting gives them a moment to land.
  private readonly sends = new Set<Promise<unknown>>();
  // Rooms whose join reply is awaited, with the live messages that came meanwhile.
  private readonly joining = new Map<string, ChatMessage[]>();
  // Lines run in order (a "/join x" before "hello" must say hello in x), and only once
  // the start-up join is done.
  private lines: Promise<void>;
  private startLines!: () => void;
  private readonly finished: Promise<number>;
  private finish!: (exitCode: number) => void;
  private readonly commandContext: CommandContext;

  constructor(options: ChatAppOptions) {
    this.client = options.client;
    this.terminal = options.terminal;
    this.format = options.format;
    this.printFatal = options.printFatal;
    this.commandContext = {
      client: this.client,
      format: this.format,
      print: (line) => this.print(line),
      currentRoom: () => this.currentRoom,
      setCurrentRoom: (room) => this.setCurrentRoom(room),
      enterRoom: (room) => this.enterRoom(room),
      track: (send) => this.track(send),
      quit: () => this.quit({ flush: true }),
    };
    this.lines = new Promise((resolve) => {
      this.startLines = resolve;
    });
    this.finished = new Promise((resolve) => {
      this.finish = resolve;
    });
    this.showClientEvents();
    this.terminal.onLine((line) => this.enqueue(() => this.runLine(line)));
    // End of input quits after the lines before it, and waits for their acks.
    this.terminal.onEnd(() => this.enqueue(() => this.quit({ flush: true })));
  }

  /**
   * Connects, joins `room` and takes input until /quit, end of input or a signal.
   * Resolves with the exit code: 0 after a requested quit, 1 when the client could
   * not start or was stopped for good by the cluster.
   */
  async run(room: string): Promise<number> {
    try {
      await this.client.connect();
      await this.enterRoom(room);
    } catch (err) {
      if (this.isQuitting) return this.finished;
      const { code, message } = describeError(err);
      this.printFatal(`meshchat: cannot start: ${code}: ${message}`);
      await this.close();
      return 1;
    }
    this.isStarted = true;
    this.updatePrompt();
    this.terminal.showPrompt();
    this.startLines();
    return this.finished;
  }

  /** Leaves cleanly; with `flush`, unacked sends first get QUIT_FLUSH_MS to be acked. */
  async quit({ flush }: { flush: boolean }): Promise<void> {
    if (this.isQuitting) return;
    this.isQuitting = true;
    if (flush && this.sends.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise((resolve) => {
        timer = setTimeout(resolve, QUIT_FLUSH_MS);
      });
      await Promise.race([Promise.allSettled([...this.sends]), deadline]);
      clearTimeout(timer);
    }
    await this.close();
    this.finish(0);
  }

  private async close(): Promise<void> {
    this.isClosing = true;
    await this.client.close();
    this.terminal.close();
  }

  private showClientEvents(): void {
    const { client, format } = this;
    client.on('message', (message) => {
      const held = this.joining.get(message.room);
      if (held) held.push(message);
      else this.print(format.message(message, this.currentRoom));
    });
    client.on('direct', (message) => this.print(format.direct(message)));
    client.on('presence', ({ room, event, member }) => {
      this.print(format.info(`${format.nick(member.nick)} (${sanitize(member.nodeId)}) ${event} ${format.room(room)}`));
    });
    client.on('connected', ({ nodeId, server, failoverMs, caughtUp }) => {
      this.hasConnected = true;
      const node = sanitize(nodeId);
      if (failoverMs === undefined) {
        this.print(format.info(`connected to ${node} (${server})`));
      } else {
        const caught = `${count(caughtUp, 'message')} caught up`;
        this.print(format.info(`reconnected to ${node} ${server} in ${failoverMs} ms · ${caught}`));
      }
      this.updatePrompt();
    });
    client.on('disconnected', (lost) => {
      // Said with the first 'reconnecting', which follows at once unless the loss is
      // final (e.g. SESSION_REPLACED): then 'closed' says so instead.
      this.lost = lost;
      this.updatePrompt();
    });
    client.on('reconnecting', ({ attempt, delayMs, server, reason }) => {
      if (this.isClosing) return;
      if (this.lost) {
        const { nodeId, reason } = this.lost;
        this.lost = undefined;
        this.print(format.info(`connection to ${sanitize(nodeId)} lost (${sanitize(reason)}) · reconnecting…`));
        return;
      }
      // If it drags on, say so at attempts 2, 4, 8, …: enough to see it is alive,
      // without filling the screen.
      const isPowerOfTwo = (attempt & (attempt - 1)) === 0;
      if (!this.hasConnected || attempt < 2 || !isPowerOfTwo) return;
      const why = sanitize(reason);
      this.print(format.info(`still reconnecting (${why}) · trying ${server} in ${delayMs} ms (attempt ${attempt})`));
    });
    client.on('error', (error) => {
      // Before the start is done, main reports the reason once, on stderr.
      if (this.isStarted && !this.isClosing) this.printError(error);
    });
    client.on('closed', ({ reason }) => {
      // Before the start is done, run() reports why it failed.
      if (this.isClosing || !this.isStarted) return;
      const from = this.lost ? ` from ${sanitize(this.lost.nodeId)}` : '';
      this.printFatal(`meshchat: disconnected for good${from}: ${reason}`);
      void this.close().then(() => this.finish(1));
    });
  }

  private enqueue(task: () => Promise<void>): void {
    this.lines = this.lines.then(task).catch((err: unknown) => this.printError(err));
  }

  private async runLine(line: string): Promise<void> {
    if (this.isQuitting) return;
    const parsed = parseLine(line);
    if ('empty' in parsed) return;
    if ('error' in parsed) {
      this.print(this.format.error(parsed.error.code, parsed.error.message));
      return;
    }
    await runCommand(parsed.command, this.commandContext);
  }

  private async enterRoom(room: string): Promise<void> {
    const { format } = this;
    if (this.client.joinedRooms.includes(room)) {
      this.setCurrentRoom(room);
      this.print(format.info(`now in ${format.room(room)}`));
      return;
    }
    // Live messages can arrive in the same read as the join's reply, before this
    // continues: they are held so they print after the history and the "joined" line.
    const held: ChatMessage[] = [];
    this.joining.set(room, held);
    try {
      const { members, history } = await this.client.join(room);
      this.setCurrentRoom(room);
      for (const message of history) this.print(format.message(message, room));
      this.print(format.info(`joined ${format.room(room)} · ${members.length} here: ${format.members(members)}`));
      for (const message of held) this.print(format.message(message, room));
    } finally {
      this.joining.delete(room);
    }
  }

  private setCurrentRoom(room: string | undefined): void {
    this.currentRoom = room;
    this.updatePrompt();
  }

  private updatePrompt(): void {
    this.terminal.setPrompt(this.format.prompt(this.client.nodeId, this.currentRoom));
  }

  private track(send: Promise<unknown>): void {
    const settled = send
      .catch((err: unknown) => {
        if (!this.isClosing) this.printError(err);
      })
      .finally(() => this.sends.delete(settled));
    this.sends.add(settled);
  }

  private printError(err: unknown): void {
    const { code, message } = describeError(err);
    this.print(this.format.error(code, message));
  }

  private print(line: string): void {
    this.terminal.print(line);
  }
}

/** A ChatClientError or CommandError gives its stable code; anything else is ERROR. */
function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') {
    return { code: err.code, message: err.message };
  }
  return { code: 'ERROR', message: err instanceof Error ? err.message : String(err) };
}

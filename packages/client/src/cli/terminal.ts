import { clearScreenDown, createInterface, cursorTo, type Interface, moveCursor } from 'node:readline';

export interface TerminalStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * The screen and the keyboard. On a terminal, lines printed while the user types go
 * above the prompt and the half-typed line is redrawn below them untouched; when
 * stdin or stdout is not a terminal (pipes, tests) it reads and prints plain lines.
 */
export class Terminal {
  readonly isInteractive: boolean;
  private readonly output: TerminalStreams['output'];
  private readonly readline: Interface;
  private isPromptShown = false;

  constructor({ input, output }: TerminalStreams) {
    this.output = output;
    this.isInteractive = input.isTTY === true && output.isTTY === true;
    this.readline = createInterface({ input, output, terminal: this.isInteractive });
  }

  onLine(handler: (line: string) => void): void {
    this.readline.on('line', (line) => {
      // Back to an empty prompt at once; what the line causes is printed above it.
      if (this.isPromptShown) this.readline.prompt();
      handler(line);
    });
  }

  /** End of input: Ctrl-D on a terminal, EOF on a pipe. */
  onEnd(handler: () => void): void {
    this.readline.on('close', handler);
  }

  /** Ctrl-C on a terminal (readline takes it in raw mode, so no signal is raised). */
  onInterrupt(handler: () => void): void {
    this.readline.on('SIGINT', handler);
  }

  /** Asks one question; undefined when input ends instead of an answer. */
  ask(question: string): Promise<string | undefined> {
    return new Promise((resolve) => {
      const onClose = () => resolve(undefined);
      this.readline.once('close', onClose);
      this.readline.question(question, (answer) => {
        this.readline.off('close', onClose);
        resolve(answer);
      });
    });
  }

  setPrompt(prompt: string): void {
    this.readline.setPrompt(prompt);
    if (this.isPromptShown) this.readline.prompt(true);
  }

  showPrompt(): void {
    if (!this.isInteractive) return;
    this.isPromptShown = true;
    this.readline.prompt(true);
  }

  /** Prints one line (it may hold newlines) above the prompt and the line being typed. */
  print(text: string): void {
    if (!this.isPromptShown) {
      this.output.write(`${text}\n`);
      return;
    }
    // The typed line may wrap over several rows: go to the first row of the prompt,
    // erase prompt and input, print, then let readline redraw both with the cursor
    // where it was. Its redraw starts by moving up `prevRows` (the cursor row it last
    // drew; not updated after a paste, so not always the cursor row now): that many
    // blank lines are written for it to move back over.
    const { rows } = this.readline.getCursorPos();
    const redrawRows = (this.readline as Interface & { prevRows?: number }).prevRows ?? rows;
    moveCursor(this.output, 0, -rows);
    cursorTo(this.output, 0);
    clearScreenDown(this.output);
    this.output.write(`${text}\n${'\n'.repeat(redrawRows)}`);
    this.readline.prompt(true);
  }

  close(): void {
    // Leave the shell's prompt a line of its own, below ours.
    if (this.isPromptShown) this.output.write('\n');
    this.isPromptShown = false;
    this.readline.close();
  }
}

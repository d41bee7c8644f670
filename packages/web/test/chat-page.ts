// Drives the web client in Debian's Chromium through playwright-core: the browser, and
// a page of the chat as a person uses it (nick prompt, composer, what the list shows).
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { onCleanup, waitFor } from '../../../test/harness/index.js';

/** Debian's chromium package; .ci/run installs it when it runs as root. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** Screenshots of the page, kept after the run (git-ignored). */
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '.artifacts', 'web');

export async function launchChromium(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      // No traffic of the browser's own: updates, sync, safe browsing, metrics.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--no-first-run',
      '--metrics-recording-only',
      '--disable-dev-shm-usage',
    ],
  });
  onCleanup(() => browser.close());
  return browser;
}

/** One message as the page shows it. */
export interface ShownLine {
  id: string;
  nick: string;
  text: string;
}

/** A page of the chat, opened on a node's HTTP address and signed in with a nick. */
export class ChatPage {
  constructor(
    readonly page: Page,
    readonly nick: string,
  ) {}

  static async open(
    browser: Browser,
    httpAddress: string,
    nick: string,
    options: { room?: string; viewport?: { width: number; height: number } } = {},
  ): Promise<ChatPage> {
    // A context of its own: separate storage, as another person's browser.
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1200, height: 760 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    onCleanup(() => {
      if (errors.length > 0) throw new Error(`${nick}'s page threw: ${errors.join('; ')}`);
    });
    await page.goto(`http://${httpAddress}/#${options.room ?? 'general'}`);
    await page.fill('#nick-input', nick);
    await page.press('#nick-input', 'Enter');
    await page.waitForSelector('#connection[data-state="connected"]');
    await page.waitForSelector(`#title:text("#${options.room ?? 'general'}")`);
    return new ChatPage(page, nick);
  }

  async say(text: string): Promise<void> {
    await this.page.fill('#composer-input', text);
    await this.page.press('#composer-input', 'Enter');
  }

  /** The messages shown, in order, with their ids. */
  lines(): Promise<ShownLine[]> {
    return this.page.$$eval('#messages .message', (items) =>
      items.map((item) => ({
        id: item.getAttribute('data-id') ?? '',
        nick: item.querySelector('.nick')?.textContent ?? '',
        text: item.querySelector('.text')?.textContent ?? '',
      })),
    );
  }

  async connection(): Promise<{ state?: string; node?: string; lost?: string; failovers?: string; text: string }> {
    return this.page.$eval('#connection', (el) => ({
      ...(el as HTMLElement).dataset,
      text: el.textContent ?? '',
    }));
  }

  async waitForTexts(texts: readonly string[], timeoutMs = 15_000): Promise<void> {
    await waitFor(
      async () => {
        const shown = new Set((await this.lines()).map((l) => l.text));
        return texts.every((t) => shown.has(t));
      },
      `${this.nick}'s page to show ${texts.length} messages`,
      timeoutMs,
    );
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }
}

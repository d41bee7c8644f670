// The web client in a real browser (issue 7): Debian's Chromium, driven by
// playwright-core, against real node processes. Two pages and a terminal client chat;
// the node the pages are on is killed; the pages move to another node, say so, and
// show every message once. Screenshots go to .artifacts/web/.

import { mintToken } from '@meshchat/node';
import { describe, expect, it } from 'vitest';
import {
  connectClient,
  type NodeProcess,
  startNode,
  startProcessCluster,
  type TestClient,
  waitFor,
  waitForFullMesh,
} from '../../../test/harness/index.js';
import { ChatPage, hasChromium, launchChromium, type ShownLine } from './chat-page.js';

// Nodes notice a dead peer at once (socket closed) and repair gaps every 300 ms.
const NODE_CONFIG = {
  heartbeat: { heartbeatMs: 100, suspectAfterMs: 400, deadAfterMs: 1000 },
  antiEntropyMs: 300,
};
const PHONE = { width: 390, height: 760 };

const title = hasChromium
  ? 'the web client in Chromium'
  : 'the web client in Chromium (skipped: no /usr/bin/chromium; .ci/run installs Debian chromium when root)';

/** Each of `texts` shown exactly once, nothing else, and every id once. */
function expectEachOnce(lines: readonly ShownLine[], texts: readonly string[], who: string): void {
  const ids = lines.map((l) => l.id);
  expect(
    ids.filter((id, i) => ids.indexOf(id) !== i),
    `${who}: ids shown twice`,
  ).toEqual([]);
  expect([...lines.map((l) => l.text)].sort(), `${who}: every message once, nothing else`).toEqual([...texts].sort());
}

async function sayAll(page: ChatPage, texts: readonly string[]): Promise<void> {
  for (const text of texts) await page.say(text);
}

describe.skipIf(!hasChromium)(title, () => {
  it('two pages and a terminal client chat; the pages’ node is killed; they fail over, show it, and lose and duplicate nothing', async () => {
    const nodes = await startProcessCluster(3, { config: NODE_CONFIG });
    await waitForFullMesh(nodes);
    const [n1, n2, n3] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const browser = await launchChromium();
    const alice = await ChatPage.open(browser, n1.addresses.http, 'alice');
    const bob = await ChatPage.open(browser, n1.addresses.http, 'bob', { viewport: PHONE });
    const carol: TestClient = await connectClient([n2.addresses.clients, n3.addresses.clients], 'carol');
    await carol.client.join('general');
    for (const page of [alice, bob]) {
      expect((await page.connection()).node).toBe('n1');
      await page.page.waitForSelector('#members li[data-nick="carol"]', { state: 'attached' });
    }

    const before = [
      ...['a1', 'a2', 'a3'].map((t) => `alice ${t}`),
      ...['b1', 'b2', 'b3'].map((t) => `bob ${t}`),
      ...['c1', 'c2', 'c3'].map((t) => `carol ${t}`),
    ];
    await sayAll(alice, before.slice(0, 3));
    await sayAll(bob, before.slice(3, 6));
    for (const text of before.slice(6)) await carol.client.send('general', text);
    await alice.waitForTexts(before);
    await bob.waitForTexts(before);
    await alice.screenshot('1-chatting-desktop');
    await bob.screenshot('1-chatting-phone');

    // carol keeps talking through the kill; the pages type while their node is gone.
    const carolSends = Promise.all(
      Array.from({ length: 10 }, (_, i) => carol.client.send('general', `carol during ${i}`)),
    );
    await n1.kill();
    const during = ['alice d1', 'alice d2', 'bob d1', 'bob d2'];
    await sayAll(alice, during.slice(0, 2));
    await sayAll(bob, during.slice(2));
    const carolAcks = await carolSends;
    const all = [...before, ...during, ...Array.from({ length: 10 }, (_, i) => `carol during ${i}`)];

    for (const page of [alice, bob]) {
      await waitFor(async () => {
        const c = await page.connection();
        return c.state === 'connected' && c.failovers === '1';
      }, `${page.nick}'s page to fail over`);
      const connection = await page.connection();
      expect(['n2', 'n3']).toContain(connection.node);
      expect(connection.lost).toBe('n1');
      expect(connection.text).toContain(`on ${connection.node} · failed over from n1 in`);
      expect(await page.page.$$eval('.note.failover', (notes) => notes.map((n) => n.textContent))).toEqual([
        expect.stringMatching(/^connection to n1 lost \(.+\) · reconnecting…$/),
        expect.stringMatching(new RegExp(`^reconnected to ${connection.node} in \\d+ ms after losing n1`)),
      ]);
      await page.waitForTexts(all);
      // Nothing is left waiting: every message the page sent was acked.
      await waitFor(async () => (await page.page.$$('.pending')).length === 0, `${page.nick}'s sends to be acked`);
    }
    await waitFor(() => carol.messages.length === all.length, 'carol to receive every message');
    await alice.screenshot('2-after-failover-desktop');
    await bob.screenshot('2-after-failover-phone');

    const carolIds = new Map(carol.messages.map((m) => [m.text, `${m.room}/${m.origin}/${m.seq}`]));
    for (const page of [alice, bob]) {
      const lines = await page.lines();
      expectEachOnce(lines, all, page.nick);
      // carol's messages never passed through n1: each is shown under the id it was acked with.
      for (const [i, { id }] of carolAcks.entries()) {
        expect(lines.filter((l) => l.id === `${id.room}/${id.origin}/${id.seq}`).map((l) => l.text)).toEqual([
          `carol during ${i}`,
        ]);
      }
      for (const line of lines) expect(carolIds.has(line.text), `carol got "${line.text}"`).toBe(true);
    }
    expect(carol.errors).toEqual([]);
  });

  it('loads history on scroll, counts unread messages per room, and carries direct messages both ways', async () => {
    const node = await startNode();
    const carol = await connectClient(node.address, 'carol');
    await carol.client.join('general');
    await carol.client.join('random');
    const older = Array.from({ length: 120 }, (_, i) => `old ${i}`);
    for (const text of older) await carol.client.send('general', text);

    const browser = await launchChromium();
    const alice = await ChatPage.open(browser, node.httpAddress, 'alice');
    // The join brings the newest 50; scrolling up brings the rest, page by page.
    await alice.waitForTexts(older.slice(-50));
    await waitFor(async () => {
      await alice.page.$eval('#scroller', (el) => el.scrollTo(0, 0));
      return (await alice.lines()).length === older.length;
    }, 'every older message after scrolling up');
    await alice.page.waitForSelector('#messages .start');
    expectEachOnce(await alice.lines(), older, 'alice');

    // A room not on screen counts what it missed.
    await alice.page.fill('#join-input', 'random');
    await alice.page.press('#join-input', 'Enter');
    await alice.page.waitForSelector('#title:text("#random")');
    await carol.client.send('general', 'new in general');
    await carol.client.send('general', 'more in general');
    await alice.page.waitForSelector('#rooms li[data-conversation="general"][data-unread="2"]');
    await alice.page.click('#rooms li[data-conversation="general"] .link');
    await alice.page.waitForSelector('#rooms li[data-conversation="general"][data-unread="0"]');
    await alice.waitForTexts(['new in general', 'more in general']);

    // A direct message opens a conversation with its own unread count; a reply goes back.
    await carol.client.dm('alice', 'psst alice');
    await alice.page.waitForSelector('#directs li[data-conversation="@carol"][data-unread="1"]');
    await alice.screenshot('3-unread-and-direct');
    await alice.page.click('#directs li[data-conversation="@carol"] .link');
    await alice.waitForTexts(['psst alice']);
    await alice.say('hi carol');
    await waitFor(() => carol.directs.some((d) => d.text === 'hi carol'), 'carol to get the reply');
    await alice.waitForTexts(['psst alice', 'hi carol']);
    expectEachOnce(await alice.lines(), ['psst alice', 'hi carol'], 'alice in the DM');
  });
  it('asks for a sign-in token when the cluster requires one, and chats as the user the token names', async () => {
    const secret = 'browser-test-secret-0123456789-abcdefgh';
    const node = await startNode({ auth: { required: true, hs256Secret: secret } });
    const token = await mintToken({ userId: 'u-dana', nick: 'dana', ttl: '1h', key: { hs256Secret: secret } });
    const carolToken = await mintToken({ userId: 'u-carol', nick: 'carol', ttl: '1h', key: { hs256Secret: secret } });
    const carol = await connectClient(node.address, 'carol', { token: carolToken });
    await carol.client.join('general');

    const browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
    const page = await context.newPage();
    await page.goto(`http://${node.httpAddress}/#general`);
    await page.fill('#nick-input', 'dana');
    await page.press('#nick-input', 'Enter');
    // Refused without a token: the prompt says so and shows the token field.
    await page.waitForSelector('#token-input:visible');
    expect(await page.textContent('#nick-problem')).toContain('requires sign-in');
    await page.fill('#token-input', 'not-a-token');
    await page.press('#token-input', 'Enter');
    await waitFor(
      async () => /token is not acceptable/i.test((await page.textContent('#nick-problem')) ?? ''),
      'the bad token refused',
    );
    await page.fill('#token-input', token);
    await page.press('#token-input', 'Enter');
    await page.waitForSelector('#connection[data-state="connected"]');

    const dana = new ChatPage(page, 'dana');
    await dana.say('hello from the browser');
    await waitFor(() => carol.messages.some((m) => m.text === 'hello from the browser'), 'carol to get it');
    const shown = carol.messages.find((m) => m.text === 'hello from the browser');
    expect(shown?.from).toEqual({ clientId: 'u-dana', nick: 'dana' });
    await dana.screenshot('3-signed-in');
  });
});

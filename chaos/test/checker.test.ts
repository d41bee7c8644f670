// The checker judges hand-made runs: a clean one passes, and each guarantee fails on a
// history or store made to break it, naming the message, the client and what it saw.
import { describe, expect, it } from 'vitest';
import { checkRun, type Verdict } from '../src/checker/check.js';
import type { FinalStores } from '../src/stores.js';
import { HandMadeRun, inboxOf } from './hand-made-run.js';

/** Two nodes, two clients in alpha; c0 sends two messages, c1 one; all acked and shown to both. */
function cleanRun(): { run: HandMadeRun; texts: string[]; stores: FinalStores } {
  const run = new HandMadeRun().client('c0', 'n1', ['alpha']).client('c1', 'n2', ['alpha']);
  const a = run.send('c0', 'alpha');
  const b = run.send('c0', 'alpha');
  const c = run.send('c1', 'alpha');
  run.ack(a, 'alpha/n1/1').ack(b, 'alpha/n1/2').ack(c, 'alpha/n2/1');
  for (const client of ['c0', 'c1'])
    run.recv(client, a, 'alpha/n1/1').recv(client, b, 'alpha/n1/2').recv(client, c, 'alpha/n2/1');
  const stores = run.stores(
    ['n1', 'n2'],
    [
      ['alpha/n1/1', a],
      ['alpha/n1/2', b],
      ['alpha/n2/1', c],
    ],
  );
  return { run, texts: [a, b, c], stores };
}

function failed(verdict: Verdict): Record<string, string[]> {
  return Object.fromEntries(verdict.results.filter((r) => r.violations.length > 0).map((r) => [r.name, r.violations]));
}

describe('the checker on a clean run', () => {
  it('finds every guarantee held, nothing lost and nothing twice', () => {
    const { run, stores } = cleanRun();
    const verdict = checkRun(run.events, stores);
    expect(failed(verdict)).toEqual({});
    expect(verdict.isOk).toBe(true);
    expect(verdict.figures).toMatchObject({ lost: 0, duplicates: 0 });
    expect(verdict.figures.operations).toMatchObject({ sends: 3, acks: 3, deliveries: 6 });
  });

  it('accepts the hard case: a message shown under the id of a copy its sender was not acked with, stored as an alias', () => {
    const { run, texts, stores } = cleanRun();
    const [a] = texts as [string];
    // n2 committed its own copy of a (n2/2) before the resend to n1 was acked as n1/1.
    const alias = run.stores(['n1', 'n2'], [['alpha/n2/2', a]]).nodes.n1?.rooms.alpha;
    for (const node of Object.values(stores.nodes)) {
      node.rooms.alpha?.ids.push('alpha/n2/2');
      Object.assign(node.rooms.alpha?.senders ?? {}, alias?.senders);
    }
    // n2 serves its own copy; n1 the acked one.
    const n2 = stores.nodes.n2?.rooms.alpha;
    if (n2) n2.history = n2.history.map((id) => (id === 'alpha/n1/1' ? 'alpha/n2/2' : id));
    const verdict = checkRun(run.events, stores);
    expect(failed(verdict)).toEqual({});
  });
});

describe('the checker on runs that break a guarantee', () => {
  it('durable: an acked message missing from every store', () => {
    const { run, stores } = cleanRun();
    for (const node of Object.values(stores.nodes)) {
      const room = node.rooms.alpha;
      if (!room) continue;
      room.ids = room.ids.filter((id) => id !== 'alpha/n1/2');
      room.history = room.history.filter((id) => id !== 'alpha/n1/2');
    }
    const verdict = checkRun(run.events, stores);
    expect(Object.keys(failed(verdict))).toEqual(['durable']);
    expect(failed(verdict).durable).toEqual([
      'c0 alpha #1, acked to c0 as alpha/n1/2 at 0.1 s, is missing from n1, n2',
    ]);
    expect(verdict.figures.lost).toBe(1);
  });

  it('durable: no node live at the end', () => {
    const { run, stores } = cleanRun();
    for (const node of Object.values(stores.nodes)) node.live = false;
    expect(failed(checkRun(run.events, stores)).durable?.[0]).toContain('no node was live at the end');
  });

  it('exactly-once: a member never showed an acked message (lost), with where it was', () => {
    const { run, texts, stores } = cleanRun();
    const b = texts[1] as string;
    const events = run.events.filter((e) => !(e.type === 'recv' && e.client === 'c1' && e.text === b));
    const verdict = checkRun(events, stores);
    expect(Object.keys(failed(verdict))).toEqual(['exactly-once']);
    expect(failed(verdict)['exactly-once']).toEqual([
      'c1 in alpha never showed c0 alpha #1 (acked to c0 as alpha/n1/2 at 0.1 s); c1 was on n2 (0.1 s-end)',
    ]);
    expect(verdict.figures.lost).toBe(1);
  });

  it('exactly-once: a message shown twice, under two ids', () => {
    const { run, texts, stores } = cleanRun();
    run.recv('c1', texts[0] as string, 'alpha/n2/9');
    const verdict = checkRun(run.events, stores);
    expect(failed(verdict)['exactly-once']?.[0]).toMatch(
      /^c1 in alpha showed c0 alpha #0 2 times: as alpha\/n1\/1 at .* on n2 since 0.1 s, then as alpha\/n2\/9 at/,
    );
    expect(verdict.figures.duplicates).toBe(1);
  });

  it("exactly-once: a direct message its recipient never showed, the recipient's inbox named", () => {
    const { run, stores } = cleanRun();
    const dm = run.dm('c0', 'c1');
    run.ack(dm, `${inboxOf('c1')}/n1/1`);
    for (const node of Object.values(stores.nodes)) {
      Object.assign(node.rooms, run.stores(['n'], [[`${inboxOf('c1')}/n1/1`, dm]]).nodes.n?.rooms);
    }
    const verdict = checkRun(run.events, stores);
    expect(failed(verdict)).toEqual({
      'exactly-once': [
        `c1 in c1's inbox never showed c0 @c1 #2 (acked to c0 as ${inboxOf('c1')}/n1/1 at 0.2 s); c1 was on n2 (0.1 s-end)`,
        "n1 serves c0 @c1 #2 in the history of c1's inbox, a message no client showed",
        "n2 serves c0 @c1 #2 in the history of c1's inbox, a message no client showed",
      ],
    });
  });

  it('exactly-once: a message shown that nobody sent to that room', () => {
    const { run, stores } = cleanRun();
    run.record({
      type: 'recv',
      client: 'c0',
      room: 'alpha',
      id: 'alpha/n1/3',
      from: 'c9',
      fromId: 'id-c9',
      clientMsgId: 'm',
      text: 'c9 alpha #0',
    });
    expect(failed(checkRun(run.events, stores))['exactly-once']).toContainEqual(
      expect.stringContaining('c0 in alpha showed "c9 alpha #0" (alpha/n1/3 at'),
    );
  });

  it('exactly-once: a node serving one message twice in a room history (a resend not recorded as an alias)', () => {
    const { run, texts, stores } = cleanRun();
    const room = stores.nodes.n2?.rooms.alpha;
    if (room) {
      room.ids.push('alpha/n2/2');
      room.history.push('alpha/n2/2');
      room.senders['alpha/n2/2'] = run.senderOf(texts[0] as string) as string;
    }
    for (const node of ['n1']) stores.nodes[node]?.rooms.alpha?.ids.push('alpha/n2/2');
    const verdict = checkRun(run.events, stores);
    expect(failed(verdict)['exactly-once']).toEqual([
      'n2 serves c0 alpha #0 twice in the history of alpha: as alpha/n1/1 and as alpha/n2/2',
    ]);
  });

  it('exactly-once: one id standing for two messages (an id reused after a crash)', () => {
    const { run, texts, stores } = cleanRun();
    const room = stores.nodes.n2?.rooms.alpha;
    if (room) room.senders['alpha/n1/2'] = run.senderOf(texts[2] as string) as string;
    expect(failed(checkRun(run.events, stores))['exactly-once']?.[0]).toMatch(
      /^id alpha\/n1\/2 stands for two messages: id-c0\/msg-c0-1 \(shown to c0 as c0 alpha #1\) and id-c1\/msg-c1-0 \(stored on n2\)/,
    );
  });

  it("sender-order: a client shows a sender's later message before its earlier one", () => {
    const run = new HandMadeRun().client('c0', 'n1', ['alpha']).client('c1', 'n2', ['alpha']);
    const a = run.send('c0', 'alpha');
    const b = run.send('c0', 'alpha');
    run.ack(a, 'alpha/n1/1').ack(b, 'alpha/n1/2');
    run.recv('c0', a, 'alpha/n1/1').recv('c0', b, 'alpha/n1/2');
    run.recv('c1', b, 'alpha/n1/2').recv('c1', a, 'alpha/n1/1');
    const stores = run.stores(
      ['n1'],
      [
        ['alpha/n1/1', a],
        ['alpha/n1/2', b],
      ],
    );
    const verdict = checkRun(run.events, stores);
    expect(Object.keys(failed(verdict))).toEqual(['sender-order']);
    expect(failed(verdict)['sender-order']?.[0]).toMatch(
      /^c1 in alpha showed c0 alpha #0 \(alpha\/n1\/1\) at .* after c0 alpha #1 \(alpha\/n1\/2\) at .*; c0 sent them at/,
    );
  });

  it('convergence: two live nodes holding different ids of a room', () => {
    const { run, texts, stores } = cleanRun();
    const room = stores.nodes.n2?.rooms.alpha;
    if (room) {
      room.ids.push('alpha/n2/2');
      room.senders['alpha/n2/2'] = run.senderOf(texts[0] as string) as string;
    }
    const verdict = checkRun(run.events, stores);
    expect(failed(verdict)).toEqual({
      convergence: ['alpha: n1 holds 3 ids, n2 4; 1 only on n2 (alpha/n2/2)'],
    });
  });

  it('convergence: a node that crashed is not held to it', () => {
    const { run, stores } = cleanRun();
    const n2 = stores.nodes.n2;
    if (n2) Object.assign(n2, { live: false, rooms: {} });
    expect(failed(checkRun(run.events, stores)).convergence).toBeUndefined();
  });

  it('settled: a send never acked nor rejected, and a rejected one', () => {
    const { run, stores } = cleanRun();
    run.send('c1', 'alpha');
    const rejected = run.send('c1', 'alpha');
    run.reject(rejected, 'RATE_LIMITED: too many frames');
    const verdict = checkRun(run.events, stores);
    expect(Object.keys(failed(verdict))).toEqual(['settled']);
    expect(failed(verdict).settled).toEqual([
      expect.stringMatching(/^c1 alpha #1, sent at .*, never acked nor rejected; c1 was on n2 since 0.1 s then/),
      expect.stringMatching(/^c1 alpha #2, sent at .*, rejected at .*: RATE_LIMITED: too many frames$/),
    ]);
  });

  it('no-crash: a node that exited on its own, and one that failed its SIGTERM', () => {
    const { run, stores } = cleanRun();
    run.record({ type: 'node-exit', node: 'n2', code: 1, signal: null, cause: null, lastLines: ['TypeError: x'] });
    run.record({ type: 'node-exit', node: 'n1', code: 0, signal: null, cause: 'stop' });
    run.record({ type: 'node-exit', node: 'n2', code: null, signal: 'SIGKILL', cause: 'kill' });
    run.record({ type: 'node-exit', node: 'n1', code: 1, signal: null, cause: 'stop' });
    const verdict = checkRun(run.events, stores);
    expect(Object.keys(failed(verdict))).toEqual(['no-crash']);
    expect(failed(verdict)['no-crash']).toEqual([
      expect.stringMatching(/^n2 exited on its own at .* \(code 1, signal null\); its last lines: TypeError: x$/),
      expect.stringMatching(/^n1 exited with code 1, signal null after SIGTERM at/),
    ]);
  });
});

describe('the figures', () => {
  it('count failovers with their durations, p50 and p99', () => {
    const run = new HandMadeRun().client('c0', 'n1', ['alpha']);
    for (const ms of [100, 300, 200, 400]) {
      run.record({ type: 'disconnect', client: 'c0', node: 'n1', reason: 'socket closed' });
      run.record({
        type: 'connect',
        client: 'c0',
        node: 'n2',
        server: 'n2:1',
        caughtUp: 0,
        failoverMs: ms,
        lostNode: 'n1',
      });
    }
    const { figures } = checkRun(run.events, run.stores(['n1'], []));
    expect(figures.failovers).toEqual({ count: 4, p50Ms: 200, p99Ms: 400, maxMs: 400 });
  });
});

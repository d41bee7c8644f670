// The fault schedule is drawn from the seed alone, one fault at a time, each healed
// before the quiet period, and only of the kinds asked for.
import { describe, expect, it } from 'vitest';
import { GAP_MS, WARMUP_MS } from '../src/constants.js';
import { describeFault, drawSchedule, FAULT_KINDS, faultLabel, PARTITION_SHAPES } from '../src/schedule.js';

const options = { seed: 42, nodes: 3, kinds: FAULT_KINDS, faultsEndMs: 300_000 };

describe('the fault schedule', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(drawSchedule(options)).toEqual(drawSchedule(options));
    expect(drawSchedule({ ...options, seed: 43 })).not.toEqual(drawSchedule(options));
  });

  it('starts after the warm-up, heals each fault before the next and the last before the quiet period', () => {
    const episodes = drawSchedule(options);
    expect(episodes.length).toBeGreaterThan(20);
    expect(episodes[0]?.atMs).toBe(WARMUP_MS);
    for (const [i, episode] of episodes.entries()) {
      const next = episodes[i + 1];
      if (next) expect(next.atMs).toBeGreaterThanOrEqual(episode.atMs + episode.holdMs + GAP_MS[0]);
      expect(episode.atMs + episode.holdMs).toBeLessThanOrEqual(options.faultsEndMs);
    }
  });

  it('draws every kind and every partition shape over a long run, and only the kinds asked for', () => {
    const labels = new Set(drawSchedule(options).map((e) => faultLabel(e.fault)));
    for (const shape of PARTITION_SHAPES) expect(labels).toContain(`partition/${shape}`);
    for (const label of ['kill', 'restart', 'pause', 'slow/slow', 'slow/lossy']) expect(labels).toContain(label);
    const kinds = new Set(drawSchedule({ ...options, kinds: ['kill', 'pause'] }).map((e) => e.fault.kind));
    expect([...kinds].sort()).toEqual(['kill', 'pause']);
    expect(drawSchedule({ ...options, kinds: [] })).toEqual([]);
  });

  it('splits off a minority (2 of 5 nodes) and cuts a link between two distinct nodes', () => {
    const episodes = drawSchedule({ ...options, nodes: 5, kinds: ['partition'] });
    const splits = episodes.filter((e) => e.fault.kind === 'partition' && e.fault.variant === 'split');
    const links = episodes.filter((e) => e.fault.kind === 'partition' && e.fault.variant === 'link');
    expect(splits.length).toBeGreaterThan(0);
    expect(links.length).toBeGreaterThan(0);
    for (const split of splits) expect(new Set(split.fault.nodes).size).toBe(2);
    for (const link of links) expect(new Set(link.fault.nodes).size).toBe(2);
  });

  it('describes each fault by node id', () => {
    const ids = ['n1', 'n2', 'n3'];
    expect(describeFault({ kind: 'kill', nodes: [1] }, ids)).toBe('kill -9 n2');
    expect(describeFault({ kind: 'partition', variant: 'split', nodes: [0] }, ids)).toBe('split n1 | n2 n3');
    expect(describeFault({ kind: 'partition', variant: 'clients', nodes: [2] }, ids)).toBe(
      'partition n3 from its clients',
    );
    expect(describeFault({ kind: 'slow', variant: 'lossy', nodes: [0] }, ids)).toBe('lossy links of n1');
  });
});

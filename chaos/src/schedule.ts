import { GAP_MS, HOLD_MS, MAX_EPISODES, WARMUP_MS } from './constants.js';
import { SeededRandom } from './random.js';

export const FAULT_KINDS = ['kill', 'pause', 'partition', 'restart', 'slow'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const PARTITION_SHAPES = ['peers', 'clients', 'split', 'link'] as const;
export type PartitionShape = (typeof PARTITION_SHAPES)[number];
export type LinkTrouble = 'slow' | 'lossy';

/**
 * One fault, on nodes named by index. kill: kill -9, restarted on its data dir when it
 * heals; restart: SIGTERM, started again; pause: SIGSTOP, then SIGCONT; partition
 * peers: one node cut from every peer; clients: one node cut from its clients; split:
 * the minority `nodes` cut from the rest; link: the one link between two nodes cut;
 * slow: one node's peer links slow or lossy.
 */
export type Fault =
  | { kind: 'kill' | 'restart' | 'pause'; nodes: [number] }
  | { kind: 'partition'; variant: PartitionShape; nodes: number[] }
  | { kind: 'slow'; variant: LinkTrouble; nodes: [number] };

/** A fault, when it starts (ms after the load started) and how long it holds before it heals. */
export interface Episode {
  atMs: number;
  holdMs: number;
  fault: Fault;
}

export interface ScheduleOptions {
  seed: number;
  nodes: number;
  kinds: readonly FaultKind[];
  /** Faults start after the warm-up and heal by this time (ms after the load started). */
  faultsEndMs: number;
}

/**
 * The faults of a run, drawn from its seed alone: one at a time, each healed before the
 * next starts and before `faultsEndMs`. Whatever the fault-injection layer, the same
 * seed and options give the same schedule.
 */
export function drawSchedule(options: ScheduleOptions): Episode[] {
  if (options.nodes < 2) throw new Error(`a schedule needs 2 nodes or more, got ${options.nodes}`);
  if (options.kinds.length === 0) return [];
  const random = new SeededRandom(options.seed);
  const episodes: Episode[] = [];
  let atMs = WARMUP_MS;
  for (let i = 0; i < MAX_EPISODES; i++) {
    const fault = drawFault(random, options);
    const [minHold, maxHold] = HOLD_MS[fault.kind];
    const holdMs = random.between(minHold, maxHold);
    if (atMs + holdMs > options.faultsEndMs) break;
    episodes.push({ atMs, holdMs, fault });
    atMs += holdMs + random.between(GAP_MS[0], GAP_MS[1]);
  }
  return episodes;
}

function drawFault(random: SeededRandom, options: ScheduleOptions): Fault {
  const all = Array.from({ length: options.nodes }, (_, i) => i);
  const kind = random.pick(options.kinds);
  const node = random.pick(all);
  switch (kind) {
    case 'kill':
    case 'restart':
    case 'pause':
      return { kind, nodes: [node] };
    case 'slow':
      return { kind, variant: random.pick(['slow', 'lossy'] as const), nodes: [node] };
    case 'partition': {
      const variant = random.pick(PARTITION_SHAPES);
      if (variant === 'split') {
        const minority = Math.max(1, Math.floor((options.nodes - 1) / 2));
        return { kind, variant, nodes: random.sample(all, minority).sort((a, b) => a - b) };
      }
      if (variant === 'link') return { kind, variant, nodes: random.sample(all, 2).sort((a, b) => a - b) };
      return { kind, variant, nodes: [node] };
    }
  }
}

/** The other side of a partition that cuts peers: every node not in `nodes`. */
export function othersOf(nodes: readonly number[], size: number): number[] {
  return Array.from({ length: size }, (_, i) => i).filter((i) => !nodes.includes(i));
}

/** A fault as a person reads it, e.g. "kill -9 n2", "split n1 | n2 n3". */
export function describeFault(fault: Fault, nodeIds: readonly string[]): string {
  const name = (i: number) => nodeIds[i] ?? `node ${i}`;
  const names = (list: readonly number[]) => list.map(name).join(' ');
  const [first] = fault.nodes;
  switch (fault.kind) {
    case 'kill':
      return `kill -9 ${name(first)}`;
    case 'restart':
      return `restart ${name(first)} (SIGTERM)`;
    case 'pause':
      return `SIGSTOP ${name(first)}`;
    case 'slow':
      return `${fault.variant} links of ${name(first)}`;
    case 'partition':
      switch (fault.variant) {
        case 'peers':
          return `partition ${name(first)} from its peers`;
        case 'clients':
          return `partition ${name(first)} from its clients`;
        case 'split':
          return `split ${names(fault.nodes)} | ${names(othersOf(fault.nodes, nodeIds.length))}`;
        case 'link':
          return `cut the link ${names(fault.nodes)}`;
      }
  }
}

/** The name a fault is counted under in the figures: its kind, with its variant. */
export function faultLabel(fault: Fault): string {
  return fault.kind === 'partition' || fault.kind === 'slow' ? `${fault.kind}/${fault.variant}` : fault.kind;
}

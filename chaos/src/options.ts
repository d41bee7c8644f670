import { parseArgs } from 'node:util';
import { DEFAULT_CLIENTS, DEFAULT_DURATION_S, DEFAULT_NODES, DEFAULT_ROOMS } from './constants.js';
import { LAYERS, type LayerName } from './layers/fault-layer.js';
import { FAULT_KINDS, type FaultKind } from './schedule.js';

export type CliRequest =
  | { command: 'help' }
  | { command: 'check'; runDir: string }
  | {
      command: 'run';
      nodes: number;
      clients: number;
      rooms: number;
      durationS: number;
      /** Undefined: draw one (and print it, so the run can be repeated). */
      seed?: number;
      faults: FaultKind[];
      layer: LayerName;
      /** Undefined: a new directory under .chaos/runs. */
      out?: string;
      keepData: boolean;
    };

export const USAGE = `Usage: pnpm chaos [options]
       pnpm chaos --check RUN_DIR

Starts a cluster of real node processes, clients that chat without pause, and faults
drawn from a seed (each one healed before the end), then checks the guarantees of
design.md from the history of every operation and the nodes' final stores.

  --nodes N         node processes (default ${DEFAULT_NODES}, at least 2)
  --clients N       chat clients (default ${DEFAULT_CLIENTS})
  --rooms N         rooms; each client is in one or two (default ${DEFAULT_ROOMS})
  --duration S      seconds of load, faults then a quiet period (default ${DEFAULT_DURATION_S})
  --seed N          draws the fault schedule (default: a random one, printed)
  --faults LIST     kinds of fault, of ${FAULT_KINDS.join(',')} (default: all)
  --layer NAME      ${LAYERS.join(' or ')}: TCP proxies on loopback (default, runs anywhere) or
                    network namespaces (needs root and iproute2)
  --out DIR         the run's directory (default: .chaos/runs/<time>-seed<N>)
  --keep-data       keep the nodes' data dirs after a run that passed (always kept after one that failed)
  --check RUN_DIR   judge a finished run again from its directory
  --help            this text

Exit status: 0 every guarantee held, 1 a guarantee was violated, 2 bad usage, 3 the run
itself failed (a node would not start, ...).

Examples:
  pnpm chaos
  pnpm chaos --duration 30 --seed 7 --faults kill,pause
  sudo pnpm chaos --layer netns --duration 120
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseOptions(argv: string[]): CliRequest {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  if (values.help) return { command: 'help' };
  if (values.check !== undefined) return { command: 'check', runDir: values.check };
  return {
    command: 'run',
    nodes: values.nodes === undefined ? DEFAULT_NODES : integer(values.nodes, '--nodes', 2),
    clients: values.clients === undefined ? DEFAULT_CLIENTS : integer(values.clients, '--clients', 1),
    rooms: values.rooms === undefined ? DEFAULT_ROOMS : integer(values.rooms, '--rooms', 1),
    durationS: values.duration === undefined ? DEFAULT_DURATION_S : integer(values.duration, '--duration', 1),
    ...(values.seed === undefined ? {} : { seed: integer(values.seed, '--seed', 0) }),
    faults: values.faults === undefined ? [...FAULT_KINDS] : faultKinds(values.faults),
    layer: values.layer === undefined ? 'proxy' : layer(values.layer),
    ...(values.out === undefined ? {} : { out: values.out }),
    keepData: values['keep-data'] ?? false,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      nodes: { type: 'string' },
      clients: { type: 'string' },
      rooms: { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      faults: { type: 'string' },
      layer: { type: 'string' },
      out: { type: 'string' },
      'keep-data': { type: 'boolean' },
      check: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function integer(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${flag}: expected an integer >= ${min}, got "${value}"`);
  return n;
}

function faultKinds(value: string): FaultKind[] {
  const kinds = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const kind of kinds) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new UsageError(`--faults: unknown kind "${kind}"; expected some of ${FAULT_KINDS.join(', ')}`);
    }
  }
  return [...new Set(kinds)] as FaultKind[];
}

function layer(value: string): LayerName {
  if (!(LAYERS as readonly string[]).includes(value)) {
    throw new UsageError(`--layer: expected ${LAYERS.join(' or ')}, got "${value}"`);
  }
  return value as LayerName;
}

import { parseArgs } from 'node:util';
import {
  CATCHUP_MESSAGES,
  DEFAULT_IDLE_CLIENTS,
  DEFAULT_RATES,
  DEFAULT_STEP_SECONDS,
  DEFAULT_TRIALS,
  DURABLE_RATES,
  FAILOVER_RATE,
  HISTORY_MESSAGES,
  HISTORY_PAGE,
} from './constants.js';

export const SCENARIOS = [
  'fanout',
  'detection',
  'failover',
  'idle',
  'catchup',
  'history',
  'storesize',
  'durable',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  scenarios: Scenario[];
  rates: number[];
  /** The ladder of the durable scenario: --rates when given, else DURABLE_RATES. */
  durableRates: number[];
  durationS: number;
  trials: number;
  idleClients: number;
  cpuProfile: boolean;
  /** Node config overrides, field (dotted) -> value, passed as the node's own flags. */
  nodeOverrides: [string, string][];
}

export const USAGE = `Usage: pnpm bench [options]

  --scenarios LIST    which to run (default: all, about 13 minutes); each on fresh nodes:
                        fanout     room fan-out at rising rates (~4 min)
                        detection  failure detection, kill -9 and SIGSTOP (~1 min)
                        failover   ChatClients at ${FAILOVER_RATE.toLocaleString('en-US')} msgs/s through kill -9 and SIGSTOP of a node:
                                   time until its clients receive again, lost and duplicated (~1.5 min)
                        idle       RSS per idle connection (~20 s)
                        catchup    a node that missed ${CATCHUP_MESSAGES.toLocaleString('en-US')} messages catches up by anti-entropy (~30 s)
                        history    last ${HISTORY_PAGE} of a ${HISTORY_MESSAGES.toLocaleString('en-US')}-message room: history and join latency (~45 s)
                        storesize  LMDB bytes on disk per 100-byte message (~30 s)
                        durable    fan-out with the LMDB store against the memory store (~3-4 min)
  --rates LIST        fan-out aggregate publish rates in msgs/s (default: ${DEFAULT_RATES.join(',')};
                      for durable, each store up to its first unclean rate of ${DURABLE_RATES.join(',')})
  --duration S        seconds per fan-out rate, fanout and durable (default: ${DEFAULT_STEP_SECONDS})
  --trials N          trials per signal of detection and failover (default: ${DEFAULT_TRIALS})
  --idle-clients N    idle connections for the memory figure (default: ${DEFAULT_IDLE_CLIENTS})
  --cpu-prof          run the fan-out nodes under \`node --cpu-prof\` and summarise where their CPU went
  --set FIELD=VALUE   node config override, repeatable (e.g. --set store=memory), to price a feature
  --help              this text

Examples:
  pnpm bench
  pnpm bench --rates 1000,4000 --duration 5
  pnpm bench --scenarios fanout --rates 16000 --cpu-prof
  pnpm bench --scenarios fanout --set store=memory
  pnpm bench --scenarios failover --trials 5
  pnpm bench --scenarios catchup,history,storesize
  pnpm bench --scenarios durable --duration 5
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses the command line; undefined means --help was asked for. */
export function parseOptions(argv: string[]): BenchOptions | undefined {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const { values } = parsed;
  if (values.help) return undefined;
  const rates = values.rates ? list(values.rates, '--rates').map((r) => positive(r, '--rates')) : undefined;
  return {
    scenarios: values.scenarios ? list(values.scenarios, '--scenarios').map(scenario) : [...SCENARIOS],
    rates: rates ?? DEFAULT_RATES,
    durableRates: rates ?? DURABLE_RATES,
    durationS: values.duration ? positive(values.duration, '--duration') : DEFAULT_STEP_SECONDS,
    trials: values.trials ? positive(values.trials, '--trials', true) : DEFAULT_TRIALS,
    idleClients: values['idle-clients']
      ? positive(values['idle-clients'], '--idle-clients', true)
      : DEFAULT_IDLE_CLIENTS,
    cpuProfile: values['cpu-prof'] ?? false,
    nodeOverrides: (values.set ?? []).map(override),
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      scenarios: { type: 'string' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      trials: { type: 'string' },
      'idle-clients': { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      set: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function list(value: string, flag: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`${flag}: expected a comma-separated list, got "${value}"`);
  return items;
}

function positive(value: string, flag: string, isInteger = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (isInteger && !Number.isInteger(n))) {
    throw new UsageError(`${flag}: expected a positive ${isInteger ? 'integer' : 'number'}, got "${value}"`);
  }
  return n;
}

function override(value: string): [string, string] {
  const match = /^([A-Za-z][\w.]*)=(.*)$/.exec(value);
  if (!match) throw new UsageError(`--set: expected FIELD=VALUE (e.g. store=memory), got "${value}"`);
  return [match[1] as string, match[2] as string];
}

function scenario(value: string): Scenario {
  if (!(SCENARIOS as readonly string[]).includes(value)) {
    throw new UsageError(`--scenarios: unknown scenario "${value}"; expected some of ${SCENARIOS.join(', ')}`);
  }
  return value as Scenario;
}

import { readFileSync } from 'node:fs';
import { BENCH_MAX_CONNECTIONS, BENCH_RATE_BURST, BENCH_RATE_PER_SEC } from './constants.js';
import { DEMO_NODE_CONFIG } from './paths.js';

/** The parts of the node config the bench sets, as printed beside the figures. */
export interface BenchNodeSettings {
  heartbeat: Record<string, number>;
  limits: Record<string, number>;
  /** Any other config fields, from --set. */
  extra: Record<string, unknown>;
  /** The --set overrides as given, for the report. */
  overrides: string[];
}

/**
 * The config every bench node runs with: heartbeat timings and limits as in the local
 * demo cluster (config/node-a.json), the per-client rate limit raised so the load is
 * not throttled, then the --set overrides; ports 0 and a temp data dir. The node
 * validates the result like any config, with errors that name the field.
 */
export function benchNodeSettings(overrides: [string, string][] = []): BenchNodeSettings {
  const demo = JSON.parse(readFileSync(DEMO_NODE_CONFIG, 'utf8')) as Partial<BenchNodeSettings>;
  const config: Record<string, unknown> = {
    heartbeat: { ...demo.heartbeat },
    limits: {
      ...demo.limits,
      ratePerSec: BENCH_RATE_PER_SEC,
      rateBurst: BENCH_RATE_BURST,
      maxConnections: BENCH_MAX_CONNECTIONS,
      maxConnectionsPerAddress: BENCH_MAX_CONNECTIONS,
    },
  };
  for (const [field, value] of overrides) setField(config, field.split('.'), parseValue(value));
  const { heartbeat, limits, ...extra } = config;
  return {
    heartbeat: heartbeat as Record<string, number>,
    limits: limits as Record<string, number>,
    extra,
    overrides: overrides.map(([field, value]) => `${field}=${value}`),
  };
}

/** The same settings with the given store, for scenarios that compare or need one. */
export function withStore(settings: BenchNodeSettings, store: 'lmdb' | 'memory'): BenchNodeSettings {
  if (settings.extra.store === store) return settings;
  return {
    ...settings,
    extra: { ...settings.extra, store },
    overrides: [...settings.overrides.filter((o) => !o.startsWith('store=')), `store=${store}`],
  };
}

function setField(target: Record<string, unknown>, path: string[], value: unknown): void {
  const [head, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const inner = target[head];
  const child = inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : {};
  target[head] = child;
  setField(child, rest, value);
}

// "4096" is a number and "true" a boolean, as in JSON; anything else is a string.
function parseValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { NodeConfig } from './schema.js';

type Json = Record<string, unknown>;

/**
 * Reads the JSON config file (if any), lays command-line overrides over it and
 * validates the result. Every problem is reported with where it came from:
 * `config/node-a.json: clientPort: expected an integer 0..65535 (0 picks a free port), got "x"`.
 */
export function loadConfig(file: string | undefined, overrides: Json = {}): NodeConfig {
  const fromFile = file ? readConfigFile(file) : {};
  const merged = deepMerge(fromFile, normaliseOverrides(overrides));
  const parsed = NodeConfig.safeParse(merged, { reportInput: true });
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => describeIssue(issue, file, overrides));
  throw new ConfigError(lines.join('\n'));
}

function readConfigFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config file: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${file}: expected a JSON object at the top level`);
  }
  return value as Json;
}

// Flags arrive as strings or numbers from yargs; lists may be given comma-separated.
function normaliseOverrides(overrides: Json): Json {
  const out: Json = { ...overrides };
  if (typeof out.seeds === 'string') out.seeds = out.seeds.split(',').filter((s) => s.length > 0);
  return out;
}

function describeIssue(issue: z.core.$ZodIssue, file: string | undefined, overrides: Json): string {
  const path = issue.path.map(String);
  const field = issue.code === 'unrecognized_keys' ? [...path, ...issue.keys].join('.') : path.join('.');
  const source = hasPath(overrides, path) || !file ? `--${field}` : `${file}: ${field || '(top level)'}`;
  const message = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
  const got = 'input' in issue && issue.code !== 'unrecognized_keys' ? `, got ${JSON.stringify(issue.input)}` : '';
  return `${source}: ${message}${got}`;
}

function hasPath(obj: Json, path: string[]): boolean {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return false;
    cur = (cur as Json)[key];
  }
  return path.length > 0;
}

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

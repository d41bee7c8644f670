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
  const lines = parsed.error.issues.flatMap((issue) => describeIssue(issue, file, overrides));
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

// Flags arrive as strings (yargs is told not to guess numbers): a field the schema
// wants as a number or a boolean is converted here, so "--nodeId 42" stays the string
// "42". Lists may be given comma-separated.
function normaliseOverrides(overrides: Json, schema: z.ZodType = NodeConfig): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(overrides)) {
    const field = fieldSchema(schema, key);
    if (isPlainObject(value)) out[key] = field ? normaliseOverrides(value, field) : value;
    else if (typeof value === 'string' && field && baseType(field) === 'number' && /^-?\d+(\.\d+)?$/.test(value)) {
      out[key] = Number(value);
    } else if (typeof value === 'string' && field && baseType(field) === 'boolean' && /^(true|false)$/.test(value)) {
      out[key] = value === 'true';
    } else if (typeof value === 'string' && field && baseType(field) === 'array') {
      out[key] = value.split(',').filter((item) => item.length > 0);
    } else out[key] = value;
  }
  return out;
}

// The schema's field `key`, through defaults and optionals; undefined when unknown.
function fieldSchema(schema: z.ZodType, key: string): z.ZodType | undefined {
  const inner = unwrap(schema);
  const shape = (inner as unknown as { shape?: Record<string, z.ZodType> }).shape;
  return shape && Object.hasOwn(shape, key) ? shape[key] : undefined;
}

function baseType(schema: z.ZodType): string {
  return unwrap(schema)._zod.def.type;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: z.ZodType };
    if ((def.type === 'default' || def.type === 'optional') && def.innerType) current = def.innerType;
    else return current;
  }
}

function describeIssue(issue: z.core.$ZodIssue, file: string | undefined, overrides: Json): string[] {
  const path = issue.path.map(String);
  const where = (fieldPath: string[]) => {
    const field = fieldPath.join('.') || '(top level)';
    return hasPath(overrides, fieldPath) || !file ? `--${field}` : `${file}: ${field}`;
  };
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${where([...path, key])}: unknown field`);
  if (issue.code === 'custom') return [`${where(path)}: ${issue.message}`];
  const input = 'input' in issue ? issue.input : undefined;
  if (input === undefined) return [`${where(path)}: required field is missing`];
  return [`${where(path)}: ${issue.message}, got ${JSON.stringify(input)}`];
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

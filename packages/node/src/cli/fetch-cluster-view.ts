import { get } from 'node:http';
import { get as httpsGet } from 'node:https';
import { MemberState } from '@meshchat/protocol';
import { z } from 'zod';
import type { ClusterView } from '../http/cluster-view.js';
import { StatusError } from './errors.js';

// What GET /cluster answers (http/cluster-view.ts). Loose objects: fields a newer node
// adds pass through to --json instead of being dropped.
const MemberRow = z.looseObject({
  ...MemberState.shape,
  isSelf: z.boolean(),
  isLinked: z.boolean(),
  lastHeardAgeMs: z.number().nullable(),
  clients: z.number().int().min(0),
});

const RoomRow = z.looseObject({
  vector: z.record(z.string(), z.number()),
  digest: z.string(),
  messages: z.number(),
});

const ClusterViewSchema = z.looseObject({
  nodeId: z.string(),
  cluster: z.string(),
  members: z.array(MemberRow),
  rooms: z.record(z.string(), RoomRow),
  replication: z.looseObject({
    heldBack: z.number(),
    awaitingReplicas: z.number(),
    antiEntropyBacklog: z.number(),
    antiEntropySent: z.number(),
  }),
}) satisfies z.ZodType<ClusterView>;

/**
 * GET http://<node>/cluster (or https://, checked against `ca` when given), checked
 * against the shape a node serves.
 */
export function fetchClusterView(node: string, timeoutMs: number, ca?: string): Promise<ClusterView> {
  const isHttps = node.startsWith('https://');
  const url = isHttps ? `${node}/cluster` : `http://${node}/cluster`;
  const options = { headers: { accept: 'application/json' }, ...(isHttps && ca !== undefined ? { ca } : {}) };
  return new Promise((resolve, reject) => {
    const request = (isHttps ? httpsGet : get)(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (err) =>
        reject(new StatusError('UNREACHABLE', `cannot reach node at ${node}: ${err.message}`, { cause: err })),
      );
      response.on('end', () => {
        try {
          resolve(parseClusterView(url, response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(err);
        }
      });
    });
    // A stopped process still completes the TCP handshake (the kernel does), then
    // never answers: only a timeout ends the wait.
    request.setTimeout(timeoutMs, () => {
      request.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    });
    request.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ETIMEDOUT' ? `${err.code} (${err.message})` : (err.code ?? err.message);
      reject(new StatusError('UNREACHABLE', `cannot reach node at ${node}: ${why}`, { cause: err }));
    });
  });
}

function parseClusterView(url: string, status: number, body: string): ClusterView {
  if (status !== 200) {
    throw new StatusError('BAD_RESPONSE', `GET ${url} answered HTTP ${status}: ${body.trim().slice(0, 200)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new StatusError('BAD_RESPONSE', `GET ${url} did not answer JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = ClusterViewSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new StatusError(
      'BAD_RESPONSE',
      `GET ${url} is not a meshchat cluster view: ${field}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

import type { MemberStateName } from '@meshchat/protocol';
import type { ClusterView } from '../http/cluster-view.js';
import { type Cell, renderTable } from './text-table.js';

export interface ReportOptions {
  /** ANSI colors for member states; only on a terminal. */
  color: boolean;
  /** Where the view came from, e.g. "127.0.0.1:7201". */
  source: string;
}

const STATE_COLORS: Record<MemberStateName, number> = { alive: 32, suspect: 33, dead: 31 };
const FG_RESET = 39;

/** Color only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function shouldUseColor(output: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return output.isTTY === true && !env.NO_COLOR;
}

/** The cluster as one node sees it: a members table, a rooms table, replication counters. */
export function formatClusterView(view: ClusterView, options: ReportOptions): string {
  const lines = [`cluster "${view.cluster}" as seen by ${view.nodeId} (${options.source})`, ''];
  lines.push(...membersTable(view, options.color), '', membersSummary(view), '');
  lines.push(...roomsSection(view));
  const { heldBack, awaitingReplicas, antiEntropyBacklog, antiEntropySent } = view.replication;
  lines.push(
    '',
    `replication: ${heldBack} held back waiting for a gap, ${awaitingReplicas} awaiting replicas before their ack, ` +
      `${antiEntropyBacklog} queued for anti-entropy, ` +
      `${antiEntropySent} sent by anti-entropy since start`,
  );
  return `${lines.join('\n')}\n`;
}

function membersTable(view: ClusterView, color: boolean): string[] {
  const stateCell = (state: MemberStateName): Cell => ({
    text: state,
    ...(color ? { paint: (padded: string) => `\u001b[${STATE_COLORS[state]}m${padded}\u001b[${FG_RESET}m` } : {}),
  });
  return renderTable(
    [
      { header: 'NODE' },
      { header: 'STATE' },
      { header: 'INCARNATION', align: 'right' },
      { header: 'LINKED' },
      { header: 'LAST HEARD', align: 'right' },
      { header: 'CLIENTS', align: 'right' },
      { header: 'CLIENT ADDR' },
      { header: 'PEER ADDR' },
      { header: 'HTTP ADDR' },
    ],
    view.members.map((m) => [
      m.nodeId,
      stateCell(m.state),
      String(m.incarnation),
      m.isSelf ? 'self' : m.isLinked ? 'yes' : 'no',
      m.lastHeardAgeMs === null ? '-' : `${formatAge(m.lastHeardAgeMs)} ago`,
      String(m.clients),
      m.clientAddress,
      m.peerAddress,
      m.httpAddress,
    ]),
  );
}

function membersSummary(view: ClusterView): string {
  const counts: Record<MemberStateName, number> = { alive: 0, suspect: 0, dead: 0 };
  for (const member of view.members) counts[member.state]++;
  const linked = view.members.filter((m) => m.isLinked).length;
  const others = view.members.length - 1;
  return (
    `${plural(view.members.length, 'member')}: ${counts.alive} alive, ${counts.suspect} suspect, ${counts.dead} dead; ` +
    `${view.nodeId} is linked to ${linked} of ${plural(others, 'other')}`
  );
}

function roomsSection(view: ClusterView): string[] {
  const rooms = Object.entries(view.rooms);
  if (rooms.length === 0) return ['no rooms hold messages yet'];
  const table = renderTable(
    [{ header: 'ROOM' }, { header: 'MESSAGES', align: 'right' }, { header: 'DIGEST' }, { header: 'VECTOR' }],
    rooms.map(([room, { messages, digest, vector }]) => [
      room,
      String(messages),
      digest,
      Object.entries(vector)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([origin, seq]) => `${origin}:${seq}`)
        .join(' '),
    ]),
  );
  return [
    ...table,
    '',
    `Digests are ${view.nodeId}'s alone. Two nodes showing the same digest for a room hold the same`,
    'messages of it: compare with --node <another node>.',
  ];
}

/** 850 ms, 2.4 s, 3m 05s, 2h 10m. */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h ${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}m`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

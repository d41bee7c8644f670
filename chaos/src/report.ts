import type { Verdict } from './checker/check.js';
import type { Figures } from './checker/figures.js';
import { count, plural } from './checker/guarantee.js';

const NAME_WIDTH = 14;

/** Each guarantee, ok or FAIL, with up to `evidenceShown` lines of evidence per violated one. */
export function formatGuarantees(verdict: Verdict, evidenceShown: number): string[] {
  const lines = ['guarantees'];
  for (const result of verdict.results) {
    const isOk = result.violations.length === 0;
    const status = isOk ? 'ok  ' : 'FAIL';
    const outcome = isOk ? result.checked : `${plural(result.violations.length, 'violation')} (${result.checked})`;
    lines.push(`  ${status}  ${result.name.padEnd(NAME_WIDTH)}${result.title}`);
    lines.push(`  ${' '.repeat(6 + NAME_WIDTH)}${outcome}`);
    for (const evidence of result.violations.slice(0, evidenceShown)) lines.push(`          - ${evidence}`);
    const more = result.violations.length - evidenceShown;
    if (more > 0) lines.push(`          ... and ${count(more)} more`);
  }
  return lines;
}

export function formatFigures(figures: Figures): string[] {
  const { operations: ops, failovers } = figures;
  const total = ops.sends + ops.acks + ops.rejects + ops.deliveries + ops.connects + ops.disconnects;
  const faultCount = figures.faults.reduce((n, [, k]) => n + k, 0);
  const ms = (value: number | undefined) => (value === undefined ? '-' : `${count(Math.round(value))} ms`);
  return [
    'figures',
    `  run          ${figures.durationS.toFixed(1)} s`,
    `  operations   ${count(total)}: ${count(ops.sends)} sends, ${count(ops.acks)} acks, ${count(ops.rejects)} rejects, ` +
      `${count(ops.deliveries)} deliveries, ${count(ops.connects)} connects, ${count(ops.disconnects)} disconnects`,
    `  faults       ${count(faultCount)}${faultCount > 0 ? `: ${figures.faults.map(([kind, n]) => `${kind} ${n}`).join(', ')}` : ''}`,
    `  failovers    ${count(failovers.count)}, back in every room after p50 ${ms(failovers.p50Ms)}, ` +
      `p99 ${ms(failovers.p99Ms)}, max ${ms(failovers.maxMs)}`,
    `  lost         ${count(figures.lost)}`,
    `  duplicates   ${count(figures.duplicates)}`,
    `  aliases      ${figures.aliasesStored.map(([node, n]) => `${node} ${count(n)}`).join(', ')} stored; ` +
      `${count(figures.shownUnderOtherId)} messages shown under another id than acked (design.md guarantee 2's hard case)`,
  ];
}

/** The closing line. */
export function formatConclusion(verdict: Verdict): string {
  const failed = verdict.results.filter((r) => r.violations.length > 0).map((r) => r.name);
  return failed.length === 0
    ? 'verdict: every guarantee held'
    : `verdict: ${plural(failed.length, 'guarantee')} violated: ${failed.join(', ')}`;
}

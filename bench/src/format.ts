// How the bench writes numbers: the same units and rounding in every section.

export const out = (line = '') => process.stdout.write(`${line}\n`);
export const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
export const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
export const ms = (n: number | null) => (n === null ? 'not detected' : `${int(n)} ms`);
export const kib = (bytes: number) => `${fixed(bytes / 1024, 1)} KiB`;
export const mib = (bytes: number) => `${fixed(bytes / (1024 * 1024), 1)} MiB`;
export const size = (bytes: number) => (bytes < 1024 * 1024 ? kib(bytes) : mib(bytes));

/** One line of the summary: the figure, its target, and whether it was met. */
export type SummaryLine = [figure: string, target: string, verdict: string];

export const verdict = (isMet: boolean) => (isMet ? 'met' : 'MISSED');

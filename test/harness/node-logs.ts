import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, onTestFailed } from 'vitest';
import { onCleanup } from './cleanup.js';
import { routeNodeLogs } from './host.js';
import { formatLogLine, type LogSource } from './log-lines.js';

export { formatLogLine, type LogLine, type LogSource, logsMatching } from './log-lines.js';

const TAIL_LINES = 25;

interface TestLogs {
  sources: LogSource[];
  // When the test body ended: later lines come from the teardown, not the test.
  endedAt?: number;
}

// The sources of the test under way, so a failure can show what the nodes said.
let current: TestLogs | undefined;

// Registered after cleanup.ts's hook (imported above), so it runs before the teardown.
afterEach(() => {
  if (current) current.endedAt = Date.now();
});

// Node processes started by the runtime-neutral harness hand their logs here.
routeNodeLogs((source) => attachLogsOnFailure(source));

/**
 * Shows a node's logs when the current test fails: the last lines of each node are
 * appended to the first error, and every line goes to a file named in the error.
 */
export function attachLogsOnFailure(source: LogSource): void {
  if (!current) {
    const test: TestLogs = { sources: [] };
    current = test;
    onCleanup(() => {
      current = undefined;
    });
    try {
      // An it.fails test is expected to fail: nothing to show.
      onTestFailed(({ task }) => {
        if (!task.fails) appendLogs(task.result?.errors?.[0], test);
      });
    } catch {
      // Outside a test (a beforeAll): no test to attach to.
    }
  }
  current.sources.push(source);
}

function appendLogs(error: { message: string } | undefined, test: TestLogs): void {
  if (!error || test.sources.length === 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'meshchat-cluster-logs-'));
  const tails: string[] = [];
  for (const source of test.sources) {
    const endedAt = test.endedAt ?? Number.POSITIVE_INFINITY;
    const cut = source.lines.findIndex((l) => l.time > endedAt);
    const during = cut === -1 ? source.lines : source.lines.slice(0, cut);
    const teardown = cut === -1 ? [] : source.lines.slice(cut);
    const text = [
      ...during.map(formatLogLine),
      ...(teardown.length > 0 ? ['---- test ended; teardown follows ----', ...teardown.map(formatLogLine)] : []),
      ...source.raw.map((r) => `(raw) ${r}`),
    ];
    writeFileSync(join(dir, `${source.name}.log`), `${text.join('\n')}\n`);
    const tail = during.slice(-TAIL_LINES).map(formatLogLine);
    tails.push(`--- ${source.name} (last ${tail.length} of ${during.length} lines before teardown)`, ...tail);
  }
  error.message += `\n\nNode logs, in full under ${dir}:\n${tails.join('\n')}`;
}

import type { GuaranteeResult } from './guarantee.js';
import { type RunModel, seconds } from './model.js';

/**
 * No node crashed on its own: every exit was a kill -9 of the schedule, or a SIGTERM
 * that the node answered by exiting 0 in time.
 */
export function checkNoCrash(model: RunModel): GuaranteeResult {
  const violations: string[] = [];
  for (const exit of model.nodeExits) {
    const how = `code ${exit.code}, signal ${exit.signal}`;
    const last = exit.lastLines.length > 0 ? `; its last lines: ${exit.lastLines.join(' | ')}` : '';
    if (exit.cause === null) {
      violations.push(`${exit.node} exited on its own at ${seconds(exit.t)} (${how})${last}`);
    } else if (exit.cause === 'stop' && exit.signal === 'SIGKILL') {
      violations.push(`${exit.node} did not exit after SIGTERM and was killed at ${seconds(exit.t)}${last}`);
    } else if (exit.cause === 'stop' && exit.code !== 0) {
      violations.push(`${exit.node} exited with ${how} after SIGTERM at ${seconds(exit.t)}${last}`);
    }
  }
  const kills = model.nodeExits.filter((e) => e.cause === 'kill').length;
  const stops = model.nodeExits.filter((e) => e.cause === 'stop').length;
  return {
    name: 'no-crash',
    title: 'no node crashed on its own',
    checked: `${model.nodeExits.length} exits (${kills} kill -9, ${stops} SIGTERM)`,
    violations,
  };
}

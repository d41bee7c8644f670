import type { HistoryEvent } from '../history.js';
import type { FinalStores } from '../stores.js';
import { checkConvergence } from './convergence.js';
import { checkDurable } from './durable.js';
import { checkExactlyOnce } from './exactly-once.js';
import { computeFigures, type Figures } from './figures.js';
import type { GuaranteeResult } from './guarantee.js';
import { buildModel, type RunModel } from './model.js';
import { checkNoCrash } from './no-crash.js';
import { checkSenderOrder } from './sender-order.js';
import { checkSettled } from './settled.js';

export interface Verdict {
  results: GuaranteeResult[];
  figures: Figures;
  model: RunModel;
  /** Every guarantee held. */
  isOk: boolean;
}

/**
 * Judges a run from its history and the nodes' final stores alone: each guarantee of
 * design.md that a run can show, by name, with evidence for every violation.
 */
export function checkRun(events: readonly HistoryEvent[], stores: FinalStores): Verdict {
  const model = buildModel(events);
  const results = [
    checkDurable(model, stores),
    checkExactlyOnce(model, stores),
    checkSenderOrder(model),
    checkConvergence(model, stores),
    checkSettled(model),
    checkNoCrash(model),
  ];
  return {
    results,
    figures: computeFigures(model, stores),
    model,
    isOk: results.every((r) => r.violations.length === 0),
  };
}

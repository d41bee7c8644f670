import { DURABLE_STOP_AFTER_UNCLEAN } from '../constants.js';
import { type BenchNodeSettings, withStore } from '../node-settings.js';
import { type FanoutStep, highestClean, runRoomFanout } from './room-fanout.js';

export const COMPARED_STORES = ['lmdb', 'memory'] as const;
export type ComparedStore = (typeof COMPARED_STORES)[number];

export interface DurableComparison {
  steps: Record<ComparedStore, FanoutStep[]>;
  /** Per store, its highest clean rate; 0 when no rate was clean. */
  cleanRate: Record<ComparedStore, number>;
  /** The durable store's highest clean rate over the memory store's; NaN when memory had none. */
  ratio: number;
}

export interface DurableOptions {
  rates: number[];
  durationS: number;
  settings: BenchNodeSettings;
  onStore?: (store: ComparedStore) => void;
  onStep?: (step: FanoutStep) => void;
  onStepFailed?: (rate: number, error: Error) => void;
}

/**
 * The room fan-out ladder twice, with the LMDB store (fsync'd group commits) and with
 * the memory store, each until DURABLE_STOP_AFTER_UNCLEAN rates in a row are not clean:
 * what durability costs in sustainable throughput.
 */
export async function runDurableComparison(options: DurableOptions): Promise<DurableComparison> {
  const steps = {} as Record<ComparedStore, FanoutStep[]>;
  for (const store of COMPARED_STORES) {
    options.onStore?.(store);
    steps[store] = await runRoomFanout({
      rates: options.rates,
      durationS: options.durationS,
      settings: withStore(options.settings, store),
      stopAfterUnclean: DURABLE_STOP_AFTER_UNCLEAN,
      onStep: options.onStep,
      onStepFailed: options.onStepFailed,
    });
  }
  const cleanRate = { lmdb: highestClean(steps.lmdb)?.rate ?? 0, memory: highestClean(steps.memory)?.rate ?? 0 };
  return { steps, cleanRate, ratio: cleanRate.memory > 0 ? cleanRate.lmdb / cleanRate.memory : Number.NaN };
}

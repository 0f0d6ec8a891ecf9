// Outcome advantages (TAO-RL.md §3), as a registry of estimators with one signature.
//   grpo:    A_i = (R_i - mean_g R) / (std_g R + eps), std unbiased (divide by G-1), eps = 1e-6
//   dr_grpo: A_i =  R_i - mean_g R                      (no std division)
// A group of one member uses mean 0 and std 1 (as the reference code), so A = R / (1 + eps) under grpo.
// Statistics include every member, masked or not: filters change the loss mask, never the baseline.
import type { AdvantageKind, TaoBatch, TaoRlOptions } from "../types.js";
import { checkBatch } from "./check.js";
import { groupStats, type GroupStats } from "./groups.js";

/** An estimator maps rewards [B] and their group statistics to per-trajectory advantages [B]. */
export type AdvantageEstimator = (reward: Float64Array, stats: GroupStats, eps: number) => Float64Array;

const estimators = new Map<string, AdvantageEstimator>();

/** Register an estimator under a new name; re-registering a name is an error. */
export function registerAdvantage(name: string, fn: AdvantageEstimator): void {
  if (estimators.has(name)) throw new Error(`advantage estimator "${name}" is already registered`);
  estimators.set(name, fn);
}

export function getAdvantage(name: AdvantageKind | string): AdvantageEstimator {
  const fn = estimators.get(name);
  if (!fn) throw new Error(`unknown advantage estimator "${name}"; valid: ${[...estimators.keys()].join(", ")}`);
  return fn;
}

registerAdvantage("grpo", (reward, stats, eps) => {
  const out = new Float64Array(reward.length);
  for (let b = 0; b < reward.length; b++) {
    const g = stats.index[b];
    const single = stats.size[g] === 1;
    const mean = single ? 0 : stats.mean[g];
    const std = single ? 1 : stats.std[g];
    out[b] = (reward[b] - mean) / (std + eps);
  }
  return out;
});

registerAdvantage("dr_grpo", (reward, stats) => {
  const out = new Float64Array(reward.length);
  for (let b = 0; b < reward.length; b++) {
    const g = stats.index[b];
    out[b] = reward[b] - (stats.size[g] === 1 ? 0 : stats.mean[g]);
  }
  return out;
});

/** Per-trajectory advantages [B] of a batch under `opts.advantage`. Pass `stats` to reuse the filter's. */
export function computeAdvantages(batch: TaoBatch, opts: TaoRlOptions, stats?: GroupStats): Float64Array {
  checkBatch(batch);
  return getAdvantage(opts.advantage)(batch.reward, stats ?? groupStats(batch.group, batch.reward), opts.advantageEps);
}

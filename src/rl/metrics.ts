// Evaluation estimators (TAO-RL.md §6) and per-step rollout metrics (§5).
import type { TaoBatch, TaoRlOptions } from "../types.js";
import { checkBatch } from "./check.js";
import { groupStats } from "./groups.js";

/**
 * Unbiased pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k), computed as the stable product
 * 1 - Π_{i=n-c+1}^{n} (1 - k/i). Requires 0 ≤ c ≤ n and 1 ≤ k ≤ n.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!(Number.isInteger(n) && Number.isInteger(c) && Number.isInteger(k))) throw new RangeError(`passAtK: n, c, k must be integers (got ${n}, ${c}, ${k})`);
  if (c < 0 || c > n) throw new RangeError(`passAtK: need 0 ≤ c ≤ n (got c=${c}, n=${n})`);
  if (k < 1 || k > n) throw new RangeError(`passAtK: need 1 ≤ k ≤ n (got k=${k}, n=${n})`);
  if (n - c < k) return 1;
  let miss = 1;
  for (let i = n - c + 1; i <= n; i++) miss *= 1 - k / i;
  return 1 - miss;
}

/** Per problem: samples drawn and samples correct. */
export interface ProblemTally {
  n: number;
  c: number;
}

/** avg@k (mean accuracy over samples, averaged over problems) and pass@k (averaged over problems). */
export function evalSummary(problems: ReadonlyArray<ProblemTally>, k: number): { avgAtK: number; passAtK: number; problems: number } {
  if (problems.length === 0) return { avgAtK: 0, passAtK: 0, problems: 0 };
  let avg = 0;
  let pass = 0;
  for (const p of problems) {
    avg += p.c / p.n;
    pass += passAtK(p.n, p.c, k);
  }
  return { avgAtK: avg / problems.length, passAtK: pass / problems.length, problems: problems.length };
}

export interface RolloutMetrics {
  reward_mean: number;
  accuracy: number;
  /** Groups by fraction correct: [0], (0, .25), [.25, .5), [.5, .75), [.75, 1), [1]. */
  pass_rate_hist: number[];
  tool_calls_per_traj: number;
  valid_exec_rate: number;
  /** Fraction of trajectories with ≥ 1 tool call and none valid. */
  all_tools_failed_rate: number;
  void_rate: number;
  truncation_rate: number;
  response_length_mean: number;
}

export function rolloutMetrics(batch: TaoBatch, opts: Pick<TaoRlOptions, "correctThreshold">): RolloutMetrics {
  checkBatch(batch);
  const { B, T } = batch;
  const stats = groupStats(batch.group, batch.reward);
  const correctPerGroup = new Float64Array(stats.ids.length);
  let reward = 0, correct = 0, calls = 0, valid = 0, failed = 0, voids = 0, trunc = 0, len = 0;
  for (let b = 0; b < B; b++) {
    reward += batch.reward[b];
    if (batch.reward[b] >= opts.correctThreshold) { correct++; correctPerGroup[stats.index[b]]++; }
    calls += batch.toolCalls[b];
    valid += batch.validToolCalls[b];
    if (batch.toolCalls[b] > 0 && batch.validToolCalls[b] === 0) failed++;
    voids += batch.isVoid[b];
    trunc += batch.truncated[b];
  }
  for (let i = 0; i < B * T; i++) len += batch.responseMask[i];
  const hist = [0, 0, 0, 0, 0, 0];
  for (let g = 0; g < stats.ids.length; g++) {
    const p = correctPerGroup[g] / stats.size[g];
    hist[p === 0 ? 0 : p === 1 ? 5 : p < 0.25 ? 1 : p < 0.5 ? 2 : p < 0.75 ? 3 : 4]++;
  }
  const per = (x: number) => (B > 0 ? x / B : 0);
  return {
    reward_mean: per(reward),
    accuracy: per(correct),
    pass_rate_hist: hist,
    tool_calls_per_traj: per(calls),
    valid_exec_rate: calls > 0 ? valid / calls : 0,
    all_tools_failed_rate: per(failed),
    void_rate: per(voids),
    truncation_rate: per(trunc),
    response_length_mean: per(len),
  };
}

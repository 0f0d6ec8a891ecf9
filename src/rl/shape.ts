// TAO-RL shaping for trajectories produced anywhere: filters → advantages → entropy bonus, with the pool
// = every loss token of the batch. Returns Ã_t × final loss mask per token (what a trainer multiplies
// into its policy-gradient term) and the per-trajectory results.
import type { TaoBatch, TaoRlOptions } from "../types.js";
import { computeAdvantages } from "./advantage.js";
import { entropyBonus, type BonusMetrics } from "./bonus.js";
import { checkBatch } from "./check.js";
import { filterBatch, type FilterResult } from "./filter.js";

export interface ShapeResult {
  filter: FilterResult;
  /** A_i [B] before masking. */
  advantage: Float64Array;
  /** Ã_t × m_t [B*T]. */
  tokenAdvantage: Float64Array;
  bonus: BonusMetrics;
}

export function shapeBatch(batch: TaoBatch, opts: TaoRlOptions): ShapeResult {
  checkBatch(batch, ["entropy"]);
  const filter = filterBatch(batch, opts);
  const advantage = computeAdvantages(batch, opts, filter.stats);
  const { B, T } = batch;
  const bonus = entropyBonus(
    { B, T, advantage, lossMask: filter.lossMask, postToolMask: batch.postToolMask, entropy: batch.entropy! },
    opts,
  );
  const tokenAdvantage = bonus.shaped;
  for (let i = 0; i < B * T; i++) tokenAdvantage[i] *= filter.lossMask[i];
  return { filter, advantage, tokenAdvantage, bonus: bonus.metrics };
}

// The tool-aware entropy-guided advantage bonus (TAO-RL.md §4):
//   pool  P  = tokens with loss mask > 0 (of the optimizer mini-batch, or of the file for `taorl shape`)
//   z_t      = (H_t - mean_P H) / (std_P H + 1e-8), population std; std := 1 when |P| ≤ 1
//   Ã_t      = A_t · (1 + a · s_t · z_t),  s_t = g_t (bonus_scope "post_tool") or 1 ("all"), a = 0.01
// Tokens with s_t = 0 keep A_t. No cap against |A|. No fallback to all tokens when a mini-batch has no
// post-tool token (the reference code falls back; we do not: no post-tool token, no bonus).
import type { Floats, TaoRlOptions } from "../types.js";
import { checkLength } from "./check.js";

export interface EntropyPool {
  /** Tokens in the pool. */
  size: number;
  mean: number;
  /** Population std of the pool (0 when size ≤ 1). */
  std: number;
  /** The std used to standardise: `std`, or 1 when size ≤ 1. */
  scale: number;
}

/**
 * Mean and population std of H over tokens with mask > 0, in one pass; masked slots are never read.
 * Sums are shifted by the first pool value, which keeps E[x²] - E[x]² accurate when the spread is small.
 */
export function entropyPool(entropy: Floats, lossMask: Float32Array): EntropyPool {
  let n = 0;
  let shift = 0;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < lossMask.length; i++) {
    if (!(lossMask[i] > 0)) continue;
    if (n === 0) shift = entropy[i];
    const d = entropy[i] - shift;
    sum += d;
    sumSq += d * d;
    n++;
  }
  const mean = n > 0 ? shift + sum / n : 0;
  const variance = n > 1 ? Math.max(0, sumSq / n - (sum / n) * (sum / n)) : 0;
  const std = Math.sqrt(variance);
  return { size: n, mean, std, scale: n > 1 ? std : 1 };
}

export interface BonusInput {
  B: number;
  T: number;
  /** Per-trajectory advantage A_i [B]. */
  advantage: Float64Array;
  /** Final loss mask [B*T] (from `filterBatch`). */
  lossMask: Float32Array;
  /** g [B*T]. */
  postToolMask: Uint8Array;
  /** H_t [B*T]; read only where lossMask > 0. */
  entropy: Floats;
}

export interface BonusMetrics {
  pool_size: number;
  pool_entropy_mean: number;
  pool_entropy_std: number;
  /** Tokens that received a bonus (s_t = 1 within the pool). */
  bonus_tokens: number;
  /** Mean and max of the factor a·z over bonus tokens (0 when there are none). */
  bonus_mean: number;
  bonus_max: number;
  entropy_post_tool_mean: number;
}

export interface BonusResult {
  /** Ã_t for pool tokens, 0 elsewhere [B*T]. Not multiplied by the loss mask. */
  shaped: Float64Array;
  /** z_t for pool tokens, 0 elsewhere [B*T] (absent when not asked for). */
  z?: Float64Array;
  pool: EntropyPool;
  metrics: BonusMetrics;
}

/** Ã and the bonus metrics; `withZ` also returns z_t (the loss leaves it out to save a [B*T] array). */
export function entropyBonus(input: BonusInput, opts: TaoRlOptions, withZ = true): BonusResult {
  const { B, T, advantage, lossMask, postToolMask, entropy } = input;
  const BT = B * T;
  checkLength("BonusInput.advantage", advantage, B, "[B]");
  checkLength("BonusInput.lossMask", lossMask, BT, "[B*T]");
  checkLength("BonusInput.postToolMask", postToolMask, BT, "[B*T]");
  checkLength("BonusInput.entropy", entropy, BT, "[B*T]");
  const pool = entropyPool(entropy, lossMask);
  const a = opts.entropyBonusCoef;
  const all = opts.bonusScope === "all";
  const denom = pool.scale + opts.entropyStdEps;
  const shaped = new Float64Array(BT);
  const z = withZ ? new Float64Array(BT) : undefined;
  let bonusTokens = 0;
  let bonusSum = 0;
  let bonusMax = -Infinity;
  let postSum = 0;
  let postN = 0;
  for (let b = 0; b < B; b++) {
    const A = advantage[b];
    const o = b * T;
    for (let t = o; t < o + T; t++) {
      if (!(lossMask[t] > 0)) continue;
      const zt = (entropy[t] - pool.mean) / denom;
      if (z) z[t] = zt;
      if (postToolMask[t]) { postSum += entropy[t]; postN++; }
      if (all || postToolMask[t]) {
        const f = a * zt;
        shaped[t] = A * (1 + f);
        bonusTokens++;
        bonusSum += f;
        if (f > bonusMax) bonusMax = f;
      } else {
        shaped[t] = A;
      }
    }
  }
  return {
    shaped, z, pool,
    metrics: {
      pool_size: pool.size,
      pool_entropy_mean: pool.mean,
      pool_entropy_std: pool.std,
      bonus_tokens: bonusTokens,
      bonus_mean: bonusTokens > 0 ? bonusSum / bonusTokens : 0,
      bonus_max: bonusTokens > 0 ? bonusMax : 0,
      entropy_post_tool_mean: postN > 0 ? postSum / postN : 0,
    },
  };
}

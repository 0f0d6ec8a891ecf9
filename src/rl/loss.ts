// The clipped policy loss (TAO-RL.md §5) and the coefficients of its engine-agnostic surrogate.
//   r_t = exp(clamp(logπθ_t - logπold_t, -20, 20))
//   L1 = -Ã r;  L2 = -Ã clip(r, 1-ε_low, 1+ε_high);  L = max(L1, L2);  if Ã < 0: L = min(L, -Ã c)
//   loss = agg_m(L) - entropy_coeff · agg_m(H) + kl_coef · agg_m(kl)
// agg_m is a weighted sum Σ_t α_t x_t with α_t = m_t · rowFactor_b:
//   token-mean           rowFactor = 1 / (Σ_all m + eps)
//   seq-mean-token-mean  rowFactor = 1 / ((Σ_t m_bt + eps) · (S + eps)),  S = rows with Σ_t m_bt > 0
//   seq-mean-token-sum   rowFactor = 1 / (S + eps)
// (rows with no loss token get 0). The algorithm never differentiates through an engine: it returns w_t and
// v_t such that ∇ Σ_t (w_t · logπθ_t + v_t · H_t) = ∇ loss, with w, v held constant.
//   w_t = α_t · ∂L_t/∂r_t · ∂r_t/∂logπ_t  (+ kl_coef · α_t · ∂kl_t/∂logπ_t)
//   v_t = -entropy_coeff · α_t  (+ the bonus path through z when detach_entropy = false, see below)
// The ratio's derivative is 0 where the log-ratio is clamped, as is the clipped branch's and the dual branch's.
import type { Floats, TaoBatch, TaoRlOptions } from "../types.js";
import { checkBatch, checkLength } from "./check.js";
import { entropyBonus, type BonusMetrics } from "./bonus.js";

export interface LossMetrics extends BonusMetrics {
  loss: number;
  pg_loss: number;
  entropy_loss: number;
  kl_loss: number;
  loss_tokens: number;
  /** Token fractions over the pool: Ã < 0 and r < 1-ε_low; Ã > 0 and r > 1+ε_high; Ã < 0 and r > c. */
  clipfrac_low: number;
  clipfrac_high: number;
  clipfrac_dual: number;
  /** mean(-clamp(logπθ - logπold, ±20)) over the pool (verl's ppo_kl). */
  approx_kl: number;
  ratio_mean: number;
  ratio_max: number;
  entropy_mean: number;
}

export interface LossResult {
  loss: number;
  /** ∂loss/∂logπ_t [B*T] (0 outside the loss mask). */
  w: Float32Array;
  /** ∂loss/∂H_t [B*T] (0 outside the loss mask). */
  v: Float32Array;
  /** Ã_t [B*T] (0 outside the pool). */
  shaped: Float64Array;
  metrics: LossMetrics;
}

/** Row factors of the aggregation (see header); α_t = m_t · rowFactor[b]. */
export function aggregationRowFactors(B: number, T: number, lossMask: Float32Array, opts: TaoRlOptions): Float64Array {
  const rowSum = new Float64Array(B);
  let total = 0;
  let rows = 0;
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let t = b * T; t < b * T + T; t++) s += lossMask[t];
    rowSum[b] = s;
    total += s;
    if (s > 0) rows++;
  }
  const f = new Float64Array(B);
  const eps = opts.lossEps;
  for (let b = 0; b < B; b++) {
    if (!(rowSum[b] > 0)) continue;
    switch (opts.lossAgg) {
      case "token-mean": f[b] = 1 / (total + eps); break;
      case "seq-mean-token-mean": f[b] = 1 / ((rowSum[b] + eps) * (rows + eps)); break;
      case "seq-mean-token-sum": f[b] = 1 / (rows + eps); break;
      default: throw new Error(`unknown loss_agg "${opts.lossAgg as string}"; valid: token-mean, seq-mean-token-mean, seq-mean-token-sum`);
    }
  }
  return f;
}

/** KL estimator value and its derivative with respect to logπθ (verl's k3 clamp to ±10 included). */
function klTerm(kind: TaoRlOptions["klEstimator"], logp: number, ref: number): [number, number] {
  const d = logp - ref;
  switch (kind) {
    case "k1": return [d, 1];
    case "k2": return [0.5 * d * d, d];
    case "k3": {
      const e = Math.exp(-d);
      const k = e + d - 1;
      if (k > 10) return [10, 0];
      if (k < -10) return [-10, 0];
      return [k, 1 - e];
    }
  }
}

export interface LossInput {
  /** The batch with `logp`, `oldLogp`, `entropy` (and `refLogp` when klCoef > 0). */
  batch: TaoBatch;
  /** Per-trajectory advantage [B] (from `computeAdvantages`). */
  advantage: Float64Array;
  /** Final loss mask [B*T] (from `filterBatch`). */
  lossMask: Float32Array;
}

export function policyLoss(input: LossInput, opts: TaoRlOptions): LossResult {
  const { batch, advantage, lossMask } = input;
  const useKl = opts.klCoef > 0;
  checkBatch(batch, useKl ? ["logp", "oldLogp", "entropy", "refLogp"] : ["logp", "oldLogp", "entropy"]);
  const { B, T } = batch;
  checkLength("LossInput.lossMask", lossMask, B * T, "[B*T]");
  const logp = batch.logp as Floats;
  const old = batch.oldLogp as Floats;
  const H = batch.entropy as Floats;
  const ref = batch.refLogp;

  const bonus = entropyBonus({ B, T, advantage, lossMask, postToolMask: batch.postToolMask, entropy: H }, opts, false);
  const { shaped, pool } = bonus;
  const g = batch.postToolMask;
  const allScope = opts.bonusScope === "all";
  const rowFactor = aggregationRowFactors(B, T, lossMask, opts);
  const C = opts.logRatioClamp;
  const lo = 1 - opts.clipRatioLow;
  const hi = 1 + opts.clipRatioHigh;
  const dual = opts.dualClip;
  const a = opts.entropyBonusCoef;
  const withBonusGrad = !opts.detachEntropy && a !== 0;

  const w = new Float32Array(B * T);
  const v = new Float32Array(B * T);
  // c_t = α_t · ∂L_t/∂Ã_t · A_t · a · s_t: the bonus path's weight per token (detach_entropy = false)
  const c = withBonusGrad ? new Float64Array(B * T) : null;
  let pg = 0, ent = 0, kl = 0;
  let n = 0, nLow = 0, nHigh = 0, nDual = 0;
  let klSum = 0, ratioSum = 0, ratioMax = 0, entSum = 0;

  for (let b = 0; b < B; b++) {
    const f = rowFactor[b];
    const A = advantage[b];
    for (let t = b * T; t < b * T + T; t++) {
      const m = lossMask[t];
      if (!(m > 0)) continue;
      const At = shaped[t];
      const delta = logp[t] - old[t];
      // the clamp passes the gradient on its boundary, as torch.clamp does
      const inside = delta >= -C && delta <= C;
      const clamped = inside ? delta : delta < -C ? -C : C;
      const r = Math.exp(clamped);
      const rc = r < lo ? lo : r > hi ? hi : r;
      const L1 = -At * r;
      const L2 = -At * rc;
      let L: number, dLdr: number, dLdA: number;
      if (L1 >= L2) { L = L1; dLdr = -At; dLdA = -r; }
      else { L = L2; dLdr = 0; dLdA = -rc; if (At < 0) nLow++; else nHigh++; }
      if (At < 0 && L > -At * dual) { L = -At * dual; dLdr = 0; dLdA = -dual; nDual++; }
      const alpha = m * f;
      pg += alpha * L;
      let wt = alpha * dLdr * (inside ? r : 0);
      if (useKl) {
        const [k, dk] = klTerm(opts.klEstimator, logp[t], (ref as Floats)[t]);
        kl += alpha * k;
        wt += opts.klCoef * alpha * dk;
      }
      w[t] = wt;
      ent += alpha * H[t];
      v[t] = -opts.entropyCoeff * alpha;
      if (c !== null && (allScope || g[t])) c[t] = alpha * dLdA * A * a;
      n++;
      klSum -= clamped;
      ratioSum += r;
      if (r > ratioMax) ratioMax = r;
      entSum += H[t];
    }
  }

  if (c !== null && pool.size > 0) {
    // ∂z_t/∂H_j = (δ_tj - 1/n)/(σ+ε) - (H_t-μ)(H_j-μ)/(n σ (σ+ε)²); σ is the constant 1 when n ≤ 1,
    // and its derivative is taken as 0 where σ = 0 (all pool entropies equal).
    const nP = pool.size;
    const denom = pool.scale + opts.entropyStdEps;
    let sumC = 0, sumCD = 0;
    for (let t = 0; t < B * T; t++) if (lossMask[t] > 0) { sumC += c[t]; sumCD += c[t] * (H[t] - pool.mean); }
    const sigmaTerm = nP > 1 && pool.std > 0 ? sumCD / (nP * pool.std * denom * denom) : 0;
    for (let t = 0; t < B * T; t++) {
      if (!(lossMask[t] > 0)) continue;
      v[t] += c[t] / denom - sumC / (nP * denom) - (H[t] - pool.mean) * sigmaTerm;
    }
  }

  const loss = pg - opts.entropyCoeff * ent + opts.klCoef * kl;
  return {
    loss, w, v, shaped,
    metrics: {
      ...bonus.metrics,
      loss,
      pg_loss: pg,
      entropy_loss: ent,
      kl_loss: kl,
      loss_tokens: n,
      clipfrac_low: n > 0 ? nLow / n : 0,
      clipfrac_high: n > 0 ? nHigh / n : 0,
      clipfrac_dual: n > 0 ? nDual / n : 0,
      approx_kl: n > 0 ? klSum / n : 0,
      ratio_mean: n > 0 ? ratioSum / n : 0,
      ratio_max: ratioMax,
      entropy_mean: n > 0 ? entSum / n : 0,
    },
  };
}

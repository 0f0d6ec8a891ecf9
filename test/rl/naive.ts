// A deliberately naive re-implementation of TAO-RL (TAO-RL.md §2-§6), written from the spec, not from
// src/rl/: plain number arrays, nested loops, per-group arrays built with filter(), one obvious formula
// per line. It is the reference the fast code is checked against and the source of the conformance
// vectors (test/fixtures/conformance). Slow on purpose; never import it from src/.
import type { TaoRlOptions } from "../../src/types.js";

/** A batch as plain arrays. Per-token arrays are row-major [B*T] (index b*T + t). */
export interface NaiveBatch {
  B: number;
  T: number;
  group: number[];
  reward: number[];
  responseMask: number[];
  postToolMask: number[];
  toolCalls: number[];
  validToolCalls: number[];
  isVoid: number[];
  truncated: number[];
  entropy?: number[];
  logp?: number[];
  oldLogp?: number[];
  refLogp?: number[];
}

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const mean = (xs: number[]) => sum(xs) / xs.length;
const rows = (B: number) => Array.from({ length: B }, (_, b) => b);

// ---------------------------------------------------------------------------------------------- §2-3
export interface NaiveGroup {
  id: number;
  /** Row indices of the members. */
  members: number[];
  rewards: number[];
  mean: number;
  /** Unbiased std (divide by n-1); NaN for a single member. */
  std: number;
}

/** Groups in order of first appearance of their id. */
export function naiveGroups(group: number[], reward: number[]): NaiveGroup[] {
  const ids: number[] = [];
  for (const g of group) if (!ids.includes(g)) ids.push(g);
  return ids.map((id) => {
    const members = rows(group.length).filter((b) => group[b] === id);
    const rewards = members.map((b) => reward[b]);
    const m = mean(rewards);
    let ss = 0;
    for (const r of rewards) ss += (r - m) * (r - m);
    const std = rewards.length > 1 ? Math.sqrt(ss / (rewards.length - 1)) : NaN;
    return { id, members, rewards, mean: m, std };
  });
}

export type ReasonName = "group_all_correct" | "group_all_wrong" | "group_overlong" | "truncated" | "all_tools_failed" | "void";
export const REASON_ORDER: ReasonName[] = ["group_all_correct", "group_all_wrong", "group_overlong", "truncated", "all_tools_failed", "void"];

export interface NaiveCounts {
  groups: number;
  groupsKept: number;
  droppedAllCorrect: number;
  droppedAllWrong: number;
  droppedOverlong: number;
  trajectories: number;
  trajectoriesKept: number;
  maskedTruncated: number;
  maskedAllToolsFailed: number;
  maskedVoid: number;
  flaggedAllToolsFailed: number;
}

export interface NaiveFilter {
  groups: NaiveGroup[];
  /** Per group, in first-appearance order: 1 kept, 0 dropped. */
  groupKept: number[];
  /** Per trajectory. */
  weight: number[];
  reasons: ReasonName[][];
  lossMask: number[];
  counts: NaiveCounts;
}

/** §2 in the spec's order: criterion 2, overlong, criterion 1, void. */
export function naiveFilter(batch: NaiveBatch, o: TaoRlOptions): NaiveFilter {
  const { B, T } = batch;
  const groups = naiveGroups(batch.group, batch.reward);
  const groupReason: (ReasonName | null)[] = groups.map(() => null);

  // criterion 2: uniform groups, judged on every member's raw reward; singletons are never dropped
  for (let g = 0; g < groups.length; g++) {
    const gr = groups[g];
    if (!o.filterUniformGroups || gr.members.length < 2) continue;
    if (gr.std < o.groupStdThreshold) groupReason[g] = gr.mean >= o.correctThreshold ? "group_all_correct" : "group_all_wrong";
  }
  // overlong: a group left with fewer than min(minValid, size) non-truncated members is dropped
  for (let g = 0; g < groups.length; g++) {
    if (!o.maskTruncated || groupReason[g] !== null) continue;
    const complete = groups[g].members.filter((b) => batch.truncated[b] === 0).length;
    if (complete < Math.min(o.minValidPerGroup, groups[g].members.length)) groupReason[g] = "group_overlong";
  }
  const groupKept = groupReason.map((r) => (r === null ? 1 : 0));

  const weight: number[] = [];
  const reasons: ReasonName[][] = [];
  const counts: NaiveCounts = {
    groups: groups.length,
    groupsKept: groupKept.filter((k) => k === 1).length,
    droppedAllCorrect: groupReason.filter((r) => r === "group_all_correct").length,
    droppedAllWrong: groupReason.filter((r) => r === "group_all_wrong").length,
    droppedOverlong: groupReason.filter((r) => r === "group_overlong").length,
    trajectories: B,
    trajectoriesKept: 0,
    maskedTruncated: 0,
    maskedAllToolsFailed: 0,
    maskedVoid: 0,
    flaggedAllToolsFailed: 0,
  };
  for (let b = 0; b < B; b++) {
    const g = groups.findIndex((gr) => gr.members.includes(b));
    const kept = groupKept[g] === 1;
    const why: ReasonName[] = [];
    if (groupReason[g] !== null) why.push(groupReason[g]!);
    let w = kept ? 1 : 0;
    if (o.maskTruncated && batch.truncated[b] === 1) {
      why.push("truncated");
      w = 0;
      if (kept) counts.maskedTruncated += 1;
    }
    const flagged = batch.toolCalls[b] >= 1 && batch.validToolCalls[b] === 0;
    if (o.filterToolFailures && flagged) {
      why.push("all_tools_failed");
      w = w * (1 - o.toolFailStrength);
      counts.flaggedAllToolsFailed += 1;
      if (kept) counts.maskedAllToolsFailed += 1;
    }
    if (o.maskVoidTurns && batch.isVoid[b] === 1) {
      why.push("void");
      w = 0;
      if (kept) counts.maskedVoid += 1;
    }
    if (w > 0) counts.trajectoriesKept += 1;
    weight.push(w);
    reasons.push(why);
  }
  const lossMask: number[] = [];
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) lossMask.push(batch.responseMask[b * T + t] === 1 ? weight[b] : 0);
  return { groups, groupKept, weight, reasons, lossMask, counts };
}

/** §3: per-trajectory advantage, before any mask. Singleton groups use mean 0 and std 1. */
export function naiveAdvantage(group: number[], reward: number[], o: Pick<TaoRlOptions, "advantage" | "advantageEps">): number[] {
  const groups = naiveGroups(group, reward);
  return reward.map((r, b) => {
    const gr = groups.find((x) => x.members.includes(b))!;
    const single = gr.members.length === 1;
    const m = single ? 0 : gr.mean;
    const s = single ? 1 : gr.std;
    return o.advantage === "dr_grpo" ? r - m : (r - m) / (s + o.advantageEps);
  });
}

// ---------------------------------------------------------------------------------------------- §1
export type NaiveTurnKind = "none" | "code" | "answer" | "void";

/**
 * g_t: 1 on the policy tokens of a turn that directly follows a code turn; with window K > 0, only the
 * first K policy tokens of that turn. `turnIndex` [B*T] (-1 = prompt), `turns` [B][turns] kinds.
 */
export function naivePostToolMask(B: number, T: number, responseMask: number[], turnIndex: number[], turns: NaiveTurnKind[][], window: number): number[] {
  const g: number[] = new Array(B * T).fill(0);
  for (let b = 0; b < B; b++) {
    const kinds = turns[b];
    for (let k = 1; k < kinds.length; k++) {
      if (kinds[k - 1] !== "code") continue;
      // the policy tokens of turn k, in order
      const slots = Array.from({ length: T }, (_, t) => b * T + t).filter((i) => responseMask[i] === 1 && turnIndex[i] === k);
      const keep = window > 0 ? slots.slice(0, window) : slots;
      for (const i of keep) g[i] = 1;
    }
  }
  return g;
}

// ---------------------------------------------------------------------------------------------- §4
export interface NaivePool {
  size: number;
  mean: number;
  /** Population std (0 for ≤ 1 token). */
  std: number;
  /** What z divides by, before eps: std, or 1 for ≤ 1 token. */
  scale: number;
}

export function naivePool(entropy: number[], lossMask: number[]): NaivePool {
  const idx = lossMask.map((_, i) => i).filter((i) => lossMask[i] > 0);
  const hs = idx.map((i) => entropy[i]);
  if (hs.length === 0) return { size: 0, mean: 0, std: 0, scale: 1 };
  const m = mean(hs);
  const std = hs.length > 1 ? Math.sqrt(mean(hs.map((h) => (h - m) ** 2))) : 0;
  return { size: hs.length, mean: m, std, scale: hs.length > 1 ? std : 1 };
}

export interface NaiveBonus {
  pool: NaivePool;
  /** z_t on pool tokens, 0 elsewhere. */
  z: number[];
  /** Ã_t on pool tokens, 0 elsewhere (not multiplied by the mask). */
  shaped: number[];
  /** 1 where the bonus applies (pool token in scope). */
  scope: number[];
  metrics: {
    pool_size: number;
    pool_entropy_mean: number;
    pool_entropy_std: number;
    bonus_tokens: number;
    bonus_mean: number;
    bonus_max: number;
    entropy_post_tool_mean: number;
  };
}

/** Ã_t = A_t (1 + a s_t z_t), z over the pool of loss tokens, population std + eps, std := 1 if ≤ 1 token. */
export function naiveBonus(
  B: number, T: number, advantage: number[], lossMask: number[], postToolMask: number[], entropy: number[],
  o: Pick<TaoRlOptions, "entropyBonusCoef" | "bonusScope" | "entropyStdEps">,
): NaiveBonus {
  const pool = naivePool(entropy, lossMask);
  const z: number[] = new Array(B * T).fill(0);
  const shaped: number[] = new Array(B * T).fill(0);
  const scope: number[] = new Array(B * T).fill(0);
  const factors: number[] = [];
  const post: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (!(lossMask[i] > 0)) continue;
      z[i] = (entropy[i] - pool.mean) / (pool.scale + o.entropyStdEps);
      const inScope = o.bonusScope === "all" || postToolMask[i] === 1;
      if (postToolMask[i] === 1) post.push(entropy[i]);
      if (inScope) {
        scope[i] = 1;
        factors.push(o.entropyBonusCoef * z[i]);
        shaped[i] = advantage[b] * (1 + o.entropyBonusCoef * z[i]);
      } else {
        shaped[i] = advantage[b];
      }
    }
  }
  return {
    pool, z, shaped, scope,
    metrics: {
      pool_size: pool.size,
      pool_entropy_mean: pool.mean,
      pool_entropy_std: pool.std,
      bonus_tokens: factors.length,
      bonus_mean: factors.length > 0 ? mean(factors) : 0,
      bonus_max: factors.length > 0 ? Math.max(...factors) : 0,
      entropy_post_tool_mean: post.length > 0 ? mean(post) : 0,
    },
  };
}

// ---------------------------------------------------------------------------------------------- §5
/** α_t of the aggregation (src/rl/loss.ts header): agg_m(x) = Σ_t α_t x_t. */
export function naiveAggWeights(B: number, T: number, lossMask: number[], agg: TaoRlOptions["lossAgg"], eps: number): number[] {
  const rowMass = rows(B).map((b) => sum(lossMask.slice(b * T, b * T + T)));
  const total = sum(rowMass);
  const S = rowMass.filter((m) => m > 0).length;
  const alpha: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const m = lossMask[b * T + t];
      if (!(rowMass[b] > 0) || !(m > 0)) { alpha.push(0); continue; }
      if (agg === "token-mean") alpha.push(m / (total + eps));
      else if (agg === "seq-mean-token-mean") alpha.push(m / (rowMass[b] + eps) / (S + eps));
      else alpha.push(m / (S + eps));
    }
  }
  return alpha;
}

/** KL estimators against the reference policy, as verl's kl_penalty: k1 "kl", k2 "mse", k3 "low_var_kl". */
export function naiveKl(kind: TaoRlOptions["klEstimator"], logp: number, ref: number): number {
  if (kind === "k1") return logp - ref;
  if (kind === "k2") return 0.5 * (logp - ref) ** 2;
  const x = Math.max(-20, Math.min(20, ref - logp));
  const k3 = Math.exp(x) - x - 1;
  return Math.max(-10, Math.min(10, k3));
}

/** d naiveKl / d logp (0 where the ±10 clamp is active). */
export function naiveKlGrad(kind: TaoRlOptions["klEstimator"], logp: number, ref: number): number {
  if (kind === "k1") return 1;
  if (kind === "k2") return logp - ref;
  const x = ref - logp;
  const k3 = Math.exp(x) - x - 1;
  if (k3 > 10 || k3 < -10) return 0;
  return 1 - Math.exp(x);
}

export type Branch = "unclipped" | "clip_low" | "clip_high" | "dual";

/** Which piece of the clipped objective is active, from the ratio and the sign of Ã. */
export function naiveBranch(At: number, r: number, o: Pick<TaoRlOptions, "clipRatioLow" | "clipRatioHigh" | "dualClip">): Branch {
  if (At > 0 && r > 1 + o.clipRatioHigh) return "clip_high";
  if (At < 0 && r > o.dualClip) return "dual";
  if (At < 0 && r < 1 - o.clipRatioLow) return "clip_low";
  return "unclipped";
}

/** Per-token loss L_t from Ã_t and the log-ratio. */
export function naiveTokenLoss(At: number, logRatio: number, o: TaoRlOptions): number {
  const r = Math.exp(Math.max(-o.logRatioClamp, Math.min(o.logRatioClamp, logRatio)));
  const clipped = Math.max(1 - o.clipRatioLow, Math.min(1 + o.clipRatioHigh, r));
  let L = Math.max(-At * r, -At * clipped);
  if (At < 0) L = Math.min(L, -At * o.dualClip);
  return L;
}

export interface NaiveLossInput {
  B: number;
  T: number;
  /** A_i [B]. */
  advantage: number[];
  lossMask: number[];
  postToolMask: number[];
  logp: number[];
  oldLogp: number[];
  entropy: number[];
  refLogp?: number[];
}

/**
 * The loss VALUE as a function of (logp, entropy). `bonusEntropy` is the entropy the bonus reads: pass a
 * frozen copy to evaluate the detached loss (H held constant in z), or omit it for the full dependence.
 */
export function naiveLossValue(inp: NaiveLossInput, o: TaoRlOptions, logp: number[], entropy: number[], bonusEntropy: number[] = entropy): number {
  const { B, T, advantage, lossMask } = inp;
  const shaped = naiveBonus(B, T, advantage, lossMask, inp.postToolMask, bonusEntropy, o).shaped;
  const alpha = naiveAggWeights(B, T, lossMask, o.lossAgg, o.lossEps);
  let pg = 0, ent = 0, kl = 0;
  for (let i = 0; i < B * T; i++) {
    if (!(lossMask[i] > 0)) continue;
    pg += alpha[i] * naiveTokenLoss(shaped[i], logp[i] - inp.oldLogp[i], o);
    ent += alpha[i] * entropy[i];
    if (o.klCoef > 0) kl += alpha[i] * naiveKl(o.klEstimator, logp[i], inp.refLogp![i]);
  }
  return pg - o.entropyCoeff * ent + o.klCoef * kl;
}

export interface NaiveLoss {
  loss: number;
  w: number[];
  v: number[];
  shaped: number[];
  /** z_t on pool tokens, 0 elsewhere. */
  z: number[];
  branch: (Branch | null)[];
  metrics: Record<string, number>;
}

/** The loss, its metrics, and the analytic coefficients w = ∂loss/∂logπ, v = ∂loss/∂H (per detach_entropy). */
export function naivePolicyLoss(inp: NaiveLossInput, o: TaoRlOptions): NaiveLoss {
  const { B, T, advantage, lossMask, logp, oldLogp, entropy } = inp;
  const N = B * T;
  const bonus = naiveBonus(B, T, advantage, lossMask, inp.postToolMask, entropy, o);
  const alpha = naiveAggWeights(B, T, lossMask, o.lossAgg, o.lossEps);
  const lo = 1 - o.clipRatioLow, hi = 1 + o.clipRatioHigh;
  const w: number[] = new Array(N).fill(0);
  const v: number[] = new Array(N).fill(0);
  const branch: (Branch | null)[] = new Array(N).fill(null);
  const dLdShaped: number[] = new Array(N).fill(0);
  let pg = 0, ent = 0, kl = 0;
  const pool = rows(N).filter((i) => lossMask[i] > 0);
  const ratios: number[] = [];
  for (const i of pool) {
    const At = bonus.shaped[i];
    const d = logp[i] - oldLogp[i];
    const clamped = d < -o.logRatioClamp || d > o.logRatioClamp;
    const r = Math.exp(Math.max(-o.logRatioClamp, Math.min(o.logRatioClamp, d)));
    ratios.push(r);
    const br = naiveBranch(At, r, o);
    branch[i] = br;
    let L: number;
    if (br === "unclipped") { L = -At * r; w[i] = clamped ? 0 : alpha[i] * -At * r; dLdShaped[i] = -r; }
    else if (br === "clip_low") { L = -At * lo; dLdShaped[i] = -lo; }
    else if (br === "clip_high") { L = -At * hi; dLdShaped[i] = -hi; }
    else { L = -At * o.dualClip; dLdShaped[i] = -o.dualClip; }
    pg += alpha[i] * L;
    ent += alpha[i] * entropy[i];
    v[i] = -o.entropyCoeff * alpha[i];
    if (o.klCoef > 0) {
      kl += alpha[i] * naiveKl(o.klEstimator, logp[i], inp.refLogp![i]);
      w[i] += o.klCoef * alpha[i] * naiveKlGrad(o.klEstimator, logp[i], inp.refLogp![i]);
    }
  }
  if (!o.detachEntropy && o.entropyBonusCoef !== 0 && pool.length > 0) {
    // chain rule through every z_t: v_j += Σ_t α_t ∂L_t/∂Ã_t · A_b(t) · a · s_t · ∂z_t/∂H_j (full Jacobian)
    const n = pool.length;
    const mu = bonus.pool.mean;
    const sigma = bonus.pool.std;
    const den = bonus.pool.scale + o.entropyStdEps;
    for (const j of pool) {
      let g = 0;
      for (const t of pool) {
        if (bonus.scope[t] !== 1) continue;
        const A = advantage[Math.floor(t / T)];
        const dMu = 1 / n;
        // σ is the constant 1 for n ≤ 1; where σ = 0 (all equal) its derivative is taken as 0
        const dSigma = n > 1 && sigma > 0 ? (entropy[j] - mu) / (n * sigma) : 0;
        const dz = ((t === j ? 1 : 0) - dMu) / den - ((entropy[t] - mu) / (den * den)) * dSigma;
        g += alpha[t] * dLdShaped[t] * A * o.entropyBonusCoef * dz;
      }
      v[j] += g;
    }
  }
  const n = pool.length;
  const loss = pg - o.entropyCoeff * ent + o.klCoef * kl;
  const count = (b: Branch) => pool.filter((i) => branch[i] === b).length;
  return {
    loss, w, v, shaped: bonus.shaped, z: bonus.z, branch,
    metrics: {
      ...bonus.metrics,
      loss,
      pg_loss: pg,
      entropy_loss: ent,
      kl_loss: kl,
      loss_tokens: n,
      clipfrac_low: n > 0 ? count("clip_low") / n : 0,
      clipfrac_high: n > 0 ? count("clip_high") / n : 0,
      clipfrac_dual: n > 0 ? count("dual") / n : 0,
      approx_kl: n > 0 ? mean(pool.map((i) => -Math.max(-o.logRatioClamp, Math.min(o.logRatioClamp, logp[i] - oldLogp[i])))) : 0,
      ratio_mean: n > 0 ? mean(ratios) : 0,
      ratio_max: n > 0 ? Math.max(...ratios) : 0,
      entropy_mean: n > 0 ? mean(pool.map((i) => entropy[i])) : 0,
    },
  };
}

// ---------------------------------------------------------------------------------------------- §2.5
export interface NaiveRefillExpectation {
  action: "exact" | "subsample" | "duplicate" | "regenerate" | "skip" | "keep";
  /** Output groups. */
  size: number;
  duplicated: number;
  need: number;
}

/** What §2.5 says must happen (the seeded choice itself is checked by `checkRefillPlan`). */
export function naiveRefill(survivors: number, o: Pick<TaoRlOptions, "batchPrompts" | "refill" | "maxGenRounds">, round = 1): NaiveRefillExpectation {
  const N = o.batchPrompts;
  const canRegenerate = o.refill === "regenerate" && round < o.maxGenRounds;
  if (survivors === 0 && !canRegenerate) return { action: "skip", size: 0, duplicated: 0, need: 0 };
  if (o.refill === "none") return { action: "keep", size: survivors, duplicated: 0, need: 0 };
  if (survivors === N) return { action: "exact", size: N, duplicated: 0, need: 0 };
  if (survivors > N) return { action: "subsample", size: N, duplicated: 0, need: 0 };
  if (canRegenerate) return { action: "regenerate", size: survivors, duplicated: 0, need: N - survivors };
  return { action: "duplicate", size: N, duplicated: N - survivors, need: 0 };
}

/** Violations of §2.5 by a plan (empty = conforming). */
export function checkRefillPlan(
  plan: { action: string; source: ArrayLike<number>; target: ArrayLike<number>; duplicated: number; need: number },
  survivors: number[], nextGroupId: number, o: Pick<TaoRlOptions, "batchPrompts" | "refill" | "maxGenRounds">, round = 1,
): string[] {
  const bad: string[] = [];
  const want = naiveRefill(survivors.length, o, round);
  const source = Array.from(plan.source);
  const target = Array.from(plan.target);
  if (plan.action !== want.action) bad.push(`action ${plan.action}, expected ${want.action}`);
  if (source.length !== want.size || target.length !== want.size) bad.push(`size ${source.length}/${target.length}, expected ${want.size}`);
  if (plan.duplicated !== want.duplicated) bad.push(`duplicated ${plan.duplicated}, expected ${want.duplicated}`);
  if (plan.need !== want.need) bad.push(`need ${plan.need}, expected ${want.need}`);
  for (const s of source) if (!survivors.includes(s)) bad.push(`source ${s} is not a survivor`);
  if (want.action === "subsample") {
    if (new Set(source).size !== source.length) bad.push("subsample repeats a group");
    if (target.some((x, i) => x !== source[i])) bad.push("subsample renamed a group");
  }
  if (want.action === "duplicate") {
    // every survivor once under its own id, then copies under fresh ids nextGroupId, nextGroupId + 1, ...
    for (let i = 0; i < survivors.length; i++) if (source[i] !== survivors[i] || target[i] !== survivors[i]) bad.push(`slot ${i} is not survivor ${survivors[i]}`);
    for (let i = survivors.length; i < target.length; i++) if (target[i] !== nextGroupId + i - survivors.length) bad.push(`copy ${i} has id ${target[i]}`);
    if (new Set(target).size !== target.length) bad.push("duplicate ids collide");
  }
  if (want.action === "exact" || want.action === "keep" || want.action === "regenerate") {
    if (source.some((x, i) => x !== survivors[i]) || target.some((x, i) => x !== survivors[i])) bad.push("survivors changed");
  }
  return bad;
}

// ---------------------------------------------------------------------------------------------- §6
function binom(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let num = 1n, den = 1n;
  for (let i = 0; i < k; i++) { num *= BigInt(n - i); den *= BigInt(i + 1); }
  return num / den;
}

/** pass@k = 1 - C(n-c, k) / C(n, k), the literal binomial formula (exact integers, one final division). */
export function naivePassAtK(n: number, c: number, k: number): number {
  const miss = binom(n - c, k);
  const all = binom(n, k);
  // exact rational → double: scale before dividing so the quotient keeps ~60 significant bits
  const scale = 1n << 64n;
  return 1 - Number((miss * scale) / all) / 2 ** 64;
}

/** avg@k: mean over problems of c/n. */
export function naiveAvgAtK(problems: { n: number; c: number }[]): number {
  return problems.length === 0 ? 0 : mean(problems.map((p) => p.c / p.n));
}

/** Per-step rollout metrics (§5): rates over trajectories; pass-rate histogram over groups. */
export function naiveRolloutMetrics(batch: NaiveBatch, correctThreshold: number) {
  const B = batch.B;
  const per = (x: number) => (B > 0 ? x / B : 0);
  const correct = batch.reward.map((r) => (r >= correctThreshold ? 1 : 0));
  // bins: exactly 0, (0, .25), [.25, .5), [.5, .75), [.75, 1), exactly 1
  const hist = [0, 0, 0, 0, 0, 0];
  for (const g of naiveGroups(batch.group, batch.reward)) {
    const p = sum(g.members.map((b) => correct[b])) / g.members.length;
    const bin = p === 0 ? 0 : p === 1 ? 5 : p < 0.25 ? 1 : p < 0.5 ? 2 : p < 0.75 ? 3 : 4;
    hist[bin] += 1;
  }
  const calls = sum(batch.toolCalls);
  return {
    reward_mean: per(sum(batch.reward)),
    accuracy: per(sum(correct)),
    pass_rate_hist: hist,
    tool_calls_per_traj: per(calls),
    valid_exec_rate: calls > 0 ? sum(batch.validToolCalls) / calls : 0,
    all_tools_failed_rate: per(rows(B).filter((b) => batch.toolCalls[b] > 0 && batch.validToolCalls[b] === 0).length),
    void_rate: per(sum(batch.isVoid)),
    truncation_rate: per(sum(batch.truncated)),
    response_length_mean: per(sum(batch.responseMask)),
  };
}

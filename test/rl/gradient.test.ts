// The surrogate coefficients are the loss gradient: for every loss token, the central finite difference of
// policyLoss(...).loss with respect to logπ_t equals w_t and with respect to H_t equals v_t, in every mode
// (each loss_agg, detach on/off, both bonus scopes, entropy_coeff ≠ 0, each KL estimator), with advantages
// large enough that the unclipped, clip-low, clip-high, dual-clip and clamped branches all occur.
//
// Tolerance, and why: inputs are Float64, step h = 1e-6. The central difference's truncation error is
// h²/6·|f'''| (≈ 1e-12 relative here: L is exp-like in logπ and smooth in H away from kinks) and its rounding
// error is ≈ ε·|loss|/h ≈ 2e-10·|loss|; w and v are Float32 (relative rounding 6e-8). We accept
//     |fd - coef| ≤ 1e-4 · max(|fd|, |coef|) + 1e-7 · S,    S = max(1, |loss|, max_t |w_t|, max_t |v_t|),
// i.e. 1e-4 relative, with an absolute floor at 1e-7 of the gradient's scale (≥ 500× the FD rounding error),
// below which a coefficient counts as zero. Samples are rejected when a perturbation could cross a kink:
// a ratio within 1e-4 (relative) of 1-ε_low, 1+ε_high or c, a log-ratio within 1e-3 of ±clamp, a k3 value
// within 1e-3 of its ±10 clamp, or a shaped advantage whose sign could flip (|1 + a·z| < 1e-3).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { policyLoss } from "../../src/rl/index.js";
import type { TaoBatch, TaoRlOptions } from "../../src/types.js";
import { DEFAULTS } from "../../src/config.js";
import { rng, toTao, randomBatch } from "./gen.js";
import { naiveBonus, naiveBranch, naiveKl, naiveLossValue, naivePolicyLoss, type Branch, type NaiveLossInput } from "./naive.js";

const H_STEP = 1e-6;
const REL = 1e-4;
const FLOOR = 1e-7;

interface GradCase {
  input: NaiveLossInput;
  opts: TaoRlOptions;
}

const modeArb = fc.record({
  lossAgg: fc.constantFrom("token-mean" as const, "seq-mean-token-mean" as const, "seq-mean-token-sum" as const),
  detachEntropy: fc.boolean(),
  bonusScope: fc.constantFrom("post_tool" as const, "all" as const),
  entropyBonusCoef: fc.constantFrom(0.01, 0.3),
  entropyCoeff: fc.constantFrom(0, 0.02, -0.03),
  kl: fc.constantFrom("none", "k1", "k2", "k3"),
});

const caseArb = fc.record({
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  B: fc.integer({ min: 1, max: 8 }),
  T: fc.integer({ min: 1, max: 7 }),
  mode: modeArb,
}).map(({ seed, B, T, mode }): GradCase => {
  const { kl, ...rest } = mode;
  const opts: TaoRlOptions = { ...DEFAULTS, ...rest, klCoef: kl === "none" ? 0 : 0.1, klEstimator: kl === "none" ? "k3" : (kl as TaoRlOptions["klEstimator"]) };
  const n = randomBatch({ seed, B, T, rewards: "binary", spread: 2, flagRate: 0, f64: true });
  const R = rng(seed ^ 0x2545f491);
  // large, signed advantages; loss-mask weights 0 / 0.5 / 1 per row; some log-ratios far past the clamp
  const advantage = Array.from({ length: B }, () => R.uniform(-5, 5));
  const weight = Array.from({ length: B }, () => R.pick([0, 0.5, 1, 1, 1]));
  const lossMask = n.responseMask.map((m, i) => m * weight[Math.floor(i / T)]);
  const oldLogp = n.oldLogp!.map((x, i) => (R.next() < 0.05 ? n.logp![i] + R.pick([-25, 25]) : x));
  const refLogp = n.refLogp!.map((x, i) => (R.next() < 0.05 ? n.logp![i] + R.pick([-15, 15]) : x));
  return { input: { B, T, advantage, lossMask, postToolMask: n.postToolMask, logp: n.logp!, oldLogp, entropy: n.entropy!, refLogp }, opts };
});

/** True when an O(h) perturbation of any input could switch a branch of the piecewise loss. */
function nearKink({ input: x, opts: o }: GradCase): boolean {
  const bonus = naiveBonus(x.B, x.T, x.advantage, x.lossMask, x.postToolMask, x.entropy, o);
  const rel = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.abs(b);
  for (let i = 0; i < x.B * x.T; i++) {
    if (!(x.lossMask[i] > 0)) continue;
    const d = x.logp[i] - x.oldLogp[i];
    if (Math.abs(Math.abs(d) - o.logRatioClamp) < 1e-3) return true;
    const r = Math.exp(Math.max(-o.logRatioClamp, Math.min(o.logRatioClamp, d)));
    if (rel(r, 1 - o.clipRatioLow) || rel(r, 1 + o.clipRatioHigh) || rel(r, o.dualClip)) return true;
    if (o.klCoef > 0 && o.klEstimator === "k3" && Math.abs(naiveKl("k3", x.logp[i], x.refLogp![i]) - 10) < 1e-3) return true;
    if (Math.abs(1 + o.entropyBonusCoef * bonus.z[i]) < 1e-3) return true;
  }
  if (bonus.pool.size > 1 && bonus.pool.std < 1e-6) return true; // σ = 0 is a kink of the std
  return false;
}

function fastBatch(x: NaiveLossInput, logp: number[], entropy: number[]): TaoBatch {
  const zeros = Array.from({ length: x.B }, () => 0);
  return toTao({
    B: x.B, T: x.T, group: x.advantage.map((_, b) => b), reward: zeros, responseMask: x.lossMask.map((m) => (m > 0 ? 1 : 0)),
    postToolMask: x.postToolMask, toolCalls: zeros, validToolCalls: zeros, isVoid: zeros, truncated: zeros,
    entropy, logp, oldLogp: x.oldLogp, refLogp: x.refLogp,
  }, true);
}

function fastLoss(c: GradCase, logp: number[], entropy: number[]) {
  return policyLoss({ batch: fastBatch(c.input, logp, entropy), advantage: Float64Array.from(c.input.advantage), lossMask: Float32Array.from(c.input.lossMask) }, c.opts);
}

/** Central difference of f with respect to coordinate i of x. */
function fd(f: (x: number[]) => number, x: number[], i: number): number {
  const p = x.slice(); p[i] += H_STEP;
  const m = x.slice(); m[i] -= H_STEP;
  return (f(p) - f(m)) / (2 * H_STEP);
}

function checkCoefficients(
  name: string, loss: number, w: ArrayLike<number>, v: ArrayLike<number>,
  lossForW: (logp: number[]) => number, lossForV: (H: number[]) => number, c: GradCase,
) {
  const x = c.input;
  let S = Math.max(1, Math.abs(loss));
  for (let i = 0; i < w.length; i++) S = Math.max(S, Math.abs(w[i]), Math.abs(v[i]));
  const bad: string[] = [];
  const within = (g: number, coef: number) => Math.abs(g - coef) <= REL * Math.max(Math.abs(g), Math.abs(coef)) + FLOOR * S;
  for (let i = 0; i < x.B * x.T; i++) {
    const gw = fd(lossForW, x.logp, i);
    const gv = fd(lossForV, x.entropy, i);
    if (!within(gw, w[i])) bad.push(`${name} w[${i}] = ${w[i]}, fd ${gw} (mask ${x.lossMask[i]})`);
    if (!within(gv, v[i])) bad.push(`${name} v[${i}] = ${v[i]}, fd ${gv} (mask ${x.lossMask[i]})`);
  }
  expect(bad, JSON.stringify({ opts: c.opts, bad: bad.slice(0, 5) })).toEqual([]);
}

describe("gradient check: w = ∂loss/∂logπ, v = ∂loss/∂H", () => {
  const seen = new Map<Branch | "clamped", number>();
  const modes = new Set<string>();

  it("fast coefficients match central differences of the fast loss in every mode", () => {
    fc.assert(fc.property(caseArb, (c) => {
      fc.pre(!nearKink(c));
      const res = fastLoss(c, c.input.logp, c.input.entropy);
      // Detached H: the surrogate's H-gradient is the entropy regulariser's alone. The loss VALUE still reads
      // H in z, so difference it against the same loss without the regulariser: what remains is exactly the
      // regulariser, as a function of H, and the bonus path cancels.
      const noReg = { ...c.opts, entropyCoeff: 0 };
      const lossForV = c.opts.detachEntropy
        ? (H: number[]) => fastLoss(c, c.input.logp, H).loss - fastLoss({ ...c, opts: noReg }, c.input.logp, H).loss
        : (H: number[]) => fastLoss(c, c.input.logp, H).loss;
      checkCoefficients("fast", res.loss, res.w, res.v, (lp) => fastLoss(c, lp, c.input.entropy).loss, lossForV, c);
      const naive = naivePolicyLoss(c.input, c.opts);
      for (let i = 0; i < naive.branch.length; i++) {
        const br = naive.branch[i];
        if (br === null) continue;
        seen.set(br, (seen.get(br) ?? 0) + 1);
        if (Math.abs(c.input.logp[i] - c.input.oldLogp[i]) > c.opts.logRatioClamp) seen.set("clamped", (seen.get("clamped") ?? 0) + 1);
      }
      modes.add(`${c.opts.lossAgg}/${c.opts.detachEntropy}/${c.opts.bonusScope}/${c.opts.klCoef > 0 ? c.opts.klEstimator : "none"}`);
    }), { numRuns: 300 });
    for (const b of ["unclipped", "clip_low", "clip_high", "dual", "clamped"] as const) expect(seen.get(b) ?? 0, `branch ${b} exercised`).toBeGreaterThan(10);
    expect(modes.size).toBeGreaterThan(30);
  });

  it("the fast loss value equals the naive loss value at the sampled point", () => {
    fc.assert(fc.property(caseArb, (c) => {
      fc.pre(!nearKink(c));
      const fast = fastLoss(c, c.input.logp, c.input.entropy).loss;
      const naive = naiveLossValue(c.input, c.opts, c.input.logp, c.input.entropy);
      expect(Math.abs(fast - naive)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(naive)));
    }), { numRuns: 200 });
  });

  it("the naive reference's analytic coefficients match central differences of its own loss value", () => {
    fc.assert(fc.property(caseArb, (c) => {
      fc.pre(!nearKink(c));
      const res = naivePolicyLoss(c.input, c.opts);
      const frozen = c.opts.detachEntropy ? c.input.entropy : undefined;
      checkCoefficients(
        "naive", res.loss, res.w, res.v,
        (lp) => naiveLossValue(c.input, c.opts, lp, c.input.entropy),
        (H) => naiveLossValue(c.input, c.opts, c.input.logp, H, frozen ?? H), c,
      );
    }), { numRuns: 150 });
  });
});

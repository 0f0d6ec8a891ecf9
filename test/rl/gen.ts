// Random batches and options for the property tests and the conformance generator: one seeded generator,
// plain-array batches (for the naive reference) and their typed-array twins (for src/rl/).
import fc from "fast-check";
import { DEFAULTS } from "../../src/config.js";
import type { TaoBatch, TaoRlOptions } from "../../src/types.js";
import type { NaiveBatch } from "./naive.js";

/** A small seeded generator (xorshift32 + splitmix-style scramble); test-only, independent of src/rl/rng.ts. */
export function rng(seed: number) {
  let s = (seed ^ 0x5bd1e995) >>> 0 || 1;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    let x = Math.imul(s ^ (s >>> 16), 0x45d9f3b) >>> 0;
    x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
    return ((x ^ (x >>> 16)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (a: number, b: number) => a + (b - a) * next(),
    int: (a: number, b: number) => a + Math.floor(next() * (b - a + 1)),
    bit: (p: number) => (next() < p ? 1 : 0),
    pick: <X>(xs: readonly X[]) => xs[Math.floor(next() * xs.length)],
  };
}
export type Rng = ReturnType<typeof rng>;

export interface CaseShape {
  seed: number;
  B: number;
  T: number;
  /** "binary" rewards in {0, 1}, "continuous" in [-2, 2], "mixed" either per group. */
  rewards: "binary" | "continuous" | "mixed";
  /** Spread of logπθ - logπold: small keeps ratios near 1, large hits every clip branch and the clamp. */
  spread: number;
  /** Probability of each per-trajectory flag (void, truncated, all tools failed). */
  flagRate: number;
  /** Store per-token floats as Float64Array (true) or Float32Array (false, values rounded to f32). */
  f64: boolean;
}

export const caseShapeArb: fc.Arbitrary<CaseShape> = fc.record({
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  B: fc.integer({ min: 1, max: 12 }),
  T: fc.integer({ min: 1, max: 9 }),
  rewards: fc.constantFrom("binary", "continuous", "mixed"),
  spread: fc.constantFrom(0.05, 0.5, 2, 30),
  flagRate: fc.constantFrom(0, 0.1, 0.3),
  f64: fc.boolean(),
});

/** A random batch: groups of size 1..6 with arbitrary (shuffled, sparse, negative) ids. */
export function randomBatch(c: CaseShape): NaiveBatch {
  const R = rng(c.seed);
  const { B, T } = c;
  const group: number[] = [];
  const idPool = [-7, 0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 1000, 2 ** 30];
  const usedIds: number[] = [];
  while (group.length < B) {
    const size = Math.min(R.int(1, 6), B - group.length);
    let id = R.pick(idPool);
    while (usedIds.includes(id)) id += 101;
    usedIds.push(id);
    for (let i = 0; i < size; i++) group.push(id);
  }
  // interleave rows so members of a group are not always adjacent
  for (let i = B - 1; i > 0; i--) {
    if (R.next() < 0.5) continue;
    const j = R.int(0, i);
    [group[i], group[j]] = [group[j], group[i]];
  }
  const continuous = new Map<number, boolean>();
  for (const id of usedIds) continuous.set(id, c.rewards === "continuous" || (c.rewards === "mixed" && R.next() < 0.5));
  const reward = group.map((id) => (continuous.get(id) ? R.uniform(-2, 2) : R.bit(0.5)));
  // sometimes make a whole group uniform (all correct or all wrong)
  for (const id of usedIds) if (R.next() < 0.25) { const v = R.bit(0.5); group.forEach((g, b) => { if (g === id) reward[b] = v; }); }
  const round = (x: number) => (c.f64 ? x : Math.fround(x));
  const responseMask: number[] = [];
  const postToolMask: number[] = [];
  const entropy: number[] = [];
  const logp: number[] = [];
  const oldLogp: number[] = [];
  const refLogp: number[] = [];
  for (let b = 0; b < B; b++) {
    const density = R.pick([0, 0.5, 0.8, 1]);
    for (let t = 0; t < T; t++) {
      responseMask.push(R.bit(density));
      postToolMask.push(R.bit(0.4));
      entropy.push(round(R.uniform(0, 3)));
      const lp = round(R.uniform(-4, -0.01));
      logp.push(lp);
      oldLogp.push(round(lp - R.uniform(-c.spread, c.spread)));
      refLogp.push(round(lp - R.uniform(-Math.min(c.spread, 3), Math.min(c.spread, 3))));
    }
  }
  const toolCalls: number[] = [];
  const validToolCalls: number[] = [];
  for (let b = 0; b < B; b++) {
    const calls = R.int(0, 3);
    toolCalls.push(calls);
    validToolCalls.push(calls > 0 && R.next() < c.flagRate ? 0 : R.int(Math.min(1, calls), calls));
  }
  const isVoid = group.map(() => R.bit(c.flagRate));
  const truncated = group.map(() => R.bit(c.flagRate));
  return { B, T, group, reward, responseMask, postToolMask, toolCalls, validToolCalls, isVoid, truncated, entropy, logp, oldLogp, refLogp };
}

/** The typed twin of a plain batch (per-token floats as Float64Array or Float32Array). */
export function toTao(n: NaiveBatch, f64 = true): TaoBatch {
  const F = f64 ? Float64Array : Float32Array;
  return {
    B: n.B,
    T: n.T,
    group: Int32Array.from(n.group),
    reward: Float64Array.from(n.reward),
    responseMask: Uint8Array.from(n.responseMask),
    postToolMask: Uint8Array.from(n.postToolMask),
    toolCalls: Int32Array.from(n.toolCalls),
    validToolCalls: Int32Array.from(n.validToolCalls),
    isVoid: Uint8Array.from(n.isVoid),
    truncated: Uint8Array.from(n.truncated),
    entropy: n.entropy && F.from(n.entropy),
    logp: n.logp && F.from(n.logp),
    oldLogp: n.oldLogp && F.from(n.oldLogp),
    refLogp: n.refLogp && F.from(n.refLogp),
  };
}

/** Every option combination the algorithm branches on (strengths 0 / 0.5 / 1 are exact in Float32). */
export const optionsArb: fc.Arbitrary<TaoRlOptions> = fc
  .record({
    filterUniformGroups: fc.boolean(),
    maskTruncated: fc.boolean(),
    minValidPerGroup: fc.integer({ min: 0, max: 6 }),
    filterToolFailures: fc.boolean(),
    toolFailStrength: fc.constantFrom(0, 0.5, 1),
    maskVoidTurns: fc.boolean(),
    advantage: fc.constantFrom("grpo" as const, "dr_grpo" as const),
    entropyBonusCoef: fc.constantFrom(0, 0.01, 0.3),
    bonusScope: fc.constantFrom("post_tool" as const, "all" as const),
    detachEntropy: fc.boolean(),
    lossAgg: fc.constantFrom("token-mean" as const, "seq-mean-token-mean" as const, "seq-mean-token-sum" as const),
    entropyCoeff: fc.constantFrom(0, 0.01, -0.05),
    klCoef: fc.constantFrom(0, 0, 0.1),
    klEstimator: fc.constantFrom("k1" as const, "k2" as const, "k3" as const),
    clip: fc.constantFrom([0.2, 0.28, 3], [0.1, 0.1, 1.5], [0.3, 0.5, 10]),
  })
  .map(({ clip, ...o }) => ({ ...DEFAULTS, ...o, clipRatioLow: clip[0], clipRatioHigh: clip[1], dualClip: clip[2] }));

/** Relative-or-absolute closeness: |a - b| ≤ tol · max(1, |a|, |b|). */
export function close(a: number, b: number, tol: number): boolean {
  if (Object.is(a, b)) return true;
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Index and values of the first element pair that is not close, or null. */
export function firstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < actual.length; i++) if (!close(actual[i], expected[i], tol)) return `[${i}] ${actual[i]} vs ${expected[i]}`;
  return null;
}

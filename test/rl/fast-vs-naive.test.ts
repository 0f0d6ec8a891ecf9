// src/rl/ against the naive reference (test/rl/naive.ts) over random shapes, seeds and option combinations.
// Tolerance: 1e-9 relative-or-absolute (|a - b| ≤ 1e-9 · max(1, |a|, |b|)) for Float64 outputs; the Float32
// coefficients w, v within 1e-5 of max(1, |x|) (float32 keeps ~7 digits).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  computeAdvantages, entropyBonus, evalSummary, filterBatch, groupStats, passAtK, planRefill, policyLoss,
  postToolMask, reasonNames, rolloutMetrics, shapeBatch, TurnCode,
} from "../../src/rl/index.js";
import type { TaoRlOptions } from "../../src/types.js";
import { DEFAULTS } from "../../src/config.js";
import { caseShapeArb, close, firstMismatch, optionsArb, randomBatch, rng, toTao } from "./gen.js";
import {
  checkRefillPlan, naiveAdvantage, naiveAvgAtK, naiveBonus, naiveFilter, naiveGroups, naivePassAtK, naivePolicyLoss,
  naivePostToolMask, naiveRolloutMetrics, type NaiveTurnKind,
} from "./naive.js";

const TOL = 1e-9;
const TOL32 = 1e-5;
const RUNS = { numRuns: 250 };

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = TOL) {
  const bad = firstMismatch(actual, expected, tol);
  expect(bad, `${what}: ${bad}`).toBeNull();
}
function expectMetrics(actual: object, expected: Record<string, number>, what: string) {
  const a = actual as Record<string, number>;
  for (const k of Object.keys(expected)) {
    expect(k in a, `${what}: metric ${k} missing`).toBe(true);
    expect(close(a[k], expected[k], TOL), `${what}.${k}: ${a[k]} vs ${expected[k]}`).toBe(true);
  }
}

describe("filter and advantage: fast = naive", () => {
  it("group statistics (mean, unbiased std, NaN for singletons)", () => {
    fc.assert(fc.property(caseShapeArb, (c) => {
      const n = randomBatch(c);
      const fast = groupStats(Int32Array.from(n.group), Float64Array.from(n.reward));
      const naive = naiveGroups(n.group, n.reward);
      expect(Array.from(fast.ids)).toEqual(naive.map((g) => g.id));
      expect(Array.from(fast.size)).toEqual(naive.map((g) => g.members.length));
      expectClose(fast.mean, naive.map((g) => g.mean), "mean");
      naive.forEach((g, i) => {
        if (g.members.length === 1) expect(fast.std[i]).toBeNaN();
        else expect(close(fast.std[i], g.std, TOL), `std[${i}] ${fast.std[i]} vs ${g.std}`).toBe(true);
      });
    }), RUNS);
  });

  it("filterBatch: kept groups, weights, reasons, loss mask and counts", () => {
    fc.assert(fc.property(caseShapeArb, optionsArb, (c, o) => {
      const n = randomBatch(c);
      const fast = filterBatch(toTao(n, c.f64), o);
      const naive = naiveFilter(n, o);
      expect(Array.from(fast.groupKept)).toEqual(naive.groupKept);
      expect(Array.from(fast.weight)).toEqual(naive.weight);
      expect(Array.from(fast.reasons, (bits) => reasonNames(bits))).toEqual(naive.reasons);
      expect(Array.from(fast.lossMask)).toEqual(naive.lossMask);
      expect(fast.counts).toEqual(naive.counts);
    }), RUNS);
  });

  it("GRPO and Dr. GRPO advantages (singletons: mean 0, std 1)", () => {
    fc.assert(fc.property(caseShapeArb, optionsArb, (c, o) => {
      const n = randomBatch(c);
      expectClose(computeAdvantages(toTao(n), o), naiveAdvantage(n.group, n.reward, o), `advantage ${o.advantage}`);
    }), RUNS);
  });
});

describe("entropy bonus: fast = naive", () => {
  it("pool, z, shaped advantage, scope and metrics, both scopes", () => {
    fc.assert(fc.property(caseShapeArb, optionsArb, (c, o) => {
      const n = randomBatch(c);
      const batch = toTao(n, c.f64);
      const filter = naiveFilter(n, o);
      const A = naiveAdvantage(n.group, n.reward, o);
      const fast = entropyBonus({ B: n.B, T: n.T, advantage: Float64Array.from(A), lossMask: Float32Array.from(filter.lossMask), postToolMask: batch.postToolMask, entropy: batch.entropy! }, o);
      const naive = naiveBonus(n.B, n.T, A, filter.lossMask, n.postToolMask, n.entropy!, o);
      expect(fast.pool.size).toBe(naive.pool.size);
      expectClose([fast.pool.mean, fast.pool.std, fast.pool.scale], [naive.pool.mean, naive.pool.std, naive.pool.scale], "pool");
      expectClose(fast.z!, naive.z, "z");
      expectClose(fast.shaped, naive.shaped, "shaped");
      expectMetrics(fast.metrics, naive.metrics, "bonus");
    }), RUNS);
  });

  it("shapeBatch: token advantage = Ã × loss mask, end to end", () => {
    fc.assert(fc.property(caseShapeArb, optionsArb, (c, o) => {
      const n = randomBatch(c);
      const fast = shapeBatch(toTao(n, c.f64), o);
      const filter = naiveFilter(n, o);
      const A = naiveAdvantage(n.group, n.reward, o);
      const naive = naiveBonus(n.B, n.T, A, filter.lossMask, n.postToolMask, n.entropy!, o);
      expectClose(fast.advantage, A, "advantage");
      expectClose(fast.tokenAdvantage, naive.shaped.map((x, i) => x * filter.lossMask[i]), "tokenAdvantage");
      expectMetrics(fast.bonus, naive.metrics, "bonus");
    }), RUNS);
  });
});

describe("policy loss: fast = naive", () => {
  it("loss, w, v, Ã and metrics in every mode", () => {
    fc.assert(fc.property(caseShapeArb, optionsArb, (c, o) => {
      const n = randomBatch(c);
      const batch = toTao(n, c.f64);
      const filter = naiveFilter(n, o);
      const A = naiveAdvantage(n.group, n.reward, o);
      const fast = policyLoss({ batch, advantage: Float64Array.from(A), lossMask: Float32Array.from(filter.lossMask) }, o);
      const naive = naivePolicyLoss({ B: n.B, T: n.T, advantage: A, lossMask: filter.lossMask, postToolMask: n.postToolMask, logp: n.logp!, oldLogp: n.oldLogp!, entropy: n.entropy!, refLogp: n.refLogp }, o);
      expect(close(fast.loss, naive.loss, TOL), `loss ${fast.loss} vs ${naive.loss}`).toBe(true);
      expectClose(fast.shaped, naive.shaped, "shaped");
      expectClose(fast.w, naive.w, "w", TOL32);
      expectClose(fast.v, naive.v, "v", TOL32);
      expectMetrics(fast.metrics, naive.metrics, "loss");
    }), RUNS);
  });
});

/** A random multi-turn layout: prompt tokens, then turns of policy tokens, each code turn followed by observation tokens. */
function randomLayout(seed: number, B: number, T: number) {
  const R = rng(seed);
  const kinds: NaiveTurnKind[] = ["code", "answer", "void"];
  const responseMask: number[] = [];
  const turnIndex: number[] = [];
  const turns: NaiveTurnKind[][] = [];
  let K = 1;
  for (let b = 0; b < B; b++) {
    const ks: NaiveTurnKind[] = [];
    let t = 0;
    const prompt = R.int(0, 2);
    for (; t < Math.min(prompt, T); t++) { responseMask.push(0); turnIndex.push(-1); }
    let k = 0;
    while (t < T) {
      const kind = R.pick(kinds);
      ks.push(kind);
      const len = R.int(1, 4);
      for (let i = 0; i < len && t < T; i++, t++) { responseMask.push(1); turnIndex.push(k); }
      if (kind === "code") {
        const obs = R.int(0, 2);
        for (let i = 0; i < obs && t < T; i++, t++) { responseMask.push(0); turnIndex.push(k); }
      }
      k++;
      if (kind !== "code" && R.next() < 0.5) {
        for (; t < T; t++) { responseMask.push(0); turnIndex.push(-1); } // padding
      }
    }
    turns.push(ks);
    K = Math.max(K, ks.length);
  }
  return { responseMask, turnIndex, turns, K };
}

describe("post-tool mask: fast = naive", () => {
  it("g from turn structure, with and without a window", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 4 }), (seed, B, T, window) => {
      const L = randomLayout(seed, B, T);
      const code = { none: TurnCode.NONE, code: TurnCode.CODE, answer: TurnCode.ANSWER, void: TurnCode.VOID };
      const kind = new Uint8Array(B * L.K);
      L.turns.forEach((ks, b) => ks.forEach((k, i) => { kind[b * L.K + i] = code[k]; }));
      const fast = postToolMask({ B, T, K: L.K, responseMask: Uint8Array.from(L.responseMask), turnIndex: Int32Array.from(L.turnIndex), kind }, window);
      expect(Array.from(fast)).toEqual(naivePostToolMask(B, T, L.responseMask, L.turnIndex, L.turns, window));
    }), RUNS);
  });
});

describe("refill and evaluation: fast = naive", () => {
  it("planRefill follows §2.5 for every survivor count, mode and round", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 25 }), fc.constantFrom("duplicate" as const, "regenerate" as const, "none" as const),
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      (N, S, refill, round, seed) => {
        const survivors = Array.from({ length: S }, (_, i) => 3 * i + 1);
        const next = 3 * S + 10;
        const o: Pick<TaoRlOptions, "batchPrompts" | "refill" | "maxGenRounds"> = { batchPrompts: N, refill, maxGenRounds: 3 };
        const plan = planRefill({ survivors: Int32Array.from(survivors), nextGroupId: next, seed, round }, o);
        expect(checkRefillPlan(plan, survivors, next, o, round)).toEqual([]);
      },
    ), RUNS);
  });

  it("pass@k equals the literal binomial formula; avg@k the mean accuracy", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 64 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n }), fc.integer({ min: 1, max: n }))), ([n, c, k]) => {
      expect(close(passAtK(n, c, k), naivePassAtK(n, c, k), TOL), `pass@${k} n=${n} c=${c}: ${passAtK(n, c, k)} vs ${naivePassAtK(n, c, k)}`).toBe(true);
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 16 }).chain((n) => fc.record({ n: fc.constant(n), c: fc.integer({ min: 0, max: n }) })), { minLength: 1, maxLength: 8 }), (ps) => {
      const k = Math.min(...ps.map((p) => p.n));
      const s = evalSummary(ps, k);
      expect(close(s.avgAtK, naiveAvgAtK(ps), TOL)).toBe(true);
      expect(close(s.passAtK, ps.reduce((a, p) => a + naivePassAtK(p.n, p.c, k), 0) / ps.length, TOL)).toBe(true);
    }), RUNS);
  });

  it("rollout metrics (rates, pass-rate histogram)", () => {
    fc.assert(fc.property(caseShapeArb, fc.constantFrom(0.5, 1, 0.1), (c, thr) => {
      const n = randomBatch({ ...c, flagRate: 0.3 });
      const fast = rolloutMetrics(toTao(n), { correctThreshold: thr });
      const naive = naiveRolloutMetrics(n, thr);
      expect(fast.pass_rate_hist).toEqual(naive.pass_rate_hist);
      const { pass_rate_hist: _h, ...rest } = naive;
      expectMetrics(fast, rest, "rollout");
    }), RUNS);
  });

  it("an empty batch (B = 0 or T = 0) gives zero loss, empty outputs and no NaN", () => {
    for (const [B, T] of [[0, 0], [0, 4], [3, 0]]) {
      const z = (k: number) => new Array(k).fill(0);
      const n = { B, T, group: z(B).map((_, i) => i), reward: z(B).map((_, i) => i % 2), responseMask: z(B * T), postToolMask: z(B * T), toolCalls: z(B), validToolCalls: z(B), isVoid: z(B), truncated: z(B), entropy: z(B * T), logp: z(B * T), oldLogp: z(B * T), refLogp: z(B * T) };
      const o = { ...DEFAULTS, detachEntropy: false, klCoef: 0.1 };
      const f = filterBatch(toTao(n), o);
      const A = computeAdvantages(toTao(n), o, f.stats);
      const fast = policyLoss({ batch: toTao(n), advantage: A, lossMask: f.lossMask }, o);
      const naive = naivePolicyLoss({ B, T, advantage: naiveAdvantage(n.group, n.reward, o), lossMask: naiveFilter(n, o).lossMask, postToolMask: n.postToolMask, logp: n.logp, oldLogp: n.oldLogp, entropy: n.entropy, refLogp: n.refLogp }, o);
      expect(fast.loss).toBe(0);
      expect(naive.loss).toBe(0);
      expectMetrics(fast.metrics, naive.metrics, `empty ${B}x${T}`);
      expect(Object.values(fast.metrics).every(Number.isFinite)).toBe(true);
    }
  });

  it("defaults sanity: the generators exercise DEFAULTS too", () => {
    const n = randomBatch({ seed: 1, B: 8, T: 5, rewards: "binary", spread: 2, flagRate: 0.1, f64: true });
    const fast = policyLoss({ batch: toTao(n), advantage: Float64Array.from(naiveAdvantage(n.group, n.reward, DEFAULTS)), lossMask: Float32Array.from(naiveFilter(n, DEFAULTS).lossMask) }, DEFAULTS);
    const naive = naivePolicyLoss({ B: n.B, T: n.T, advantage: naiveAdvantage(n.group, n.reward, DEFAULTS), lossMask: naiveFilter(n, DEFAULTS).lossMask, postToolMask: n.postToolMask, logp: n.logp!, oldLogp: n.oldLogp!, entropy: n.entropy! }, DEFAULTS);
    expect(close(fast.loss, naive.loss, TOL)).toBe(true);
  });
});

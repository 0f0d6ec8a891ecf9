// Invariances of TAO-RL that hold whatever the implementation (TAO-RL.md §2-§5; STYLE.md, verl section).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../src/config.js";
import {
  computeAdvantages, entropyBonus, filterBatch, planRefill, policyLoss, reasonNames, refillRows, shapeBatch, takeRows,
} from "../../src/rl/index.js";
import type { TaoBatch, TaoRlOptions } from "../../src/types.js";
import { caseShapeArb, close, firstMismatch, optionsArb, randomBatch, rng, toTao } from "./gen.js";
import { naiveGroups, type NaiveBatch } from "./naive.js";

const RUNS = { numRuns: 200 };

/** Everything the pipeline outputs, as one flat record of number arrays (for exact or close comparison). */
function pipeline(batch: TaoBatch, o: TaoRlOptions) {
  const filter = filterBatch(batch, o);
  const advantage = computeAdvantages(batch, o, filter.stats);
  const bonus = entropyBonus({ B: batch.B, T: batch.T, advantage, lossMask: filter.lossMask, postToolMask: batch.postToolMask, entropy: batch.entropy! }, o);
  const loss = policyLoss({ batch, advantage, lossMask: filter.lossMask }, o);
  const shaped = shapeBatch(batch, o);
  return {
    lossMask: Array.from(filter.lossMask), advantage: Array.from(advantage), z: Array.from(bonus.z!), shaped: Array.from(bonus.shaped),
    tokenAdvantage: Array.from(shaped.tokenAdvantage), loss: [loss.loss], w: Array.from(loss.w), v: Array.from(loss.v),
    lossShaped: Array.from(loss.shaped), metrics: Object.values(loss.metrics), bonusMetrics: Object.values(bonus.metrics),
  };
}

describe("advantage invariances (§3)", () => {
  it("adding a constant to a group's rewards leaves GRPO and Dr. GRPO advantages (and which groups survive) unchanged", () => {
    fc.assert(fc.property(caseShapeArb, optionsArb, fc.double({ min: -10, max: 10, noNaN: true }), (c, o, shift) => {
      const n = randomBatch(c);
      const target = n.group[0];
      const shifted = { ...n, reward: n.reward.map((r, b) => (n.group[b] === target ? r + shift : r)) };
      const single = n.group.filter((g) => g === target).length === 1;
      const a0 = computeAdvantages(toTao(n), o);
      const a1 = computeAdvantages(toTao(shifted), o);
      const groups = naiveGroups(n.group, n.reward);
      for (let b = 0; b < n.B; b++) {
        if (single && n.group[b] === target) continue; // a singleton's baseline is 0 by definition: its A moves with R
        // |ΔA| is the rounding of (R + s) - mean(R + s), a few ulps of |R| + |s|, over the denominator σ + ε
        // (1 for dr_grpo); for a uniform group σ ≈ 0 and the 1e-6 epsilon amplifies it to ~1e-9
        const g = groups.find((x) => x.members.includes(b))!;
        const den = o.advantage === "dr_grpo" || g.members.length === 1 ? 1 : g.std + o.advantageEps;
        const bound = (8 * Number.EPSILON * (1 + Math.abs(n.reward[b]) + Math.abs(shift))) / den;
        expect(Math.abs(a1[b] - a0[b]) <= bound, `row ${b}: ${a0[b]} → ${a1[b]} (shift ${shift}, bound ${bound})`).toBe(true);
      }
      const kept = (x: NaiveBatch) => Array.from(filterBatch(toTao(x), { ...o, maskTruncated: false }).groupKept);
      expect(kept(shifted)).toEqual(kept(n));
    }), RUNS);
  });

  it("scaling a group's rewards by s > 0 leaves GRPO advantages unchanged up to the 1e-6 epsilon", () => {
    fc.assert(fc.property(caseShapeArb, fc.constantFrom(0.1, 0.5, 2, 10), (c, s) => {
      const n = randomBatch(c);
      const scaled = { ...n, reward: n.reward.map((r) => r * s) };
      const o = { ...DEFAULTS, advantage: "grpo" as const };
      const a0 = computeAdvantages(toTao(n), o);
      const a1 = computeAdvantages(toTao(scaled), o);
      const size = new Map<number, number>();
      for (const g of n.group) size.set(g, (size.get(g) ?? 0) + 1);
      for (let b = 0; b < n.B; b++) {
        if (size.get(n.group[b]) === 1) { expect(close(a1[b], (s * n.reward[b]) / (1 + o.advantageEps), 1e-12)).toBe(true); continue; }
        // A_s = (R - m)/(σ + ε/s): |A_s - A| = |A|·ε·|1 - 1/s|/(σ + ε/s) ≤ |R - m|·ε·|1 - 1/s|/σ²
        const members = n.reward.filter((_, i) => n.group[i] === n.group[b]);
        const m = members.reduce((x, y) => x + y, 0) / members.length;
        const sd = Math.sqrt(members.reduce((x, y) => x + (y - m) ** 2, 0) / (members.length - 1));
        const bound = sd > 0 ? (Math.abs(n.reward[b] - m) * o.advantageEps * Math.abs(1 - 1 / s)) / (sd * sd) : 0;
        // plus rounding: a uniform group's mean can be off by one ulp, which the 1e-6 epsilon amplifies to ~1e-10
        expect(Math.abs(a1[b] - a0[b]) <= bound * 1.01 + 1e-9, `row ${b}: ${a0[b]} vs ${a1[b]}`).toBe(true);
      }
    }), RUNS);
  });

  it("a masked trajectory (tools failed, void, truncated) still counts in its group's mean and std", () => {
    fc.assert(fc.property(caseShapeArb, optionsArb, (c, o) => {
      const n = randomBatch({ ...c, flagRate: 0.3 });
      const clean = { ...n, validToolCalls: n.toolCalls.slice(), isVoid: n.isVoid.map(() => 0), truncated: n.truncated.map(() => 0) };
      const flagged = filterBatch(toTao(n), o);
      expect(Array.from(computeAdvantages(toTao(n), o, flagged.stats))).toEqual(Array.from(computeAdvantages(toTao(clean), o)));
    }), RUNS);
  });
});

describe("filter invariances (§2)", () => {
  it("uniform groups are dropped as all-correct (mean ≥ correct_threshold) or all-wrong, and get zero advantage", () => {
    fc.assert(fc.property(caseShapeArb, fc.constantFrom(0, 1, 0.3, 0.7, -1), (c, value) => {
      const n = randomBatch(c);
      const target = n.group[0];
      const size = n.group.filter((g) => g === target).length;
      fc.pre(size >= 2);
      const u = { ...n, reward: n.reward.map((r, b) => (n.group[b] === target ? value : r)) };
      const f = filterBatch(toTao(u), DEFAULTS);
      const A = computeAdvantages(toTao(u), DEFAULTS);
      const want = value >= DEFAULTS.correctThreshold ? "group_all_correct" : "group_all_wrong";
      for (let b = 0; b < n.B; b++) {
        if (n.group[b] !== target) continue;
        expect(reasonNames(f.reasons[b])[0]).toBe(want);
        expect(f.weight[b]).toBe(0);
        expect(Math.abs(A[b])).toBeLessThan(1e-9); // 0 up to one ulp of the mean over the 1e-6 epsilon
      }
      expect(f.counts[want === "group_all_correct" ? "droppedAllCorrect" : "droppedAllWrong"]).toBeGreaterThanOrEqual(1);
    }), RUNS);
  });

  it("a trajectory without tool calls is never flagged all_tools_failed", () => {
    fc.assert(fc.property(caseShapeArb, optionsArb, (c, o) => {
      const n = randomBatch({ ...c, flagRate: 0.3 });
      const f = filterBatch(toTao(n), o);
      for (let b = 0; b < n.B; b++) {
        const flagged = reasonNames(f.reasons[b]).includes("all_tools_failed");
        expect(flagged).toBe(o.filterToolFailures && n.toolCalls[b] > 0 && n.validToolCalls[b] === 0);
      }
    }), RUNS);
  });
});

describe("masked slots never matter (§4-§5: select before multiply)", () => {
  it("NaN, ±Infinity and ±1e30 in entropy, logp, old and ref log-probs where the loss mask is 0 change no output bit", () => {
    fc.assert(fc.property(caseShapeArb, optionsArb, fc.constantFrom(NaN, Infinity, -Infinity, 1e30, -1e30), (c, o, junk) => {
      const n = randomBatch(c);
      const clean = toTao(n, c.f64);
      const lossMask = filterBatch(clean, o).lossMask;
      const dirty = toTao(n, c.f64);
      for (let i = 0; i < n.B * n.T; i++) {
        if (lossMask[i] > 0) continue;
        dirty.entropy![i] = junk; dirty.logp![i] = junk; dirty.oldLogp![i] = -junk; dirty.refLogp![i] = junk;
      }
      expect(pipeline(dirty, o)).toEqual(pipeline(clean, o));
    }), RUNS);
  });

  it("appending rows whose loss mask is 0 (a dropped group) changes neither the loss nor the coefficients of the other rows", () => {
    fc.assert(fc.property(caseShapeArb, optionsArb, (c, o) => {
      const n = randomBatch(c);
      const extra = 3;
      const R = rng(c.seed + 1);
      const id = Math.max(...n.group) + 1;
      const m: NaiveBatch = {
        ...n, B: n.B + extra,
        group: [...n.group, ...Array(extra).fill(id)], reward: [...n.reward, 1, 1, 1],
        responseMask: [...n.responseMask, ...Array(extra * n.T).fill(1)], postToolMask: [...n.postToolMask, ...Array(extra * n.T).fill(1)],
        toolCalls: [...n.toolCalls, 1, 1, 1], validToolCalls: [...n.validToolCalls, 1, 1, 1], isVoid: [...n.isVoid, 0, 0, 0], truncated: [...n.truncated, 0, 0, 0],
        entropy: [...n.entropy!, ...Array.from({ length: extra * n.T }, () => R.uniform(0, 9))],
        logp: [...n.logp!, ...Array(extra * n.T).fill(-1)], oldLogp: [...n.oldLogp!, ...Array(extra * n.T).fill(-3)], refLogp: [...n.refLogp!, ...Array(extra * n.T).fill(-2)],
      };
      const oo = { ...o, filterUniformGroups: true };
      const a = pipeline(toTao(n, c.f64), oo);
      const b = pipeline(toTao(m, c.f64), oo);
      const BT = n.B * n.T;
      expect(b.loss).toEqual(a.loss);
      expect(b.w.slice(0, BT)).toEqual(a.w);
      expect(b.v.slice(0, BT)).toEqual(a.v);
      expect(b.w.slice(BT).every((x) => x === 0) && b.v.slice(BT).every((x) => x === 0)).toBe(true);
    }), RUNS);
  });
});

function permuteRows(n: NaiveBatch, perm: number[]): NaiveBatch {
  const row = <X>(xs: X[]) => perm.map((p) => xs[p]);
  const tok = <X>(xs: X[]) => perm.flatMap((p) => xs.slice(p * n.T, p * n.T + n.T));
  return {
    B: n.B, T: n.T, group: row(n.group), reward: row(n.reward), responseMask: tok(n.responseMask), postToolMask: tok(n.postToolMask),
    toolCalls: row(n.toolCalls), validToolCalls: row(n.validToolCalls), isVoid: row(n.isVoid), truncated: row(n.truncated),
    entropy: tok(n.entropy!), logp: tok(n.logp!), oldLogp: tok(n.oldLogp!), refLogp: tok(n.refLogp!),
  };
}

describe("row order (§5)", () => {
  it("the loss, metrics and per-token coefficients do not depend on the order of the rows", () => {
    fc.assert(fc.property(caseShapeArb, optionsArb, (c, o) => {
      const n = randomBatch(c);
      const R = rng(c.seed ^ 0x1234);
      const perm = Array.from({ length: n.B }, (_, i) => i);
      for (let i = n.B - 1; i > 0; i--) { const j = R.int(0, i); [perm[i], perm[j]] = [perm[j], perm[i]]; }
      const a = pipeline(toTao(n, c.f64), o);
      const b = pipeline(toTao(permuteRows(n, perm), c.f64), o);
      const unperm = (xs: number[]) => perm.flatMap((p) => xs.slice(p * n.T, p * n.T + n.T));
      // summation order changes: 1e-12 relative for sums, float32 rounding for w and v
      expect(firstMismatch(b.loss, a.loss, 1e-12)).toBeNull();
      expect(firstMismatch(b.metrics, a.metrics, 1e-12)).toBeNull();
      expect(firstMismatch(b.tokenAdvantage, unperm(a.tokenAdvantage), 1e-12)).toBeNull();
      expect(firstMismatch(b.w, unperm(a.w), 1e-6)).toBeNull();
      expect(firstMismatch(b.v, unperm(a.v), 1e-6)).toBeNull();
    }), RUNS);
  });
});

describe("refill (§2.5)", () => {
  const opts = (N: number): Pick<TaoRlOptions, "batchPrompts" | "refill" | "maxGenRounds"> => ({ batchPrompts: N, refill: "duplicate", maxGenRounds: 3 });

  it("subsample picks exactly batch_prompts distinct survivors, under their own ids", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (N, extra, seed) => {
      const survivors = Array.from({ length: N + extra }, (_, i) => 7 * i - 3);
      const plan = planRefill({ survivors: Int32Array.from(survivors), nextGroupId: 1000, seed }, opts(N));
      expect(plan.action).toBe("subsample");
      expect(plan.source.length).toBe(N);
      expect(new Set(plan.source).size).toBe(N);
      for (const s of plan.source) expect(survivors).toContain(s);
      expect(Array.from(plan.target)).toEqual(Array.from(plan.source));
    }), RUNS);
  });

  it("subsample is uniform: every survivor is chosen with probability batch_prompts / survivors", () => {
    const S = 6, N = 2, draws = 6000;
    const hits = new Array(S).fill(0);
    for (let seed = 0; seed < draws; seed++) {
      for (const s of planRefill({ survivors: Int32Array.from({ length: S }, (_, i) => i), nextGroupId: S, seed }, opts(N)).source) hits[s]++;
    }
    // expected N/S · draws = 2000 per survivor; binomial sd ≈ 36.5: allow 5 sd
    for (const h of hits) expect(Math.abs(h - (draws * N) / S)).toBeLessThan(5 * Math.sqrt(draws * (N / S) * (1 - N / S)));
  });

  it("duplication gives every copy a fresh group id, copies the source rows, and reproduces with the same seed", () => {
    fc.assert(fc.property(caseShapeArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 10 }), (c, seed, more) => {
      const n = randomBatch(c);
      const batch = toTao(n);
      const ids = [...new Set(n.group)];
      const N = ids.length + more;
      const next = Math.max(...n.group) + 1;
      const req = { survivors: Int32Array.from(ids), nextGroupId: next, seed };
      const plan = planRefill(req, opts(N));
      expect(planRefill(req, opts(N))).toEqual(plan);
      expect(plan.action).toBe("duplicate");
      expect(plan.duplicated).toBe(more);
      const copies = Array.from(plan.target).slice(ids.length);
      expect(new Set(plan.target).size).toBe(N);
      for (const id of copies) expect(ids).not.toContain(id);
      // the refilled batch: each copy is its own group, with the same rows (hence the same advantages) as its source
      const { rows, group } = refillRows(batch.group, plan);
      const rb: TaoBatch = {
        B: rows.length, T: n.T, group, reward: takeRows(batch.reward, rows, 1), responseMask: takeRows(batch.responseMask, rows, n.T),
        postToolMask: takeRows(batch.postToolMask, rows, n.T), toolCalls: takeRows(batch.toolCalls, rows, 1),
        validToolCalls: takeRows(batch.validToolCalls, rows, 1), isVoid: takeRows(batch.isVoid, rows, 1), truncated: takeRows(batch.truncated, rows, 1),
      };
      const A = computeAdvantages(rb, DEFAULTS);
      const A0 = computeAdvantages(batch, DEFAULTS);
      for (let i = 0; i < rows.length; i++) expect(A[i]).toBe(A0[rows[i]]);
      expect(new Set(group).size).toBe(N);
    }), RUNS);
  });
});

// Hand-worked cases (test/fixtures/golden/*.json): the arithmetic is written out in each file's "working"
// field; src/rl/ must reproduce the worked numbers to 1e-9 (relative-or-absolute).
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEFAULTS, resolveTaoRl } from "../../src/config.js";
import { computeAdvantages, entropyBonus, evalSummary, filterBatch, groupStats, passAtK, policyLoss, reasonNames } from "../../src/rl/index.js";
import type { LossAggregation, TaoBatch } from "../../src/types.js";
import { close } from "./gen.js";

const dir = fileURLToPath(new URL("../fixtures/golden/", import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
type Any = any;
const load = (f: string): Any => JSON.parse(readFileSync(dir + f, "utf8"));

function near(actual: ArrayLike<number> | number, expected: number[] | number, what: string) {
  const a = typeof actual === "number" ? [actual] : Array.from(actual);
  const e = typeof expected === "number" ? [expected] : expected;
  expect(a.length, what).toBe(e.length);
  a.forEach((x, i) => expect(close(x, e[i], 1e-9), `${what}[${i}]: ${x} vs ${e[i]}`).toBe(true));
}

/** A batch with only the structure a loss/bonus case needs: one group per row, every response token on. */
function lossBatch(inp: Any, lossMask: number[]): TaoBatch {
  const { B, T } = inp;
  const zeros = new Array(B).fill(0);
  return {
    B, T, group: Int32Array.from(zeros.map((_, b) => b)), reward: Float64Array.from(zeros),
    responseMask: Uint8Array.from(lossMask.map((m) => (m > 0 ? 1 : 0))), postToolMask: new Uint8Array(B * T),
    toolCalls: Int32Array.from(zeros), validToolCalls: Int32Array.from(zeros), isVoid: Uint8Array.from(zeros), truncated: Uint8Array.from(zeros),
    entropy: Float64Array.from(inp.entropy), logp: Float64Array.from(inp.logp), oldLogp: Float64Array.from(inp.old_logp ?? inp.logp),
  };
}

const check: Record<string, (c: Any) => void> = {
  advantage(c) {
    const B = c.input.group.length;
    const batch = {
      ...lossBatch({ B, T: 1, entropy: new Array(B).fill(0), logp: new Array(B).fill(0) }, new Array(B).fill(1)),
      group: Int32Array.from(c.input.group), reward: Float64Array.from(c.input.reward),
    };
    near(computeAdvantages(batch, DEFAULTS), c.expected.grpo, "grpo");
    near(computeAdvantages(batch, { ...DEFAULTS, advantage: "dr_grpo" }), c.expected.dr_grpo, "dr_grpo");
    const stats = groupStats(batch.group, batch.reward);
    near(stats.mean, c.expected.group_mean, "mean");
    c.expected.group_std.forEach((s: number | null, g: number) => (s === null ? expect(stats.std[g]).toBeNaN() : near(stats.std[g], s, `std[${g}]`)));
  },
  filter(c) {
    const { T } = c.input;
    const B = c.input.group.length;
    const batch: TaoBatch = {
      B, T, group: Int32Array.from(c.input.group), reward: Float64Array.from(c.input.reward),
      responseMask: Uint8Array.from(Array.from({ length: B }, () => c.input.response_mask_row).flat()), postToolMask: new Uint8Array(B * T),
      toolCalls: Int32Array.from(c.input.tool_calls), validToolCalls: Int32Array.from(c.input.valid_tool_calls),
      isVoid: Uint8Array.from(c.input.void), truncated: Uint8Array.from(c.input.truncated),
    };
    const f = filterBatch(batch, DEFAULTS);
    expect(Array.from(f.groupKept)).toEqual(c.expected.group_kept);
    expect(Array.from(f.reasons, reasonNames)).toEqual(c.expected.reasons);
    expect(Array.from(f.weight)).toEqual(c.expected.weight);
    expect(f.counts).toEqual(c.expected.counts);
    const A = computeAdvantages(batch, DEFAULTS, f.stats);
    near(A.slice(5, 10), c.expected.advantage_group_3, "advantage of group 3");
    near(f.lossMask, c.expected.weight.flatMap((w: number) => c.input.response_mask_row.map((m: number) => m * w)), "loss mask");
  },
  bonus(c) {
    const { B, T } = c.input;
    const input = { B, T, advantage: Float64Array.from(c.input.advantage), lossMask: Float32Array.from(c.input.loss_mask), postToolMask: Uint8Array.from(c.input.post_tool_mask), entropy: Float64Array.from(c.input.entropy) };
    const post = entropyBonus(input, DEFAULTS);
    expect(post.pool.size).toBe(c.expected.pool.size);
    near([post.pool.mean, post.pool.std], [c.expected.pool.mean, c.expected.pool.std], "pool");
    near(post.z!, c.expected.z, "z");
    near(post.shaped, c.expected.post_tool, "shaped (post_tool)");
    for (const [k, v] of Object.entries(c.expected.metrics_post_tool)) near((post.metrics as Any)[k], v as number, k);
    near(entropyBonus(input, { ...DEFAULTS, bonusScope: "all" }).shaped, c.expected.all, "shaped (all)");
  },
  loss(c) {
    const o = resolveTaoRl(c.options);
    const lossMask = new Array(c.input.B * c.input.T).fill(1);
    const r = policyLoss({ batch: lossBatch(c.input, lossMask), advantage: Float64Array.from(c.input.advantage), lossMask: Float32Array.from(lossMask) }, o);
    near(r.loss, c.expected.loss, "loss");
    near(Array.from(r.w), c.expected.w.map(Math.fround), "w");
    for (const k of ["clipfrac_low", "clipfrac_high", "clipfrac_dual"]) near((r.metrics as Any)[k], c.expected[k], k);
  },
  loss_agg(c) {
    for (const agg of ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum"] as LossAggregation[]) {
      const o = { ...resolveTaoRl(c.options), lossAgg: agg };
      const r = policyLoss({ batch: lossBatch(c.input, c.input.loss_mask), advantage: Float64Array.from(c.input.advantage), lossMask: Float32Array.from(c.input.loss_mask) }, o);
      near(r.loss, c.expected[agg].loss, `${agg} loss`);
      near(Array.from(r.w), c.expected[agg].w.map(Math.fround), `${agg} w`);
    }
  },
  pass_at_k(c) {
    c.input.cases.forEach(([n, k1, k]: number[], i: number) => near(passAtK(n, k1, k), c.expected.pass[i], `pass@${k} n=${n} c=${k1}`));
    const s = evalSummary(c.input.problems.map(([n, k1]: number[]) => ({ n, c: k1 })), 1);
    near(s.avgAtK, c.expected.avg, "avg@k");
  },
};

describe("golden hand-worked cases", () => {
  it("there are at least 5, each with its working written out", () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const c = load(f);
      expect(Array.isArray(c.working) && c.working.length >= 3, `${f}: working`).toBe(true);
      expect(Object.keys(check), `${f}: kind`).toContain(c.kind);
    }
  });
  it.each(files)("%s", (f) => {
    const c = load(f);
    check[c.kind](c);
  });
});

// src/rl/ reproduces every conformance vector in test/fixtures/conformance (schema: docs/conformance.md) to
// 1e-6 (|actual - expected| ≤ 1e-6 · max(1, |expected|)), the tolerance the GPU implementation is held to.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { resolveTaoRl } from "../../src/config.js";
import {
  computeAdvantages, entropyBonus, filterBatch, planRefill, policyLoss, postToolMask, reasonNames, shapeBatch, TurnCode,
} from "../../src/rl/index.js";
import type { FilterCounts } from "../../src/rl/index.js";
import type { TaoBatch } from "../../src/types.js";
import { buildAll, serialize, type ConformanceFile } from "./conformance-cases.js";

const dir = fileURLToPath(new URL("../fixtures/conformance/", import.meta.url));
const TOL = 1e-6;
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
const load = (f: string) => JSON.parse(readFileSync(dir + f, "utf8")) as ConformanceFile;

type Json = Record<string, unknown>;
const nums = (x: unknown) => x as number[];

function near(actual: ArrayLike<number> | number, expected: unknown, what: string) {
  const a = typeof actual === "number" ? [actual] : Array.from(actual);
  const e = typeof expected === "number" ? [expected] : nums(expected);
  expect(a.length, `${what}: length`).toBe(e.length);
  for (let i = 0; i < a.length; i++) {
    const ok = Math.abs(a[i] - e[i]) <= TOL * Math.max(1, Math.abs(e[i]));
    expect(ok, `${what}[${i}]: got ${a[i]}, expected ${e[i]}`).toBe(true);
  }
}

const COUNT_KEYS: Record<string, keyof FilterCounts> = {
  groups: "groups", groups_kept: "groupsKept", dropped_all_correct: "droppedAllCorrect", dropped_all_wrong: "droppedAllWrong",
  dropped_overlong: "droppedOverlong", trajectories: "trajectories", trajectories_kept: "trajectoriesKept",
  masked_truncated: "maskedTruncated", masked_all_tools_failed: "maskedAllToolsFailed", masked_void: "maskedVoid",
  flagged_all_tools_failed: "flaggedAllToolsFailed",
};

function batchOf(input: Json): TaoBatch {
  const f64 = (k: string) => (input[k] === undefined ? undefined : Float64Array.from(nums(input[k])));
  return {
    B: input.B as number,
    T: input.T as number,
    group: Int32Array.from(nums(input.group)),
    reward: Float64Array.from(nums(input.reward)),
    responseMask: Uint8Array.from(nums(input.response_mask)),
    postToolMask: Uint8Array.from(nums(input.post_tool_mask)),
    toolCalls: Int32Array.from(nums(input.tool_calls)),
    validToolCalls: Int32Array.from(nums(input.valid_tool_calls)),
    isVoid: Uint8Array.from(nums(input.void)),
    truncated: Uint8Array.from(nums(input.truncated)),
    entropy: f64("entropy"),
    logp: f64("logp"),
    oldLogp: f64("old_logp"),
    refLogp: f64("ref_logp"),
  };
}

describe("conformance vectors", () => {
  it("there are at least 20, and they are exactly what the generator writes from the naive reference", () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    const built = buildAll();
    expect(files).toEqual(built.map((c) => `${c.name}.json`).sort());
    for (const c of built) expect(readFileSync(dir + `${c.name}.json`, "utf8"), `${c.name}.json is stale: run npm run gen:conformance`).toBe(serialize(c));
  });

  it.each(files)("%s", (file) => {
    const { options, input, expected: ex } = load(file);
    const o = resolveTaoRl(options);
    const batch = batchOf(input);
    const { B, T } = batch;

    if (input.turns) {
      const turns = input.turns as { turn_index: number[]; kinds: string[][] };
      const K = Math.max(...turns.kinds.map((k) => k.length));
      const code: Record<string, number> = { none: TurnCode.NONE, code: TurnCode.CODE, answer: TurnCode.ANSWER, void: TurnCode.VOID };
      const kind = new Uint8Array(B * K);
      turns.kinds.forEach((ks, b) => ks.forEach((k, i) => { kind[b * K + i] = code[k]; }));
      const g = postToolMask({ B, T, K, responseMask: batch.responseMask, turnIndex: Int32Array.from(turns.turn_index), kind }, o.postToolWindow);
      expect(Array.from(g)).toEqual(ex.post_tool_mask);
    }

    const filter = filterBatch(batch, o);
    expect(Array.from(filter.stats.ids)).toEqual(ex.group_ids);
    near(filter.stats.mean, ex.group_mean, "group_mean");
    (ex.group_std as (number | null)[]).forEach((s, g) => {
      if (s === null) expect(filter.stats.size[g]).toBe(1);
      else near(filter.stats.std[g], s, `group_std[${g}]`);
    });
    expect(Array.from(filter.groupKept)).toEqual(ex.group_kept);
    expect(Array.from(filter.reasons, reasonNames)).toEqual(ex.reasons);
    near(filter.weight, ex.weight, "weight");
    near(filter.lossMask, ex.loss_mask, "loss_mask");

    const advantage = computeAdvantages(batch, o, filter.stats);
    near(advantage, ex.advantage, "advantage");
    const bonus = entropyBonus({ B, T, advantage, lossMask: filter.lossMask, postToolMask: batch.postToolMask, entropy: batch.entropy! }, o);
    near(bonus.z!, ex.z, "z");
    near(bonus.shaped, ex.shaped_advantage, "shaped_advantage");
    near(shapeBatch(batch, o).tokenAdvantage, ex.token_advantage, "token_advantage");

    const loss = policyLoss({ batch, advantage, lossMask: filter.lossMask }, o);
    near(loss.loss, ex.loss, "loss");
    near(loss.shaped, ex.shaped_advantage, "loss.shaped");
    near(loss.w, ex.w, "w");
    near(loss.v, ex.v, "v");
    const metrics = ex.metrics as Record<string, number>;
    const got = loss.metrics as unknown as Record<string, number>;
    for (const [k, want] of Object.entries(metrics)) {
      if (k in COUNT_KEYS) expect(filter.counts[COUNT_KEYS[k]], `metrics.${k}`).toBe(want);
      else { expect(k in got, `metric ${k} missing`).toBe(true); near(got[k], want, `metrics.${k}`); }
    }

    if (ex.refill) {
      const r = input.refill as { seed: number; round: number; next_group_id: number };
      const want = ex.refill as { survivors: number[]; action: string; size: number; duplicated: number; need: number; copy_ids: number[] };
      const survivors = Array.from(filter.stats.ids).filter((_, g) => filter.groupKept[g] === 1);
      expect(survivors).toEqual(want.survivors);
      const plan = planRefill({ survivors: Int32Array.from(survivors), nextGroupId: r.next_group_id, seed: r.seed, round: r.round }, o);
      expect({ action: plan.action, size: plan.source.length, duplicated: plan.duplicated, need: plan.need })
        .toEqual({ action: want.action, size: want.size, duplicated: want.duplicated, need: want.need });
      expect(Array.from(plan.target).slice(plan.target.length - plan.duplicated)).toEqual(want.copy_ids);
      for (const s of plan.source) expect(want.survivors).toContain(s);
      if (want.action === "subsample") expect(new Set(plan.source).size).toBe(want.size);
    }
  });
});

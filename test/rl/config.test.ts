// src/config.ts against TAO-RL.md: every default written here literally from the spec, and the snake_case
// schema maps each key to its own field and rejects unknown keys by name.
import { describe, expect, it } from "vitest";
import { DEFAULTS, PRESETS, resolveTaoRl, taoRlSchema } from "../../src/config.js";
import type { TaoRlOptions } from "../../src/types.js";

/** TAO-RL.md defaults (section in the comment). Fields the spec leaves open are marked "not in spec". */
const SPEC: TaoRlOptions = {
  filterUniformGroups: true, // §2.1 criterion 2 is on
  groupStdThreshold: 1e-3, // §2.1
  correctThreshold: 0.5, // not in spec: rewards are 0/1 (§1), any cut in (0, 1] separates them
  maskTruncated: true, // §2.2 "default on"
  minValidPerGroup: 4, // §2.2
  filterToolFailures: true, // §2.3 criterion 1 is on
  toolFailStrength: 1, // §2.3 "default strength 1"
  maskVoidTurns: true, // §2.4 "default on"
  batchPrompts: 8, // not in spec (paper 256; the tiny default)
  oversample: 2, // §2.5
  refill: "duplicate", // §2.5: duplication unless refill = "regenerate"
  maxGenRounds: 3, // not in spec (§2.5 names max_gen_rounds without a value)
  postToolWindow: 0, // §1 "default: whole turn"
  advantage: "grpo", // §3
  advantageEps: 1e-6, // §3
  entropyBonusCoef: 0.01, // §4 a = 0.01
  bonusScope: "post_tool", // §4
  detachEntropy: true, // §4 "detached by default"
  entropyStdEps: 1e-8, // §4
  clipRatioLow: 0.2, // §5
  clipRatioHigh: 0.28, // §5
  dualClip: 3, // §5
  logRatioClamp: 20, // §5 clamp(·, -20, 20)
  lossAgg: "token-mean", // §5
  lossEps: 1e-8, // §5 (Σ m + 1e-8)
  entropyCoeff: 0, // §5
  klCoef: 0, // §5 "No KL term by default"
  klEstimator: "k3", // not in spec (verl's low_var_kl is its default)
};

describe("config (TAO-RL.md defaults)", () => {
  it("DEFAULTS equal the spec's defaults field by field", () => {
    for (const k of Object.keys(SPEC) as (keyof TaoRlOptions)[]) expect(DEFAULTS[k], k).toBe(SPEC[k]);
    expect(Object.keys(DEFAULTS).sort()).toEqual(Object.keys(SPEC).sort());
    expect(resolveTaoRl({})).toEqual(SPEC);
    expect(resolveTaoRl(undefined)).toEqual(SPEC);
  });

  it("each snake_case key sets exactly its own camelCase field", () => {
    const other: Record<string, unknown> = {
      filter_uniform_groups: false, group_std_threshold: 0.25, correct_threshold: 0.75, mask_truncated: false, min_valid_per_group: 2,
      filter_tool_failures: false, tool_fail_strength: 0.5, mask_void_turns: false, batch_prompts: 3, oversample: 1.5,
      refill: "regenerate", max_gen_rounds: 5, post_tool_window: 7, advantage: "dr_grpo", advantage_eps: 1e-4,
      entropy_bonus_coef: 0.05, bonus_scope: "all", detach_entropy: false, entropy_std_eps: 1e-6, clip_ratio_low: 0.1,
      clip_ratio_high: 0.4, dual_clip: 5, log_ratio_clamp: 10, loss_agg: "seq-mean-token-sum", loss_eps: 1e-6,
      entropy_coeff: 0.001, kl_coef: 0.2, kl_estimator: "k2",
    };
    expect(Object.keys(other).sort()).toEqual(Object.keys(taoRlSchema.shape).sort());
    const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    for (const [key, value] of Object.entries(other)) {
      const r = resolveTaoRl({ [key]: value }) as unknown as Record<string, unknown>;
      const changed = Object.keys(r).filter((k) => r[k] !== (DEFAULTS as unknown as Record<string, unknown>)[k]);
      expect(changed, key).toEqual([camel(key)]);
      expect(r[camel(key)], key).toBe(value);
    }
  });

  it("an unknown key throws, naming the key (snake_case typo and camelCase alike)", () => {
    expect(() => resolveTaoRl({ entropy_bonus_coeff: 0.1 })).toThrow(/entropy_bonus_coeff/);
    expect(() => resolveTaoRl({ entropyBonusCoef: 0.1 })).toThrow(/entropyBonusCoef/);
    expect(() => resolveTaoRl({ clip_ratio_low: 0.2, kl_coeff: 0.1 })).toThrow(/kl_coeff/);
  });

  it("out-of-range values are rejected", () => {
    for (const bad of [{ tool_fail_strength: 1.5 }, { dual_clip: 1 }, { advantage_eps: 0 }, { loss_agg: "mean" }, { kl_estimator: "k4" }, { min_valid_per_group: -1 }, { bonus_scope: "post-tool" }]) {
      expect(() => resolveTaoRl(bad), JSON.stringify(bad)).toThrow();
    }
  });

  it("every preset resolves; grpo turns off every TAO-RL addition", () => {
    for (const [name, p] of Object.entries(PRESETS)) expect(() => resolveTaoRl(p), name).not.toThrow();
    const g = resolveTaoRl(PRESETS.grpo);
    expect([g.filterUniformGroups, g.filterToolFailures, g.maskVoidTurns, g.entropyBonusCoef]).toEqual([false, false, false, 0]);
    expect(resolveTaoRl(PRESETS["tao-rl"])).toEqual(SPEC);
  });
});

// Every option with its default, as a schema. Users write snake_case keys (the TAO-RL.md names);
// the algorithm receives the resolved camelCase record `TaoRlOptions`. Unknown keys are rejected so a
// typo never silently falls back to a default.
import { z } from "zod";
import type { TaoRlOptions } from "./types.js";

const prob = z.number().min(0).max(1);
const positive = z.number().positive();
const count = z.number().int().min(0);

/** The algorithm's options, snake_case, each with the TAO-RL.md default. */
export const taoRlSchema = z
  .object({
    // §2 filtering
    filter_uniform_groups: z.boolean().default(true).describe("criterion 2: drop all-correct / all-wrong groups"),
    group_std_threshold: z.number().min(0).default(1e-3).describe("a group whose reward std is below this is uniform"),
    correct_threshold: z.number().default(0.5).describe("a reward at or above this counts as correct"),
    mask_truncated: z.boolean().default(true).describe("overlong: truncated trajectories get loss mask 0"),
    min_valid_per_group: count.default(4).describe("drop a group with fewer than min(this, size) non-truncated members"),
    filter_tool_failures: z.boolean().default(true).describe("criterion 1: mask trajectories whose tool calls all failed"),
    tool_fail_strength: prob.default(1).describe("criterion 1 multiplies the loss mask by 1 - strength"),
    mask_void_turns: z.boolean().default(true).describe("SimpleTIR: trajectories with a void turn get loss mask 0"),
    // §2.5 refill
    batch_prompts: z.number().int().positive().default(8).describe("groups per training step"),
    oversample: z.number().positive().default(2).describe("prompts drawn per step = batch_prompts × oversample"),
    refill: z.enum(["duplicate", "regenerate", "none"]).default("duplicate").describe("when too few groups survive"),
    max_gen_rounds: z.number().int().positive().default(3).describe("regenerate: generation rounds before duplicating"),
    // §1 post-tool mask
    post_tool_window: count.default(0).describe("limit g to the first K policy tokens of a post-tool turn; 0 = whole turn"),
    // §3 advantage
    advantage: z.enum(["grpo", "dr_grpo"]).default("grpo").describe("advantage estimator"),
    advantage_eps: positive.default(1e-6).describe("epsilon added to the group std"),
    // §4 bonus
    entropy_bonus_coef: z.number().min(0).default(0.01).describe("a in Ã = A·(1 + a·g·z)"),
    bonus_scope: z.enum(["post_tool", "all"]).default("post_tool").describe("tokens that get the bonus"),
    detach_entropy: z.boolean().default(true).describe("treat H as a constant in the bonus (false = reference code)"),
    entropy_std_eps: positive.default(1e-8).describe("epsilon added to the pool's entropy std"),
    // §5 loss
    clip_ratio_low: z.number().min(0).max(1).default(0.2).describe("ε_low"),
    clip_ratio_high: z.number().min(0).default(0.28).describe("ε_high"),
    dual_clip: z.number().gt(1).default(3).describe("dual-clip constant c for negative advantages"),
    log_ratio_clamp: positive.default(20).describe("clamp of logπθ - logπold before exp"),
    loss_agg: z.enum(["token-mean", "seq-mean-token-mean", "seq-mean-token-sum"]).default("token-mean"),
    loss_eps: positive.default(1e-8).describe("epsilon in the token-mean denominator"),
    entropy_coeff: z.number().default(0).describe("entropy regulariser: loss -= entropy_coeff · mean(H)"),
    kl_coef: z.number().min(0).default(0).describe("KL penalty against a frozen reference policy"),
    kl_estimator: z.enum(["k1", "k2", "k3"]).default("k3").describe("KL estimator when kl_coef > 0"),
  })
  .strict();

export type TaoRlConfig = z.input<typeof taoRlSchema>;

/** Parse user options (snake_case) into the resolved record; throws a ZodError naming bad keys. */
export function resolveTaoRl(input: unknown = {}): TaoRlOptions {
  const c = taoRlSchema.parse(input ?? {});
  return {
    filterUniformGroups: c.filter_uniform_groups,
    groupStdThreshold: c.group_std_threshold,
    correctThreshold: c.correct_threshold,
    maskTruncated: c.mask_truncated,
    minValidPerGroup: c.min_valid_per_group,
    filterToolFailures: c.filter_tool_failures,
    toolFailStrength: c.tool_fail_strength,
    maskVoidTurns: c.mask_void_turns,
    batchPrompts: c.batch_prompts,
    oversample: c.oversample,
    refill: c.refill,
    maxGenRounds: c.max_gen_rounds,
    postToolWindow: c.post_tool_window,
    advantage: c.advantage,
    advantageEps: c.advantage_eps,
    entropyBonusCoef: c.entropy_bonus_coef,
    bonusScope: c.bonus_scope,
    detachEntropy: c.detach_entropy,
    entropyStdEps: c.entropy_std_eps,
    clipRatioLow: c.clip_ratio_low,
    clipRatioHigh: c.clip_ratio_high,
    dualClip: c.dual_clip,
    logRatioClamp: c.log_ratio_clamp,
    lossAgg: c.loss_agg,
    lossEps: c.loss_eps,
    entropyCoeff: c.entropy_coeff,
    klCoef: c.kl_coef,
    klEstimator: c.kl_estimator,
  };
}

/** The defaults of TAO-RL.md, resolved. */
export const DEFAULTS: Readonly<TaoRlOptions> = Object.freeze(resolveTaoRl({}));

/** Presets of the ablation (TAO-RL.md; issue "end-to-end"): overrides on top of the defaults. */
export const PRESETS: Readonly<Record<string, TaoRlConfig>> = Object.freeze({
  "tao-rl": {},
  grpo: { filter_uniform_groups: false, filter_tool_failures: false, mask_void_turns: false, entropy_bonus_coef: 0 },
  "filter-only": { entropy_bonus_coef: 0 },
  "bonus-only": { filter_uniform_groups: false, filter_tool_failures: false, mask_void_turns: false },
  simpletir: { filter_uniform_groups: false, filter_tool_failures: false, entropy_bonus_coef: 0 },
});

/** Rollout protocol options (TAO-RL.md §1, §6), snake_case, with their defaults. */
export const rolloutSchema = z
  .object({
    n: z.number().int().positive().default(8).describe("rollouts per prompt (the paper uses 16)"),
    max_turns: z.number().int().positive().default(5).describe("tool turns per trajectory in training"),
    eval_max_turns: z.number().int().positive().default(10).describe("tool turns per trajectory in evaluation"),
    max_turn_tokens: z.number().int().positive().default(256).describe("tokens generated per turn"),
    max_response_tokens: z.number().int().positive().default(1024).describe("response budget per trajectory; hitting it = truncated"),
    max_obs_chars: z.number().int().positive().default(512).describe("an observation longer than this keeps its first and last half"),
    max_obs_tokens: z.number().int().positive().default(256).describe("observation tokens appended to the context"),
    sandbox_timeout_s: positive.default(3).describe("wall time of one code execution"),
    temperature: positive.default(1).describe("sampling temperature in training (entropies use logits / temperature)"),
    top_p: z.number().gt(0).max(1).default(1).describe("nucleus sampling in training"),
    eval_temperature: positive.default(1).describe("sampling temperature in evaluation"),
    eval_top_p: z.number().gt(0).max(1).default(0.7).describe("nucleus sampling in evaluation"),
    eval_k: z.number().int().positive().default(16).describe("samples per problem for avg@k and pass@k"),
  })
  .strict();

/**
 * The learning rate on-device training uses when none is given (taorl train, start, ablation, /v1/train):
 * the paper's 1e-6 is for a 7B model; for the embedded 0.5M-parameter policy 2e-4 was chosen on the
 * training split (1e-3 collapsed GRPO's training reward; docs/RESULTS.md).
 */
export const ON_DEVICE_LR = 2e-4;

/** Optimizer options (TAO-RL.md §5), snake_case, with their defaults (the paper's 7B values). */
export const optimSchema = z
  .object({
    lr: positive.default(1e-6).describe("constant learning rate"),
    adam_beta1: z.number().min(0).lt(1).default(0.9),
    adam_beta2: z.number().min(0).lt(1).default(0.99),
    adam_eps: positive.default(1e-8),
    weight_decay: z.number().min(0).default(0.01).describe("AdamW decoupled weight decay"),
    grad_clip: positive.default(1).describe("global gradient-norm clip"),
    ppo_epochs: z.number().int().positive().default(1).describe("passes over each batch"),
    mini_batch_prompts: z.number().int().positive().default(4).describe("groups per optimizer mini-batch (paper: 128 of 256)"),
  })
  .strict();

export type RolloutOptions = z.output<typeof rolloutSchema>;
export type OptimOptions = z.output<typeof optimSchema>;

export function resolveRollout(input: unknown = {}): RolloutOptions {
  return rolloutSchema.parse(input ?? {});
}

export function resolveOptim(input: unknown = {}): OptimOptions {
  return optimSchema.parse(input ?? {});
}

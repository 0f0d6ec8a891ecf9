// TAO-RL, the algorithm (Cao et al., arXiv 2606.03762): GRPO for multi-turn tool-integrated reasoning plus
// tool-aware filtering and an entropy-guided bonus after tool results. Pure functions over typed arrays;
// the spec is TAO-RL.md. Conventions, and where they depart from the authors' reference code (a verl fork):
// - Advantage: (R - mean_g) / (std_g + 1e-6), std UNBIASED (G-1); a one-member group uses mean 0, std 1.
//   Statistics always include every member: criterion 1, void and truncation masks never move the baseline.
// - Criterion 2 drops a group when its (unbiased) reward std < 1e-3, judged on raw rewards; all-correct
//   vs all-wrong is mean ≥ correct_threshold (0.5). Order: criterion 2, overlong, criterion 1, void.
// - Entropy H_t uses logits / rollout temperature. The bonus pool is every loss token of the optimizer
//   mini-batch; z uses the POPULATION std + 1e-8, std := 1 when the pool has ≤ 1 token.
//   Ã = A · (1 + 0.01 · g · z), no cap. H is DETACHED by default (reference: gradient flows through H,
//   `detach_entropy = false`). Scope is post-tool tokens (paper); the reference's released config uses
//   all tokens (`bonus_scope = "all"`) and falls back to all tokens when a micro-batch has no post-tool
//   token: we never fall back.
// - A fractional criterion-1 weight (tool_fail_strength < 1) multiplies the loss mask once (in the
//   aggregation), not once in the advantage and again in the loss.
// - Loss: asymmetric clip (0.2 / 0.28), dual clip 3, log-ratio clamp ±20, token-mean over the mini-batch;
//   the engine backpropagates Σ w·logπ + v·H with the coefficients returned by `policyLoss`.
export { ShapeError, checkBatch } from "./check.js";
export { mixSeed, seededRandom, permutation } from "./rng.js";
export { groupStats, type GroupStats } from "./groups.js";
export { filterBatch, Reason, REASON_NAMES, reasonNames, GROUP_DROP_MASK, type FilterResult, type FilterCounts } from "./filter.js";
export { computeAdvantages, getAdvantage, registerAdvantage, type AdvantageEstimator } from "./advantage.js";
export { postToolMask, TurnCode, type TurnLayout } from "./post-tool.js";
export { entropyBonus, entropyPool, type BonusInput, type BonusResult, type BonusMetrics, type EntropyPool } from "./bonus.js";
export { policyLoss, aggregationRowFactors, type LossInput, type LossResult, type LossMetrics } from "./loss.js";
export { planRefill, refillRows, selectRows, takeRows, type RefillPlan, type RefillRequest, type RefillAction } from "./refill.js";
export { passAtK, evalSummary, rolloutMetrics, type ProblemTally, type RolloutMetrics } from "./metrics.js";
export { shapeBatch, type ShapeResult } from "./shape.js";

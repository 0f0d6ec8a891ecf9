// Plain data shared by every layer. Shape conventions, stated once:
// - B trajectories (rows), T token slots per row; per-token arrays are row-major [B*T], index b*T + t.
// - Masks are 0/1 bytes (Uint8Array) unless named a weight (Float32Array, values in [0, 1]).
// - Per-token model quantities (log-probs, entropies, coefficients) are Float32Array [B*T];
//   per-trajectory quantities (rewards, advantages) are Float64Array [B].
// - Typed arrays that cross a worker boundary are checked by shape and tag, never by `instanceof`.

/** Any float typed array accepted as input. */
export type Floats = Float32Array | Float64Array;

/** Advantage estimator names (TAO-RL.md §3). */
export type AdvantageKind = "grpo" | "dr_grpo";
/** Loss aggregation modes (TAO-RL.md §5). */
export type LossAggregation = "token-mean" | "seq-mean-token-mean" | "seq-mean-token-sum";
/** Where the entropy bonus applies (TAO-RL.md §4). */
export type BonusScope = "post_tool" | "all";
/** KL estimators against a frozen reference policy (TAO-RL.md §5). */
export type KlEstimator = "k1" | "k2" | "k3";
/** What to do when fewer groups than `batchPrompts` survive filtering (TAO-RL.md §2.5). */
export type RefillMode = "duplicate" | "regenerate" | "none";

/**
 * Every option of the algorithm, resolved (no optional fields). Names are the camelCase forms of the
 * TAO-RL.md names; `src/config.ts` holds the defaults and the snake_case schema users write.
 */
export interface TaoRlOptions {
  // §2 filtering
  /** Criterion 2: drop groups whose reward std is below `groupStdThreshold`. */
  filterUniformGroups: boolean;
  groupStdThreshold: number;
  /** A reward at or above this counts as correct (accuracy, all-correct vs all-wrong). */
  correctThreshold: number;
  /** Overlong handling: truncated trajectories get mask 0; thin groups are dropped. */
  maskTruncated: boolean;
  minValidPerGroup: number;
  /** Criterion 1: trajectories with tool calls and no valid execution. */
  filterToolFailures: boolean;
  toolFailStrength: number;
  /** SimpleTIR void-turn mask. */
  maskVoidTurns: boolean;
  // §2.5 refill
  batchPrompts: number;
  oversample: number;
  refill: RefillMode;
  maxGenRounds: number;
  // §1 post-tool mask
  /** First K policy tokens of a post-tool turn; 0 = the whole turn. */
  postToolWindow: number;
  // §3 advantage
  advantage: AdvantageKind;
  advantageEps: number;
  // §4 bonus
  entropyBonusCoef: number;
  bonusScope: BonusScope;
  detachEntropy: boolean;
  entropyStdEps: number;
  // §5 loss
  clipRatioLow: number;
  clipRatioHigh: number;
  dualClip: number;
  logRatioClamp: number;
  lossAgg: LossAggregation;
  lossEps: number;
  entropyCoeff: number;
  klCoef: number;
  klEstimator: KlEstimator;
}

/**
 * The one input record of the `rl/` functions. Structural fields are required; per-token model
 * quantities are present when the function that needs them is called.
 */
export interface TaoBatch {
  B: number;
  T: number;
  /** Group id of each trajectory [B]; equal ids = rollouts of the same prompt. */
  group: Int32Array;
  /** Scalar reward of each trajectory [B]. */
  reward: Float64Array;
  /** 1 = token written by the policy [B*T]; 0 = prompt, observation or padding. */
  responseMask: Uint8Array;
  /** Post-tool mask g [B*T] (see `postToolMask`). */
  postToolMask: Uint8Array;
  /** Code turns executed [B]. */
  toolCalls: Int32Array;
  /** Code turns whose execution was valid (stdout non-empty, stderr empty) [B]. */
  validToolCalls: Int32Array;
  /** 1 = the trajectory contains a void turn [B]. */
  isVoid: Uint8Array;
  /** 1 = the trajectory hit its response budget [B]. */
  truncated: Uint8Array;
  /** Entropy H_t of the current policy at each token [B*T] (temperature-scaled logits). */
  entropy?: Floats;
  /** log π_θ of each token under the current policy [B*T]. */
  logp?: Floats;
  /** log π_old of each token, the rollout policy's [B*T]. */
  oldLogp?: Floats;
  /** log π_ref of each token, a frozen reference policy [B*T] (only when klCoef > 0). */
  refLogp?: Floats;
}

/** Outcome of one execution in the sandbox. */
export type SandboxStatus = "ok" | "error" | "timeout" | "oom" | "output_limit";

export interface SandboxResult {
  status: SandboxStatus;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** Kind of a rollout turn (TAO-RL.md §1). */
export type TurnKind = "code" | "answer" | "void";

/** Outcome of a code turn as the filter sees it. */
export type ToolOutcome = "valid" | "error" | "timeout" | "oom" | "empty" | "output_limit";

/** One turn of a trajectory. */
export interface TurnRecord {
  kind: TurnKind;
  /** Execution outcome of a code turn. */
  outcome?: ToolOutcome;
  /** Policy tokens written in this turn. */
  policyTokens: number;
  /** Observation tokens appended after it (mask 0). */
  observationTokens: number;
}

/**
 * One multi-turn rollout (TAO-RL.md §1). Per-token arrays cover the whole sequence (prompt, policy turns,
 * observations), length L; slot t describes token t.
 */
export interface Trajectory {
  problemId: string;
  /** Group id: rollouts of the same prompt in one step share it. */
  group: number;
  /** Index of this rollout in its group. */
  sample: number;
  /** Seed derived from (run seed, step, prompt, sample). */
  seed: number;
  policyVersion: number;
  promptLength: number;
  /** Token ids [L]: the tokens the policy sampled are kept as sampled (never re-tokenized). */
  tokens: Int32Array;
  /** 1 = policy token [L]. */
  responseMask: Uint8Array;
  /** log π_old of each policy token at sampling time [L] (0 elsewhere). */
  samplingLogp: Float32Array;
  /** Entropy of the sampling distribution at each policy token [L] (0 elsewhere). */
  samplingEntropy: Float32Array;
  /** Turn index of each token [L]: -1 for the prompt; observations carry their code turn's index. */
  turnIndex: Int32Array;
  /** Post-tool mask g [L]. */
  postToolMask: Uint8Array;
  turns: TurnRecord[];
  toolCalls: number;
  validToolCalls: number;
  isVoid: boolean;
  truncated: boolean;
  /** The turn limit ended the trajectory before an answer. */
  hitMaxTurns: boolean;
  /** The last `\boxed{}` of the response (observations included), or null. */
  answer: string | null;
  reward: number;
  /** The response as text (policy turns and observations). */
  response: string;
}

// The TAO-RL training step (TAO-RL.md §2-§5), engine-agnostic:
//   sample batch_prompts × oversample tasks → rollout n each on the inference engine → filters →
//   refill (subsample / duplicate / regenerate) → GRPO advantages (from all members of each group) →
//   per mini-batch of mini_batch_prompts groups: score with the trainer (current logπ and H at the rollout
//   temperature), bonus + clipped loss → coefficients w, v → trainer.step → new weights to the rollout engine.
// Everything random derives from (run seed, step), so a resumed run repeats an uninterrupted one.
import type { OptimOptions, RolloutOptions } from "../config.js";
import type { Engine, TrainableEngine } from "../engine/engine.js";
import { rollout, type RolloutDeps, type RolloutProblem, type RolloutRunner } from "../agent/rollout.js";
import type { Weights } from "../model/config.js";
import { LevelSampler, sampleTrainingTasks, taskProblem, type LevelSamplerState, type TaskItem } from "../agent/tasks.js";
import {
  computeAdvantages, filterBatch, mixSeed, planRefill, policyLoss, refillRows, rolloutMetrics, selectRows, takeRows,
  type FilterCounts, type LossMetrics, type RolloutMetrics,
} from "../rl/index.js";
import type { TaoBatch, TaoRlOptions, Trajectory, ToolOutcome } from "../types.js";

/** Where rollouts run when not on an in-process engine: e.g. `RolloutWorkers` (rollout-workers.ts). */
export interface RolloutBackend {
  rollout: RolloutRunner;
  /** New policy weights after an update. */
  setWeights(weights: Weights): Promise<void>;
}

export interface TrainerDeps extends Omit<RolloutDeps, "engine"> {
  /** Generates rollouts in this thread; receives new weights after every update. Unused with `rollouts`. */
  policy?: Engine;
  /** Rollout workers: when given, rollouts run there and new weights go there. */
  rollouts?: RolloutBackend;
  /** Computes current log-probs and entropies and takes the optimizer steps. */
  trainer: TrainableEngine;
}

/** Problems of one step: `count` problems, each with a level for the adaptive sampler. */
export type TaskSource = (sampler: LevelSampler, seed: number, step: number, count: number) => Array<RolloutProblem & { level: number }>;

/** The default source: the procedural tool-use task family, train split, adaptive levels. */
export const taskFamily: TaskSource = (sampler, seed, step, count) =>
  sampleTrainingTasks(sampler, seed, step, count).map((t: TaskItem) => taskProblem(t));

export interface TrainSettings {
  runSeed: number;
  /** Where training problems come from (default: `taskFamily`). */
  tasks?: TaskSource;
  tao: TaoRlOptions;
  rollout: RolloutOptions;
  optim: OptimOptions;
  /** Rows per forward/backward pass inside the trainer (bounds the wasm heap). */
  microBatch?: number;
}

/** What a checkpoint must hold besides weights and optimizer moments. */
export interface TrainState {
  step: number;
  policyVersion: number;
  sampler: LevelSamplerState;
}

export function initialState(): TrainState {
  return { step: 0, policyVersion: 0, sampler: new LevelSampler().state() };
}

export interface StepMetrics {
  step: number;
  policy_version: number;
  skipped: boolean;
  refill: string;
  gen_rounds: number;
  groups_trained: number;
  duplicated_groups: number;
  rollout: RolloutMetrics;
  filter: FilterCounts;
  /** Failed executions by kind, as fractions of all tool calls. */
  tool_failure_rate: Record<Exclude<ToolOutcome, "valid">, number>;
  /** Loss metrics averaged over mini-batches (absent on a skipped step). */
  loss?: LossMetrics;
  grad_norm: number;
  levels: number[];
  tokens_trained: number;
  /** Policy tokens sampled in this step's rollouts. */
  tokens_generated: number;
  /** Sequence slots (rows × padded length) the update scored and stepped. */
  tokens_updated: number;
  time_ms: { rollout: number; generate: number; tool: number; update: number; total: number };
  tokens_per_s: number;
}

/** Pack trajectories into the rl/ record (right-padded to the longest) plus the token ids. */
export function packTrajectories(trajs: ReadonlyArray<Trajectory>): { batch: TaoBatch; tokens: Int32Array } {
  const B = trajs.length;
  const T = trajs.reduce((m, t) => Math.max(m, t.tokens.length), 1);
  const tokens = new Int32Array(B * T);
  const batch: TaoBatch = {
    B, T,
    group: Int32Array.from(trajs, (t) => t.group),
    reward: Float64Array.from(trajs, (t) => t.reward),
    responseMask: new Uint8Array(B * T),
    postToolMask: new Uint8Array(B * T),
    toolCalls: Int32Array.from(trajs, (t) => t.toolCalls),
    validToolCalls: Int32Array.from(trajs, (t) => t.validToolCalls),
    isVoid: Uint8Array.from(trajs, (t) => (t.isVoid ? 1 : 0)),
    truncated: Uint8Array.from(trajs, (t) => (t.truncated ? 1 : 0)),
    oldLogp: new Float32Array(B * T),
  };
  trajs.forEach((t, b) => {
    tokens.set(t.tokens, b * T);
    batch.responseMask.set(t.responseMask, b * T);
    batch.postToolMask.set(t.postToolMask, b * T);
    (batch.oldLogp as Float32Array).set(t.samplingLogp, b * T);
  });
  return { batch, tokens };
}

function rowsOf(batch: TaoBatch, tokens: Int32Array, rows: Int32Array, group: Int32Array): { batch: TaoBatch; tokens: Int32Array } {
  return { tokens: takeRows(tokens, rows, batch.T), batch: selectRows(batch, rows, group) };
}

/** One training step. Mutates `state` (step, policy version, sampler) and returns the step's metrics. */
export async function trainStep(deps: TrainerDeps, s: TrainSettings, state: TrainState): Promise<StepMetrics> {
  const t0 = performance.now();
  const { tao } = s;
  const sampler = LevelSampler.fromState(state.sampler);
  const perRound = Math.max(1, Math.round(tao.batchPrompts * tao.oversample));

  // Rollouts, with DAPO-style regeneration rounds when asked.
  const trajs: Trajectory[] = [];
  const tasks: Array<RolloutProblem & { level: number }> = [];
  const source = s.tasks ?? taskFamily;
  const policy = deps.policy;
  if (!deps.rollouts && !policy) throw new Error("trainStep: needs a policy engine or rollout workers");
  const runRollout: RolloutRunner = deps.rollouts ? deps.rollouts.rollout : (req, o) => rollout({ ...deps, engine: policy! }, req, o);
  let generateMs = 0, toolMs = 0, rolloutMs = 0, round = 0, generated = 0, updated = 0;
  let filter, plan;
  for (;;) {
    round++;
    const drawn = source(sampler, mixSeed(s.runSeed, round), state.step, perRound);
    const r = await runRollout({
      problems: drawn, n: s.rollout.n, runSeed: mixSeed(s.runSeed, round), step: state.step,
      policyVersion: state.policyVersion, firstGroup: tasks.length, postToolWindow: tao.postToolWindow,
    }, s.rollout);
    tasks.push(...drawn);
    trajs.push(...r.trajectories);
    generateMs += r.timings.generateMs;
    toolMs += r.timings.toolMs;
    generated += r.timings.generatedTokens;
    rolloutMs += r.timings.totalMs;
    filter = filterBatch(packTrajectories(trajs).batch, tao);
    const survivors = Int32Array.from(filter.stats.ids.filter((_, g) => filter!.groupKept[g] === 1));
    plan = planRefill({ survivors, nextGroupId: tasks.length, seed: mixSeed(s.runSeed, state.step, 0x7e11), round }, tao);
    if (plan.action !== "regenerate") break;
  }
  const { batch: full, tokens: fullTokens } = packTrajectories(trajs);
  const advantageAll = computeAdvantages(full, tao, filter.stats);

  // Level sampler: each group's accuracy at its level.
  for (let g = 0; g < tasks.length; g++) {
    const members = trajs.filter((t) => t.group === g);
    if (members.length) sampler.update(tasks[g].level, members.filter((t) => t.reward >= tao.correctThreshold).length / members.length);
  }

  const ro = rolloutMetrics(full, tao);
  const calls = trajs.reduce((n, t) => n + t.toolCalls, 0);
  const failures: StepMetrics["tool_failure_rate"] = { error: 0, timeout: 0, oom: 0, empty: 0, output_limit: 0 };
  for (const t of trajs) for (const turn of t.turns) if (turn.outcome && turn.outcome !== "valid") failures[turn.outcome]++;
  for (const k of Object.keys(failures) as Array<keyof typeof failures>) failures[k] = calls > 0 ? failures[k] / calls : 0;

  const tu = performance.now();
  let gradNorm = 0, tokensTrained = 0, groupsTrained = 0;
  const lossSums: Record<string, number> = {};
  let miniBatches = 0;
  if (plan.action !== "skip") {
    const { rows, group } = refillRows(full.group, plan);
    const sel = rowsOf(full, fullTokens, rows, group);
    const advantage = takeRows(advantageAll, rows, 1);
    const lossMask = takeRows(filter.lossMask, rows, full.T);
    groupsTrained = plan.source.length;
    // mini-batches of whole groups, in the plan's order
    const groupOrder = Array.from(new Set(Array.from(group)));
    for (let i = 0; i < groupOrder.length; i += s.optim.mini_batch_prompts) {
      const chosen = new Set(groupOrder.slice(i, i + s.optim.mini_batch_prompts));
      const mbRows = Int32Array.from(Array.from(group.keys()).filter((r) => chosen.has(group[r])));
      const mb = rowsOf(sel.batch, sel.tokens, mbRows, takeRows(group, mbRows, 1));
      const mbAdv = takeRows(advantage, mbRows, 1);
      const mbMask = takeRows(lossMask, mbRows, full.T);
      let massSum = 0;
      for (let k = 0; k < mbMask.length; k++) massSum += mbMask[k];
      if (massSum === 0) continue;
      const tokenBatch = { B: mb.batch.B, T: mb.batch.T, tokens: mb.tokens };
      updated += mb.batch.B * mb.batch.T;
      const scored = await deps.trainer.score(tokenBatch, { temperature: s.rollout.temperature });
      const loss = policyLoss({ batch: { ...mb.batch, logp: scored.logp, entropy: scored.entropy }, advantage: mbAdv, lossMask: mbMask }, tao);
      const res = await deps.trainer.step(tokenBatch, { w: loss.w, v: loss.v }, { microBatch: s.microBatch, temperature: s.rollout.temperature });
      gradNorm = Math.max(gradNorm, res.gradNorm);
      tokensTrained += loss.metrics.loss_tokens;
      for (const [k, v] of Object.entries(loss.metrics)) lossSums[k] = (lossSums[k] ?? 0) + v;
      miniBatches++;
    }
    if (miniBatches > 0) {
      const weights = await deps.trainer.weights();
      await (deps.rollouts ?? policy!).setWeights(weights);
      state.policyVersion++;
    }
  }
  const updateMs = performance.now() - tu;
  state.step++;
  state.sampler = sampler.state();
  const total = performance.now() - t0;
  return {
    step: state.step,
    policy_version: state.policyVersion,
    skipped: plan.action === "skip" || miniBatches === 0,
    refill: plan.action,
    gen_rounds: round,
    groups_trained: groupsTrained,
    duplicated_groups: plan.duplicated,
    rollout: ro,
    filter: filter.counts,
    tool_failure_rate: failures,
    loss: miniBatches > 0 ? (Object.fromEntries(Object.entries(lossSums).map(([k, v]) => [k, v / miniBatches])) as unknown as LossMetrics) : undefined,
    grad_norm: gradNorm,
    levels: tasks.map((t) => t.level),
    tokens_trained: tokensTrained,
    tokens_generated: generated,
    tokens_updated: updated,
    time_ms: { rollout: rolloutMs, generate: generateMs, tool: toolMs, update: updateMs, total },
    tokens_per_s: total > 0 ? (tokensTrained / total) * 1000 : 0,
  };
}

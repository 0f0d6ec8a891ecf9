// A training run on disk: engines from a model folder, steps with JSONL metrics, periodic evaluation,
// atomic checkpoints (weights, AdamW moments, step, policy version, level-sampler state, settings) and
// exact resume: a run stopped and resumed writes the same metrics as one that was not (timings aside).
// Node only (files).
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Engine } from "../engine/engine.js";
import { loadTrainer, saveTrainer } from "../engine/checkpoint.js";
import { OrtWebEngine } from "../engine/ort-web.js";
import type { TfjsWasmEngine } from "../engine/tfjs-wasm.js";
import { loadTokenizer } from "../model/checkpoint.js";
import type { TextTokenizer } from "../model/tokenizer.js";
import type { RolloutProblem } from "../agent/rollout.js";
import type { SandboxResult } from "../types.js";
import type { ToolCall } from "../sandbox/tir.js";
import { evaluate, type EvalResult } from "./evaluate.js";
import { initialState, trainStep, type StepMetrics, type TrainSettings, type TrainState } from "./loop.js";
import { RolloutWorkers } from "./rollout-workers.js";
import { resolveHostFile } from "../sandbox/node.js";

export const CHECKPOINT_DIR = "checkpoint";
export const STATE_FILE = "state.json";

export interface RunEngines {
  trainer: TfjsWasmEngine;
  /** The in-process policy (onnxruntime-web), when rollouts run in this thread. */
  policy?: Engine;
  /** Rollout workers, when asked for. */
  workers?: RolloutWorkers;
  tokenizer: TextTokenizer;
}

/**
 * Trainer (tfjs-wasm) and policy (onnxruntime-web, same weights) from an HF folder or a run checkpoint;
 * with `rolloutWorkers` ≥ 1 the policy lives in that many worker threads instead (dist/node/agent.worker.mjs).
 */
export async function loadEngines(dir: string, settings: Pick<TrainSettings, "optim" | "rollout">, tokenizerDir = dir, rolloutWorkers = 0): Promise<RunEngines> {
  const trainer = await loadTrainer(dir, { optim: settings.optim });
  const tokenizer = await loadTokenizer(tokenizerDir);
  const maxPositions = Math.min(trainer.config.maxPositionEmbeddings, 2048);
  try {
    if (rolloutWorkers > 0) {
      const workers = await RolloutWorkers.start(resolveHostFile("agent.worker.mjs"), rolloutWorkers, { config: trainer.config, weights: await trainer.weights(), tokenizer, maxPositions });
      return { trainer, workers, tokenizer };
    }
    const policy = await OrtWebEngine.create(trainer.config, { weights: await trainer.weights(), maxPositions, weightsMode: "initializers" });
    return { trainer, policy, tokenizer };
  } catch (e) {
    trainer.dispose();
    throw e;
  }
}

export interface RunOptions {
  /** Run folder: metrics.jsonl, eval.jsonl, checkpoint/. */
  dir: string;
  /** Model folder to start from (HF layout). Ignored when the run folder holds a checkpoint. */
  model: string;
  settings: TrainSettings;
  preset: string;
  steps: number;
  checkpointEvery: number;
  evalEvery: number;
  evalProblems: RolloutProblem[];
  evalK: number;
  runTool: (call: ToolCall) => Promise<SandboxResult>;
  /** Run rollouts (training and evaluation) in this many worker threads; 0 (default) = in this thread. */
  rolloutWorkers?: number;
  /** Stop after the current step (then checkpoint). */
  signal?: AbortSignal;
  /** Time budget: no step starts after this (epoch ms); the run then evaluates and checkpoints. */
  until?: number;
  onStep?: (m: StepMetrics, state: TrainState) => void;
  onEval?: (e: EvalResult & { step: number }) => void;
}

export interface RunResult {
  state: TrainState;
  resumed: boolean;
  stopped: boolean;
  evals: Array<EvalResult & { step: number }>;
}

/** Keep only the JSONL lines whose `step` ≤ `step` (a resumed run rewrites what came after its checkpoint). */
function truncateJsonl(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "" && (JSON.parse(l) as { step: number }).step <= step);
  writeFileSync(path, kept.map((l) => `${l}\n`).join(""));
}

export async function runTraining(o: RunOptions): Promise<RunResult> {
  mkdirSync(o.dir, { recursive: true });
  const ckpt = join(o.dir, CHECKPOINT_DIR);
  const resumed = existsSync(join(ckpt, STATE_FILE));
  let state: TrainState = initialState();
  if (resumed) {
    const saved = JSON.parse(readFileSync(join(ckpt, STATE_FILE), "utf8")) as { state: TrainState; preset: string; runSeed: number };
    if (saved.preset !== o.preset || saved.runSeed !== o.settings.runSeed) {
      throw new Error(`${o.dir}: holds a ${saved.preset} run with seed ${saved.runSeed}; asked for ${o.preset} with seed ${o.settings.runSeed} (use another --out)`);
    }
    state = saved.state;
  }
  const metricsPath = join(o.dir, "metrics.jsonl");
  const evalPath = join(o.dir, "eval.jsonl");
  truncateJsonl(metricsPath, state.step);
  truncateJsonl(evalPath, state.step);
  const engines = await loadEngines(resumed ? ckpt : o.model, o.settings, resumed ? ckpt : o.model, o.rolloutWorkers ?? 0);
  const deps = { trainer: engines.trainer, policy: engines.policy, rollouts: engines.workers, tokenizer: engines.tokenizer, runTool: o.runTool };
  const evals: RunResult["evals"] = [];

  const save = async () => {
    await saveTrainer(ckpt, engines.trainer, {
      extra: {
        [STATE_FILE]: JSON.stringify({ state, preset: o.preset, runSeed: o.settings.runSeed, settings: o.settings }),
        "tokenizer.json": JSON.stringify(engines.tokenizer.tokenizerJson),
        "tokenizer_config.json": JSON.stringify(engines.tokenizer.tokenizerConfig),
      },
    });
  };
  const runEval = async () => {
    const e = { step: state.step, ...(await evaluate(engines.workers ? engines.workers.rollout : { engine: engines.policy!, tokenizer: engines.tokenizer, runTool: o.runTool }, o.evalProblems, o.settings.rollout, o.settings.runSeed ^ 0x5eed, o.evalK)) };
    appendFileSync(evalPath, `${JSON.stringify(e)}\n`);
    evals.push(e);
    o.onEval?.(e);
  };

  let stopped = false;
  try {
    if (o.evalEvery > 0 && o.evalProblems.length > 0 && state.step === 0) await runEval();
    let outOfTime = false;
    while (state.step < o.steps) {
      if (o.signal?.aborted) { stopped = true; break; }
      if (o.until !== undefined && Date.now() >= o.until) { outOfTime = true; break; }
      const m = await trainStep(deps, o.settings, state);
      appendFileSync(metricsPath, `${JSON.stringify({ preset: o.preset, ...m })}\n`);
      o.onStep?.(m, state);
      const last = state.step === o.steps;
      if (o.evalEvery > 0 && o.evalProblems.length > 0 && (state.step % o.evalEvery === 0 || last)) await runEval();
      if (state.step % o.checkpointEvery === 0 || last) await save();
    }
    if (outOfTime) {
      if (o.evalEvery > 0 && o.evalProblems.length > 0 && evals[evals.length - 1]?.step !== state.step) await runEval();
      await save();
    }
    if (stopped) await save();
  } finally {
    engines.trainer.dispose();
    engines.policy?.dispose();
    await engines.workers?.close();
  }
  return { state, resumed, stopped, evals };
}

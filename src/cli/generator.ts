// Generation for the HTTP API's /v1/generate (src/server/policy-api.ts), runtime-free so Node (serve-deps.ts)
// and the edge (edge-deps.ts) share it: one engine, loaded on first use by a PolicyLoader; requests run one
// at a time on a promise chain, at most `maxWaiting` wait behind the running one (429 beyond); rollouts go
// in batches of ~16 rows so a stream gets trajectories as batches finish. Each row samples from its own
// seed stream, so the batching does not change what is sampled.
import { resolveRollout, type RolloutOptions } from "../config.js";
import { buildPrompt } from "../agent/prompt.js";
import { rollout, type RolloutProblem } from "../agent/rollout.js";
import { taskProblems } from "../agent/tasks.js";
import type { Engine } from "../engine/engine.js";
import type { TextTokenizer } from "../model/tokenizer.js";
import type { ToolCall } from "../sandbox/tir.js";
import { HttpProblem, type FieldError } from "../server/problem.js";
import type { GenerateRequest, GeneratedTrajectory, Generator } from "../server/policy-api.js";
import type { SandboxResult, Trajectory } from "../types.js";

export type RunTool = (call: ToolCall) => Promise<SandboxResult>;

/** Positions the engines get for a model: its own limit, at most 2048 (as trainer/run.ts). */
export const positionsOf = (maxPositionEmbeddings: number) => Math.min(maxPositionEmbeddings, 2048);

/** Prompt tokens of each question in the rollout's chat prompt. */
export const promptTokens = (tokenizer: TextTokenizer, questions: readonly string[]) => questions.map((q) => tokenizer.encode(buildPrompt(q)).length);

/** Rows decoded together per rollout call (onnxruntime-web's decode throughput flattens out around here). */
const ROWS_PER_BATCH = 16;

/** A policy ready to generate: an engine with weights, its tokenizer, the positions its graphs accept. */
export interface LoadedPolicy {
  engine: Engine;
  tokenizer: TextTokenizer;
  maxPositions: number;
}

/** Loads the policy; called on first use, and again after a failed load. */
export type PolicyLoader = () => Promise<LoadedPolicy>;

/**
 * One user of the engine at a time, refusing (429) instead of queueing. For workerd: a request must not
 * wait on a promise that another request settles (the runtime cancels the waiting request), so the edge
 * lets generation and evaluation in only while nothing else uses the engine.
 */
export class EngineGate {
  private holder?: string;

  enter(what: string): void {
    if (this.holder) throw new HttpProblem(429, `the engine is busy with ${this.holder} (this runtime serves one engine request at a time); retry when it has finished`);
    this.holder = what;
  }

  leave(): void {
    this.holder = undefined;
  }
}

export class EngineGenerator implements Generator {
  private policy?: Promise<LoadedPolicy>;
  private chain: Promise<void> = Promise.resolve();
  /** Requests admitted and not finished: the running one and those waiting. */
  private admitted = 0;

  constructor(private readonly loader: PolicyLoader, private readonly runTool: RunTool, private readonly maxWaiting = 8, private readonly gate?: EngineGate) {}

  /** The policy, loaded once (the edge's evaluation shares it). */
  load(): Promise<LoadedPolicy> {
    if (!this.policy) {
      const p = this.loader();
      this.policy = p;
      p.catch(() => { if (this.policy === p) this.policy = undefined; }); // a failed load is retried by the next request
    }
    return this.policy;
  }

  async generate(req: GenerateRequest, signal?: AbortSignal): Promise<{ seed: number; batches: AsyncIterable<GeneratedTrajectory[]> }> {
    this.gate?.enter("a generation request");
    if (this.admitted > this.maxWaiting) {
      this.gate?.leave();
      throw new HttpProblem(429, `${this.admitted - 1} generation requests already wait for the engine (limit ${this.maxWaiting}); retry later`);
    }
    this.admitted++;
    const problems: RolloutProblem[] = req.tasks
      ? taskProblems(req.tasks.seed, req.tasks.split, req.tasks.count, req.tasks.level)
      : (req.prompts ?? []).map((q, i) => ({ id: `prompt-${i}`, question: q, answer: req.answers?.[i] ?? "" }));
    let opts: RolloutOptions;
    try {
      const { tokenizer, maxPositions } = await this.load();
      opts = rolloutOptionsFor(req, promptTokens(tokenizer, problems.map((p) => p.question)), maxPositions, req.tasks ? "tasks" : "prompts");
    } catch (e) {
      this.admitted--;
      this.gate?.leave();
      throw e;
    }
    let release!: () => void;
    const previous = this.chain;
    this.chain = new Promise<void>((r) => (release = r));
    const seed = req.seed ?? Math.floor(Math.random() * 2 ** 31);
    const perBatch = Math.max(1, Math.floor(ROWS_PER_BATCH / req.n));
    const withReward = req.answers !== undefined || req.tasks !== undefined;
    const self = this;
    async function* batches(): AsyncGenerator<GeneratedTrajectory[]> {
      try {
        await previous;
        const { engine, tokenizer } = await self.load();
        for (let first = 0; first < problems.length && !signal?.aborted; first += perBatch) {
          const { trajectories } = await rollout(
            { engine, tokenizer, runTool: self.runTool },
            { problems: problems.slice(first, first + perBatch), n: req.n, runSeed: seed, step: 0, policyVersion: 0, firstGroup: first },
            opts,
          );
          yield trajectories.map((t) => trajectoryView(t, tokenizer, withReward));
        }
      } finally {
        self.admitted--;
        release();
        self.gate?.leave();
      }
    }
    return { seed, batches: batches() };
  }

  /** Waits for the running request, then frees the engine. */
  async close(): Promise<void> {
    await this.chain;
    const p = this.policy;
    this.policy = undefined;
    if (p) (await p.catch(() => undefined))?.engine.dispose();
  }
}

/** Rollout options of a request, with its response budget checked against (or fitted to) the model's positions. */
function rolloutOptionsFor(req: GenerateRequest, promptLengths: number[], maxPositions: number, field: "prompts" | "tasks"): RolloutOptions {
  const longest = Math.max(...promptLengths);
  const budget = req.max_response_tokens ?? Math.min(1024, maxPositions - longest);
  const errors: FieldError[] = [];
  promptLengths.forEach((len, i) => {
    if (len + Math.max(1, budget) > maxPositions) {
      errors.push({ path: field === "prompts" ? `prompts.${i}` : "tasks", message: `${len} prompt tokens${field === "tasks" ? ` (task ${i})` : ""} + ${Math.max(1, budget)} response tokens exceed the model's ${maxPositions} positions` });
    }
  });
  if (errors.length) throw new HttpProblem(400, "a prompt does not fit the model", errors);
  return resolveRollout({
    n: req.n, max_turns: req.max_turns, max_response_tokens: budget, max_turn_tokens: Math.min(256, budget),
    temperature: req.temperature, top_p: req.top_p,
  });
}

function trajectoryView(t: Trajectory, tokenizer: TextTokenizer, withReward: boolean): GeneratedTrajectory {
  const response = t.tokens.subarray(t.promptLength);
  return {
    prompt_index: t.group,
    sample: t.sample,
    response: response.length ? tokenizer.decode(response, { skipSpecialTokens: true }) : "",
    answer: t.answer,
    turns: t.turns.map((k) => ({ kind: k.kind, ...(k.outcome ? { outcome: k.outcome } : {}), policy_tokens: k.policyTokens, observation_tokens: k.observationTokens })),
    tool_calls: t.toolCalls,
    valid_tool_calls: t.validToolCalls,
    ...(withReward ? { reward: t.reward } : {}),
    truncated: t.truncated,
    void: t.isVoid,
    tokens: response.length,
  };
}

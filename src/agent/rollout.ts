// Multi-turn tool-integrated rollouts (TAO-RL.md §1) over the Engine and a tool runner:
// - each turn generates until the first complete fenced code block, an end-of-sequence token, or the
//   per-turn limit; a code turn's block runs fresh in the sandbox with `final_answer` defined, and the
//   observation `\nCode execution result: …\n` (512-character head+tail cut, then max_obs_tokens) is
//   appended with loss mask 0;
// - a turn with `\boxed{` (or a code turn whose stdout has one) ends the trajectory; a turn with neither
//   code nor an answer is void and ends it; the response budget ends it as truncated;
// - the tokens the policy sampled are the tokens kept: observation text is tokenized, policy text never is.
// All rows of a step decode together, one turn at a time; the tool calls of a turn run concurrently.
import type { RolloutOptions } from "../config.js";
import type { Engine } from "../engine/engine.js";
import { mixSeed, postToolMask, TurnCode } from "../rl/index.js";
import { executeCodeTurn, firstCodeBlock, turnKind, type ToolCall } from "../sandbox/tir.js";
import type { SandboxResult, ToolOutcome, Trajectory, TurnKind, TurnRecord } from "../types.js";
import { extractBoxed, reward as rewardOf, type CheckOptions } from "./answer.js";
import { buildPrompt } from "./prompt.js";

export interface RolloutProblem {
  id: string;
  question: string;
  answer: string;
  check?: CheckOptions;
  /** Source the sandbox runs before each of this problem's code blocks (e.g. the task's data as variables). */
  toolPrelude?: { python?: string; javascript?: string };
}

/** What a rollout needs of a tokenizer. */
export interface RolloutTokenizer {
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
  readonly eosTokenId: number | null;
}

export interface RolloutDeps {
  engine: Engine;
  tokenizer: RolloutTokenizer;
  /** Runs one tool call (e.g. `SandboxPool.run`); never rejects. */
  runTool: (call: ToolCall) => Promise<SandboxResult>;
}

export interface RolloutRequest {
  problems: ReadonlyArray<RolloutProblem>;
  /** Rollouts per problem. */
  n: number;
  runSeed: number;
  step: number;
  policyVersion: number;
  /** Group id of the first problem; problem i gets firstGroup + i. */
  firstGroup?: number;
  /** Evaluation uses eval_max_turns, eval_temperature and eval_top_p. */
  mode?: "train" | "eval";
  postToolWindow?: number;
}

export interface RolloutTimings {
  generateMs: number;
  toolMs: number;
  totalMs: number;
  toolCalls: number;
  generatedTokens: number;
}

export interface RolloutOutput {
  trajectories: Trajectory[];
  timings: RolloutTimings;
}

/** Anything that runs rollouts: `rollout` over local deps, or a pool of rollout workers. */
export type RolloutRunner = (req: RolloutRequest, opts: RolloutOptions) => Promise<RolloutOutput>;

interface Row {
  problem: RolloutProblem;
  traj: { tokens: number[]; mask: number[]; logp: number[]; ent: number[]; turn: number[] };
  turns: TurnRecord[];
  response: string;
  done: boolean;
  truncated: boolean;
  hitMaxTurns: boolean;
  isVoid: boolean;
  group: number;
  sample: number;
  seed: number;
  promptLength: number;
}

const KIND_CODE: Record<TurnKind, number> = { code: TurnCode.CODE, answer: TurnCode.ANSWER, void: TurnCode.VOID };

export async function rollout(deps: RolloutDeps, req: RolloutRequest, opts: RolloutOptions): Promise<RolloutOutput> {
  const { engine, tokenizer } = deps;
  const t0 = performance.now();
  const evalMode = req.mode === "eval";
  const maxTurns = evalMode ? opts.eval_max_turns : opts.max_turns;
  const temperature = evalMode ? opts.eval_temperature : opts.temperature;
  const topP = evalMode ? opts.eval_top_p : opts.top_p;
  const firstGroup = req.firstGroup ?? 0;
  if (!Number.isInteger(req.n) || req.n < 1) throw new RangeError(`rollout: n must be a positive integer, got ${req.n}`);

  const rows: Row[] = [];
  req.problems.forEach((problem, p) => {
    const prompt = tokenizer.encode(buildPrompt(problem.question));
    for (let s = 0; s < req.n; s++) {
      rows.push({
        problem,
        traj: { tokens: [...prompt], mask: prompt.map(() => 0), logp: prompt.map(() => 0), ent: prompt.map(() => 0), turn: prompt.map(() => -1) },
        turns: [], response: "", done: false, truncated: false, hitMaxTurns: false, isVoid: false,
        group: firstGroup + p, sample: s, seed: mixSeed(req.runSeed, req.step, firstGroup + p, s), promptLength: prompt.length,
      });
    }
  });

  const eos = tokenizer.eosTokenId === null ? [] : [tokenizer.eosTokenId];
  // the tokenizer refuses an empty id list
  const decode = (ids: ArrayLike<number>) => (ids.length === 0 ? "" : tokenizer.decode(ids));
  let generateMs = 0, toolMs = 0, toolCalls = 0, generatedTokens = 0;

  for (let turn = 0; turn < maxTurns; turn++) {
    const active = rows.filter((r) => !r.done);
    if (active.length === 0) break;
    // rows whose response budget is spent before they could write a turn are truncated
    const live: Row[] = [];
    for (const r of active) {
      const used = r.traj.tokens.length - r.promptLength;
      if (used >= opts.max_response_tokens) { r.truncated = true; r.done = true; } else live.push(r);
    }
    if (live.length === 0) break;
    const room = (r: Row) => opts.max_response_tokens - (r.traj.tokens.length - r.promptLength);
    const budget = Math.min(opts.max_turn_tokens, Math.max(...live.map(room)));
    const tg = performance.now();
    const gens = await engine.generate!(
      live.map((r) => Int32Array.from(r.traj.tokens)),
      // each row samples from its own stream (its seed, the turn): independent of the batch it decodes in
      { temperature, topP, rowSeeds: live.map((r) => mixSeed(r.seed, turn)), maxNewTokens: Math.max(1, budget) },
      { eosTokenIds: eos, decode, stopWhen: (text) => firstCodeBlock(text) !== null },
    );
    generateMs += performance.now() - tg;

    const pendingTools: Array<Promise<void>> = [];
    const tt = performance.now();
    live.forEach((r, i) => {
      const g = gens[i];
      // a row with less budget left than the turn limit keeps only what fits, and is truncated
      const fits = Math.min(g.tokens.length, room(r));
      const cut = fits < g.tokens.length;
      const ids = Array.from(g.tokens.subarray(0, fits));
      generatedTokens += fits;
      for (let k = 0; k < fits; k++) {
        r.traj.tokens.push(g.tokens[k]);
        r.traj.mask.push(1);
        r.traj.logp.push(g.logp[k]);
        r.traj.ent.push(g.entropy[k]);
        r.traj.turn.push(turn);
      }
      const text = decode(ids.filter((t) => !eos.includes(t)));
      r.response += text;
      const kind = turnKind(text);
      const record: TurnRecord = { kind, policyTokens: fits, observationTokens: 0 };
      r.turns.push(record);
      const spent = room(r) <= 0;
      if (kind === "answer") { r.done = true; return; }
      if (kind === "void") {
        // out of budget mid-turn: truncated; otherwise the turn ended with neither code nor an answer
        if (cut || (spent && g.finishReason === "length")) r.truncated = true; else r.isVoid = true;
        r.done = true;
        return;
      }
      toolCalls++;
      pendingTools.push(
        executeCodeTurn(text, deps.runTool, { limits: { timeoutMs: opts.sandbox_timeout_s * 1000 }, maxObsChars: opts.max_obs_chars, prelude: r.problem.toolPrelude }).then((ct) => {
          const outcome: ToolOutcome = ct!.outcome;
          record.outcome = outcome;
          let obs = tokenizer.encode(ct!.observation).slice(0, opts.max_obs_tokens);
          const left = room(r);
          if (obs.length >= left) { obs = obs.slice(0, Math.max(0, left)); r.truncated = true; r.done = true; }
          record.observationTokens = obs.length;
          for (const id of obs) {
            r.traj.tokens.push(id);
            r.traj.mask.push(0);
            r.traj.logp.push(0);
            r.traj.ent.push(0);
            r.traj.turn.push(turn);
          }
          r.response += decode(obs);
          if (ct!.answered) r.done = true;
        }),
      );
    });
    await Promise.all(pendingTools);
    toolMs += performance.now() - tt;
  }
  for (const r of rows) if (!r.done) { r.done = true; r.hitMaxTurns = true; }

  const trajectories = rows.map((r) => finish(r, req));
  return { trajectories, timings: { generateMs, toolMs, totalMs: performance.now() - t0, toolCalls, generatedTokens } };
}

function finish(r: Row, req: RolloutRequest): Trajectory {
  const L = r.traj.tokens.length;
  const K = Math.max(1, r.turns.length);
  const kind = new Uint8Array(K);
  r.turns.forEach((t, k) => (kind[k] = KIND_CODE[t.kind]));
  const responseMask = Uint8Array.from(r.traj.mask);
  const turnIndex = Int32Array.from(r.traj.turn);
  const g = postToolMask({ B: 1, T: L, K, responseMask, turnIndex, kind }, req.postToolWindow ?? 0);
  const toolCalls = r.turns.filter((t) => t.kind === "code").length;
  const validToolCalls = r.turns.filter((t) => t.outcome === "valid").length;
  return {
    problemId: r.problem.id, group: r.group, sample: r.sample, seed: r.seed, policyVersion: req.policyVersion,
    promptLength: r.promptLength,
    tokens: Int32Array.from(r.traj.tokens), responseMask, samplingLogp: Float32Array.from(r.traj.logp),
    samplingEntropy: Float32Array.from(r.traj.ent), turnIndex, postToolMask: g, turns: r.turns,
    toolCalls, validToolCalls, isVoid: r.isVoid, truncated: r.truncated, hitMaxTurns: r.hitMaxTurns,
    answer: extractBoxed(r.response), reward: rewardOf(r.response, r.problem.answer, r.problem.check), response: r.response,
  };
}

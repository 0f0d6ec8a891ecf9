// Evaluation (TAO-RL.md §6): k samples per problem with the evaluation sampling settings (temperature,
// top-p, eval_max_turns), avg@k and the unbiased pass@k, plus tool statistics.
import type { RolloutOptions } from "../config.js";
import { rollout, type RolloutDeps, type RolloutProblem, type RolloutRunner } from "../agent/rollout.js";
import { evalSummary } from "../rl/index.js";

export interface EvalResult {
  problems: number;
  k: number;
  avg_at_k: number;
  pass_at_k: number;
  tool_calls_per_traj: number;
  valid_exec_rate: number;
  void_rate: number;
  truncation_rate: number;
  response_tokens_mean: number;
  /** Mean entropy of sampled policy tokens, overall and right after tool results. */
  entropy_mean: number;
  entropy_post_tool_mean: number;
  time_ms: number;
}

export interface EvaluateProgress {
  /** Problems per rollout call (default: all at once). The results do not depend on it: every row's
   * sampling stream is seeded by its problem's index. */
  chunk?: number;
  /** Called after each chunk with the problems done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** `deps`: an in-process engine, tokenizer and tool runner, or a rollout runner (rollout workers). */
export async function evaluate(deps: RolloutDeps | RolloutRunner, problems: ReadonlyArray<RolloutProblem>, opts: RolloutOptions, seed: number, k = opts.eval_k, progress: EvaluateProgress = {}): Promise<EvalResult> {
  const t0 = performance.now();
  const run: RolloutRunner = typeof deps === "function" ? deps : (req, o) => rollout(deps, req, o);
  const chunk = Math.max(1, progress.chunk ?? problems.length);
  const trajectories = [];
  for (let first = 0; first < problems.length; first += chunk) {
    const part = problems.slice(first, first + chunk);
    const r = await run({ problems: part, n: k, runSeed: seed, step: 0, policyVersion: 0, mode: "eval", firstGroup: first }, opts);
    trajectories.push(...r.trajectories);
    progress.onProgress?.(first + part.length, problems.length);
  }
  const tally = problems.map(() => ({ n: 0, c: 0 }));
  let calls = 0, valid = 0, voids = 0, trunc = 0, resp = 0, ent = 0, entN = 0, post = 0, postN = 0;
  for (const t of trajectories) {
    const p = tally[t.group];
    p.n++;
    p.c += t.reward >= 0.5 ? 1 : 0;
    calls += t.toolCalls;
    valid += t.validToolCalls;
    voids += t.isVoid ? 1 : 0;
    trunc += t.truncated ? 1 : 0;
    resp += t.tokens.length - t.promptLength;
    for (let i = 0; i < t.tokens.length; i++) {
      if (!t.responseMask[i]) continue;
      ent += t.samplingEntropy[i]; entN++;
      if (t.postToolMask[i]) { post += t.samplingEntropy[i]; postN++; }
    }
  }
  const s = evalSummary(tally, k);
  const B = trajectories.length || 1;
  return {
    problems: problems.length, k, avg_at_k: s.avgAtK, pass_at_k: s.passAtK,
    tool_calls_per_traj: calls / B, valid_exec_rate: calls ? valid / calls : 0, void_rate: voids / B, truncation_rate: trunc / B,
    response_tokens_mean: resp / B, entropy_mean: entN ? ent / entN : 0, entropy_post_tool_mean: postN ? post / postN : 0,
    time_ms: performance.now() - t0,
  };
}

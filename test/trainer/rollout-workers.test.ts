// Rollout workers on real parts: worker threads each with onnxruntime-web, the tokenizer and their own
// sandbox pool run whole multi-turn rollouts; the trajectories equal an in-process rollout's, new
// weights arrive, errors come back as errors, and a training run with 2 workers logs what one without does.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveOptim, resolveRollout, resolveTaoRl } from "../../src/config.js";
import { rollout, type RolloutProblem } from "../../src/agent/rollout.js";
import { OrtWebEngine } from "../../src/engine/ort-web.js";
import { loadModelFolder } from "../../src/model/checkpoint.js";
import type { Weights } from "../../src/model/config.js";
import { resolveHostFile, SandboxPool } from "../../src/sandbox/node.js";
import { RolloutWorkers, shards } from "../../src/trainer/rollout-workers.js";
import { runTraining } from "../../src/trainer/run.js";
import type { TrainSettings } from "../../src/trainer/loop.js";
import type { Trajectory } from "../../src/types.js";
import { makeToolPolicy, question, tasks } from "./tiny-policy.js";

const root = mkdtempSync(join(tmpdir(), "taorl-workers-"));
const pool = new SandboxPool({ javascriptWorkers: 1 });
let model = "";
afterAll(async () => { await pool.close(); rmSync(root, { recursive: true, force: true }); });
beforeAll(async () => { model = await makeToolPolicy(root); }, 120_000);

const opts = resolveRollout({ n: 3, max_turns: 3, max_turn_tokens: 24, max_response_tokens: 64 });
const problems: RolloutProblem[] = Array.from({ length: 5 }, (_, i) => ({ id: `p${i}`, question: question(i), answer: i % 2 ? "2" : "1" }));
const req = { problems, n: 3, runSeed: 5, step: 2, policyVersion: 0, firstGroup: 7 };

function same(a: Trajectory[], b: Trajectory[]): void {
  expect(b.length).toBe(a.length);
  a.forEach((t, i) => {
    const u = b[i];
    expect([u.group, u.sample, u.seed, u.problemId]).toEqual([t.group, t.sample, t.seed, t.problemId]);
    expect(Array.from(u.tokens)).toEqual(Array.from(t.tokens));
    expect(Array.from(u.responseMask)).toEqual(Array.from(t.responseMask));
    expect(Array.from(u.postToolMask)).toEqual(Array.from(t.postToolMask));
    expect(u.turns).toEqual(t.turns);
    expect([u.reward, u.toolCalls, u.validToolCalls, u.isVoid, u.truncated]).toEqual([t.reward, t.toolCalls, t.validToolCalls, t.isVoid, t.truncated]);
    for (let k = 0; k < t.tokens.length; k++) {
      expect(Math.abs(u.samplingLogp[k] - t.samplingLogp[k])).toBeLessThan(1e-4);
      expect(Math.abs(u.samplingEntropy[k] - t.samplingEntropy[k])).toBeLessThan(1e-4);
    }
  });
}

describe("rollout workers", () => {
  it("shards groups contiguously", () => {
    expect(shards(5, 2)).toEqual([[0, 3], [3, 5]]);
    expect(shards(2, 4)).toEqual([[0, 1], [1, 2]]);
    expect(shards(0, 2)).toEqual([]);
  });

  it("2 workers produce the in-process trajectories (tool calls included); new weights arrive; errors come back", async () => {
    const { config, weights, tokenizer } = await loadModelFolder(model);
    const engine = await OrtWebEngine.create(config, { weights, maxPositions: 256, weightsMode: "initializers" });
    const local = await rollout({ engine, tokenizer, runTool: pool.run.bind(pool) }, req, opts);
    const calls = local.trajectories.reduce((n, t) => n + t.toolCalls, 0);
    expect(calls).toBeGreaterThan(5); // the policy uses the tool
    expect(local.trajectories.some((t) => t.reward === 1)).toBe(true);

    const workers = await RolloutWorkers.start(resolveHostFile("agent.worker.mjs"), 2, { config, weights, tokenizer, maxPositions: 256 });
    try {
      expect(workers.size).toBe(2);
      const remote = await workers.rollout(req, opts);
      same(local.trajectories, remote.trajectories);
      expect(remote.timings.toolCalls).toBe(calls);
      expect(remote.timings.generatedTokens).toBe(local.timings.generatedTokens);

      // perturbed weights: the workers now sample what an in-process engine with those weights samples
      const moved: Weights = new Map([...weights].map(([k, t]) => [k, { shape: t.shape, data: t.data.map((x, i) => x + 0.3 * Math.sin(i)) }]));
      await workers.setWeights(moved);
      await engine.setWeights(moved);
      const local2 = await rollout({ engine, tokenizer, runTool: pool.run.bind(pool) }, req, opts);
      const remote2 = await workers.rollout(req, opts);
      same(local2.trajectories, remote2.trajectories);
      expect(local2.trajectories.map((t) => Array.from(t.tokens).join(","))).not.toEqual(local.trajectories.map((t) => Array.from(t.tokens).join(",")));

      // a bad request is an error from the worker, and the workers keep serving
      await expect(workers.rollout({ ...req, n: 0 }, opts)).rejects.toThrow(/n must be a positive integer/);
      same(local2.trajectories, (await workers.rollout(req, opts)).trajectories);
    } finally {
      await workers.close();
      engine.dispose();
    }
    await expect(workers.rollout(req, opts)).rejects.toThrow(/exited/);
  }, 120_000);

  it("a training run with 2 rollout workers logs the metrics of one without", async () => {
    const settings = (): TrainSettings => ({
      runSeed: 3, tasks,
      tao: resolveTaoRl({ batch_prompts: 2, oversample: 1.5 }),
      rollout: resolveRollout({ n: 4, max_turns: 3, max_turn_tokens: 24, max_response_tokens: 64 }),
      optim: resolveOptim({ lr: 1e-3, mini_batch_prompts: 1 }),
    });
    const run = (dir: string, rolloutWorkers: number) => runTraining({
      dir, model, settings: settings(), preset: "tao-rl", steps: 2, checkpointEvery: 2, evalEvery: 2, evalK: 2,
      evalProblems: problems.slice(0, 2), runTool: pool.run.bind(pool), rolloutWorkers,
    });
    await run(join(root, "w0"), 0);
    await run(join(root, "w2"), 2);
    const lines = (dir: string, f: string) => readFileSync(join(dir, f), "utf8").trim().split("\n").map((l) => {
      const m = JSON.parse(l);
      delete m.time_ms; delete m.tokens_per_s;
      return m;
    });
    const a = lines(join(root, "w0"), "metrics.jsonl"), b = lines(join(root, "w2"), "metrics.jsonl");
    expect(a.length).toBe(2);
    expect(a.some((m) => m.rollout.tool_calls_per_traj > 0)).toBe(true);
    expect(b.map((m) => [m.step, m.filter, m.rollout.reward_mean, m.tokens_trained])).toEqual(a.map((m) => [m.step, m.filter, m.rollout.reward_mean, m.tokens_trained]));
    b.forEach((m, i) => { if (a[i].loss) expect(m.loss.loss).toBeCloseTo(a[i].loss.loss, 4); });
    const ea = lines(join(root, "w0"), "eval.jsonl"), eb = lines(join(root, "w2"), "eval.jsonl");
    expect(eb.map((e) => [e.step, e.avg_at_k, e.tool_calls_per_traj])).toEqual(ea.map((e) => [e.step, e.avg_at_k, e.tool_calls_per_traj]));
  }, 240_000);
});

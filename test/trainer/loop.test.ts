// The training loop end to end on real parts: a tiny Llama first taught by SFT to answer \boxed{1} or
// \boxed{2} about equally (so groups have mixed rewards), then TAO-RL steps with onnxruntime-web rollouts,
// the real sandbox pool and tfjs-wasm updates; a run stopped and resumed writes the same metrics.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveOptim, resolveRollout, resolveTaoRl } from "../../src/config.js";
import { SandboxPool } from "../../src/sandbox/node.js";
import { runTraining } from "../../src/trainer/run.js";
import type { TrainSettings } from "../../src/trainer/loop.js";
import { makeTinyPolicy, tasks } from "./tiny-policy.js";

let model = "";
const root = mkdtempSync(join(tmpdir(), "taorl-loop-"));
const pool = new SandboxPool({ javascriptWorkers: 1 });
afterAll(async () => { await pool.close(); rmSync(root, { recursive: true, force: true }); });

beforeAll(async () => { model = await makeTinyPolicy(root); }, 120_000);

const settings = (): TrainSettings => ({
  runSeed: 11,
  tasks,
  tao: resolveTaoRl({ batch_prompts: 2, oversample: 1.5 }),
  rollout: resolveRollout({ n: 4, max_turns: 1, max_turn_tokens: 12, max_response_tokens: 16 }),
  optim: resolveOptim({ lr: 1e-3, mini_batch_prompts: 1 }),
});
const common = (dir: string, steps: number, extra: Partial<Parameters<typeof runTraining>[0]> = {}) => ({
  dir, model, settings: settings(), preset: "tao-rl", steps, checkpointEvery: 1, evalEvery: 0, evalProblems: [], evalK: 1,
  runTool: pool.run.bind(pool), ...extra,
});
const withoutTimes = (line: string) => {
  const m = JSON.parse(line);
  delete m.time_ms;
  delete m.tokens_per_s;
  return m;
};

describe("training loop", () => {
  it("takes TAO-RL steps with mixed groups, updates the policy, and logs every metric", async () => {
    const dir = join(root, "run-a");
    const seen: number[] = [];
    const r = await runTraining(common(dir, 3, { onStep: (m) => seen.push(m.step) }));
    expect(seen).toEqual([1, 2, 3]);
    expect(r.resumed).toBe(false);
    const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3]);
    const trained = lines.filter((l) => !l.skipped);
    expect(trained.length).toBeGreaterThan(0);
    for (const l of trained) {
      expect(l.groups_trained).toBe(2);
      expect(l.loss.loss_tokens).toBeGreaterThan(0);
      expect(l.grad_norm).toBeGreaterThan(0);
      expect(l.filter.groups).toBeGreaterThanOrEqual(3);
      expect(l.rollout.reward_mean).toBeGreaterThan(0);
      expect(l.rollout.reward_mean).toBeLessThan(1);
    }
    expect(lines[2].policy_version).toBe(trained.length);
    expect(Object.keys(lines[0])).toEqual(expect.arrayContaining(["rollout", "filter", "tool_failure_rate", "time_ms", "tokens_per_s", "levels", "refill"]));
  }, 180_000);

  it("a run stopped after step 2 and resumed writes the same metrics as an uninterrupted one", async () => {
    const full = join(root, "run-full");
    await runTraining(common(full, 3));
    const part = join(root, "run-part");
    await runTraining(common(part, 2));
    const resumed = await runTraining(common(part, 3));
    expect(resumed.resumed).toBe(true);
    const a = readFileSync(join(full, "metrics.jsonl"), "utf8").trim().split("\n").map(withoutTimes);
    const b = readFileSync(join(part, "metrics.jsonl"), "utf8").trim().split("\n").map(withoutTimes);
    expect(b).toEqual(a);
    // a different preset or seed in the same folder is refused
    await expect(runTraining({ ...common(part, 4), preset: "grpo" })).rejects.toThrow(/holds a tao-rl run/);
  }, 240_000);
});

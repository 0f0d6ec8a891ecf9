// The embedded default policy (models/default): a Hugging Face folder that loads, writes code over the
// task's `q` through the real sandbox, and solves some held-out problems, not all (room for RL).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { resolveRollout } from "../../src/config.js";
import { rollout } from "../../src/agent/rollout.js";
import { generateTasks, taskProblem } from "../../src/agent/tasks.js";
import { OrtWebEngine } from "../../src/engine/ort-web.js";
import { loadModelFolder } from "../../src/model/checkpoint.js";
import { SandboxPool } from "../../src/sandbox/node.js";

const dir = fileURLToPath(new URL("../../models/default", import.meta.url));
const pool = new SandboxPool({ javascriptWorkers: 1 });
afterAll(() => pool.close());

describe("models/default", () => {
  it("ships config, weights, tokenizer and its pretraining record", () => {
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json", "README.md", "pretrain-eval.json", "pretrain.jsonl"]) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
  });

  it("writes python over q, runs it in the sandbox, and solves some held-out problems but not all", async () => {
    const { config, weights, tokenizer } = await loadModelFolder(dir);
    expect(config.numLayers).toBe(2);
    const engine = await OrtWebEngine.create(config, { weights, maxPositions: 1024, weightsMode: "initializers" });
    try {
      const problems = generateTasks(77, "test", 12, 2).map(taskProblem);
      const { trajectories } = await rollout({ engine, tokenizer, runTool: pool.run.bind(pool) }, { problems, n: 2, runSeed: 3, step: 0, policyVersion: 0 },
        resolveRollout({ max_turns: 3, max_response_tokens: 256, sandbox_timeout_s: 1 }));
      expect(trajectories.length).toBe(24);
      const calls = trajectories.reduce((a, t) => a + t.toolCalls, 0);
      const valid = trajectories.reduce((a, t) => a + t.validToolCalls, 0);
      const solved = trajectories.filter((t) => t.reward === 1).length;
      expect(calls).toBeGreaterThanOrEqual(20);
      expect(valid / calls).toBeGreaterThan(0.5);
      expect(solved).toBeGreaterThan(4);
      expect(solved).toBeLessThan(24);
      const text = tokenizer.decode(Array.from(trajectories[0].tokens.subarray(trajectories[0].promptLength)));
      expect(text).toMatch(/```python\n[^]*q\[\d\][^]*\n```/);
    } finally {
      engine.dispose();
    }
  }, 120_000);
});

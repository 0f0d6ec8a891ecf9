// One real TAO-RL update of the embedded default policy, written down so that another engine can redo it:
// test/fixtures/hf-step/default-policy.json holds rollouts of models/default on task problems (tokens,
// masks, rewards, tool outcomes, sampling log-probs) and what taorl computes from them: tfjs-wasm
// log-probs and entropies, the filter, GRPO advantages, the entropy-shaped clipped loss, its surrogate
// coefficients, and the gradient norm of the update. gpu/tests/test_hf_step.py loads the same checkpoint
// with Hugging Face transformers (on CPU or CUDA) and must reproduce every number with taorl_verl.
//
// This test recomputes the fixture from its rollouts with today's code and the committed checkpoint, so
// the fixture can never go stale silently. To rewrite it (new rollouts through onnxruntime-web and the
// Pyodide sandbox): TAORL_WRITE_HF_STEP=1 npx vitest run test/gpu/hf-step.test.ts
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { resolveRollout, resolveTaoRl } from "../../src/config.js";
import { rollout } from "../../src/agent/rollout.js";
import { generateTasks, taskProblem } from "../../src/agent/tasks.js";
import { loadTrainer } from "../../src/engine/checkpoint.js";
import { OrtWebEngine } from "../../src/engine/ort-web.js";
import { loadModelFolder } from "../../src/model/checkpoint.js";
import { computeAdvantages, filterBatch, policyLoss, reasonNames, seededRandom } from "../../src/rl/index.js";
import { SandboxPool } from "../../src/sandbox/node.js";
import { packTrajectories } from "../../src/trainer/loop.js";
import type { Trajectory } from "../../src/types.js";

const modelDir = fileURLToPath(new URL("../../models/default", import.meta.url));
const fixture = fileURLToPath(new URL("../fixtures/hf-step/default-policy.json", import.meta.url));
const TEMPERATURE = 1;
/** Old log-probs = sampling log-probs + uniform noise of this size, so every clip branch occurs. */
const OLD_LOGP_NOISE = 0.4;

interface Row {
  tokens: number[]; response_mask: number[]; post_tool_mask: number[]; sampling_logp: number[]; old_logp: number[];
  group: number; reward: number; tool_calls: number; valid_tool_calls: number; void: boolean; truncated: boolean;
}
interface Fixture {
  about: string;
  model: { folder: string; safetensors_sha256: string };
  temperature: number;
  options: "TAO-RL.md defaults";
  rows: Row[];
  expected: {
    B: number; T: number; logp: number[]; entropy: number[]; loss_mask: number[]; reasons: string[][];
    group_kept: number[]; advantage: number[]; shaped_advantage: number[]; loss: number; w: number[]; v: number[];
    metrics: Record<string, number>; surrogate: number; grad_norm: number;
  };
}

const sha256 = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
const round = (x: number) => Number(x.toPrecision(9));
const list = (a: ArrayLike<number>) => Array.from(a, round);

async function sampleRows(): Promise<Row[]> {
  const { config, weights, tokenizer } = await loadModelFolder(modelDir);
  const engine = await OrtWebEngine.create(config, { weights, maxPositions: 1024, weightsMode: "initializers" });
  const pool = new SandboxPool({ javascriptWorkers: 1 });
  try {
    // low levels, and the first seed whose groups are partly mixed (kept) and partly uniform (dropped),
    // with post-tool tokens (a turn after a tool result) among the kept rows, so the bonus acts
    const problems = [1, 1, 2, 2, 4, 8, 16].flatMap((level, i) => generateTasks(500 + i, "train", 1, level)).map(taskProblem);
    let trajectories: Trajectory[] = [];
    for (let runSeed = 11; ; runSeed++) {
      ({ trajectories } = await rollout({ engine, tokenizer, runTool: pool.run.bind(pool) },
        { problems, n: 4, runSeed, step: 0, policyVersion: 0 },
        resolveRollout({ max_turns: 3, max_response_tokens: 256, sandbox_timeout_s: 1, temperature: TEMPERATURE })));
      const { batch } = packTrajectories(trajectories);
      const f = filterBatch(batch, resolveTaoRl({}));
      const bonusTokens = f.lossMask.reduce((n, m, i) => n + (m > 0 && batch.postToolMask[i] ? 1 : 0), 0);
      if (f.counts.groupsKept >= 2 && f.counts.groupsKept < problems.length && bonusTokens >= 10) break;
      if (runSeed > 80) throw new Error("no seed in 11-80 gives a batch with kept and dropped groups and post-tool tokens");
    }
    const rand = seededRandom(0x4f1d);
    return trajectories.map((t: Trajectory) => ({
      tokens: Array.from(t.tokens), response_mask: Array.from(t.responseMask), post_tool_mask: Array.from(t.postToolMask),
      sampling_logp: list(t.samplingLogp),
      old_logp: Array.from(t.samplingLogp, (x, i) => (t.responseMask[i] ? round(x + OLD_LOGP_NOISE * (2 * rand() - 1)) : 0)),
      group: t.group, reward: t.reward, tool_calls: t.toolCalls, valid_tool_calls: t.validToolCalls, void: t.isVoid, truncated: t.truncated,
    }));
  } finally {
    engine.dispose();
    await pool.close();
  }
}

/** What taorl computes from the rows: the same path as trainStep's update of one mini-batch. */
async function compute(rows: Row[]): Promise<Fixture["expected"]> {
  const trajs = rows.map((r) => ({
    tokens: Int32Array.from(r.tokens), responseMask: Uint8Array.from(r.response_mask), postToolMask: Uint8Array.from(r.post_tool_mask),
    samplingLogp: Float32Array.from(r.old_logp), group: r.group, reward: r.reward, toolCalls: r.tool_calls,
    validToolCalls: r.valid_tool_calls, isVoid: r.void, truncated: r.truncated,
  })) as unknown as Trajectory[];
  const { batch, tokens } = packTrajectories(trajs);
  const tao = resolveTaoRl({});
  const filter = filterBatch(batch, tao);
  const advantage = computeAdvantages(batch, tao, filter.stats);
  const trainer = await loadTrainer(modelDir, { optim: { lr: 1e-6 } });
  try {
    const tokenBatch = { B: batch.B, T: batch.T, tokens };
    const scored = await trainer.score(tokenBatch, { temperature: TEMPERATURE });
    const loss = policyLoss({ batch: { ...batch, logp: scored.logp, entropy: scored.entropy }, advantage, lossMask: filter.lossMask }, tao);
    const step = await trainer.step(tokenBatch, { w: loss.w, v: loss.v }, { temperature: TEMPERATURE });
    return {
      B: batch.B, T: batch.T, logp: list(scored.logp), entropy: list(scored.entropy), loss_mask: list(filter.lossMask),
      reasons: Array.from(filter.reasons, (bits) => reasonNames(bits)), group_kept: Array.from(filter.groupKept),
      advantage: list(advantage), shaped_advantage: list(loss.shaped), loss: round(loss.loss), w: list(loss.w), v: list(loss.v),
      // snake_case keys, as taorl_verl names them
      metrics: Object.fromEntries(Object.entries({ ...filter.counts, ...loss.metrics })
        .map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), round(v as number)])),
      surrogate: round(step.surrogate), grad_norm: round(step.gradNorm),
    };
  } finally {
    trainer.dispose();
  }
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  expect(worst, what).toBeLessThanOrEqual(tol);
}

describe("the HF-step fixture (one TAO-RL update of models/default, redone by gpu/tests/test_hf_step.py)", () => {
  if (process.env.TAORL_WRITE_HF_STEP === "1") {
    it("writes the fixture from new rollouts", async () => {
      const rows = await sampleRows();
      const expected = await compute(rows);
      const f: Fixture = {
        about: "One TAO-RL update of models/default (test/gpu/hf-step.test.ts writes and checks it; gpu/tests/test_hf_step.py redoes it with transformers + taorl_verl)",
        model: { folder: "models/default", safetensors_sha256: sha256(`${modelDir}/model.safetensors`) },
        temperature: TEMPERATURE, options: "TAO-RL.md defaults", rows, expected,
      };
      mkdirSync(dirname(fixture), { recursive: true });
      writeFileSync(fixture, JSON.stringify(f) + "\n");
    }, 300_000);
    return;
  }

  it("is for the committed checkpoint and covers the cases that matter", () => {
    expect(existsSync(fixture), "run TAORL_WRITE_HF_STEP=1 npx vitest run test/gpu/hf-step.test.ts").toBe(true);
    const f = JSON.parse(readFileSync(fixture, "utf8")) as Fixture;
    expect(f.model.safetensors_sha256, "models/default changed: rewrite the fixture").toBe(sha256(`${modelDir}/model.safetensors`));
    const m = f.expected.metrics;
    expect(m.groups_kept).toBeGreaterThan(0);
    expect(m.groups_kept).toBeLessThan(m.groups);
    expect(m.loss_tokens).toBeGreaterThan(100);
    expect(m.bonus_tokens).toBeGreaterThan(0);
    expect(m.clipfrac_low + m.clipfrac_high).toBeGreaterThan(0);
    expect(f.rows.some((r) => r.tool_calls > r.valid_tool_calls)).toBe(true);
    expect(f.expected.grad_norm).toBeGreaterThan(0);
  });

  it("is what taorl computes today from its rollouts", async () => {
    const f = JSON.parse(readFileSync(fixture, "utf8")) as Fixture;
    const got = await compute(f.rows);
    const e = f.expected;
    expect([got.B, got.T]).toEqual([e.B, e.T]);
    expect(got.reasons).toEqual(e.reasons);
    expect(got.group_kept).toEqual(e.group_kept);
    expectClose(got.loss_mask, e.loss_mask, 0, "loss_mask");
    expectClose(got.logp, e.logp, 1e-6, "logp");
    expectClose(got.entropy, e.entropy, 1e-6, "entropy");
    expectClose(got.advantage, e.advantage, 1e-7, "advantage");
    expectClose(got.w, e.w, 1e-6, "w");
    expectClose([got.loss, got.surrogate, got.grad_norm], [e.loss, e.surrogate, e.grad_norm], 1e-5, "loss, surrogate, grad_norm");
  }, 120_000);
});

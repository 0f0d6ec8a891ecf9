// bench/e2e: whole TAO-RL steps on the default policy (real rollouts with tool calls in the sandbox,
// filters, advantages, bonus, tfjs-wasm updates, weights back to the rollout engine), with rollouts in
// this thread and in 1 and 2 rollout workers. Per setting: trained tokens/s and sequences/s, the share of
// step time spent generating, running tools and updating, and each stage's achieved rate against its
// engine's peak measured in the same run on the same model:
// - generation: sampled tokens per second of generation time vs onnxruntime-web decoding 16 rows × 128
//   tokens with no stops (its best case);
// - update: sequence slots (rows × padded length, score + step) per second vs one tfjs-wasm step on
//   16 × 128 slots (the update also scores, so ~0.6-0.7 of peak is its ceiling).
// Every setting starts from the same weights and seed, so its steps produce the same trajectories (the
// rollout-worker test proves it) and only the timings differ.
// Usage: node dist/node/bench-e2e.mjs [--model models/default] [--steps 3] [--workers 0,1,2]
//        [--preset grpo] [--out bench/results/e2e.json]
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { PRESETS, resolveOptim, resolveRollout, resolveTaoRl } from "../src/config.js";
import { buildPrompt } from "../src/agent/prompt.js";
import { generateTasks, taskProblem } from "../src/agent/tasks.js";
import { OrtWebEngine } from "../src/engine/ort-web.js";
import { loadTrainer } from "../src/engine/checkpoint.js";
import { loadTokenizer } from "../src/model/checkpoint.js";
import { resolveHostFile, SandboxPool } from "../src/sandbox/node.js";
import { initialState, trainStep, type StepMetrics, type TrainSettings } from "../src/trainer/loop.js";
import { RolloutWorkers } from "../src/trainer/rollout-workers.js";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const model = arg("model", join(root, "models", "default"));
const steps = Number(arg("steps", "3"));
const workerCounts = arg("workers", "0,1,2").split(",").map(Number);
const preset = arg("preset", "grpo");
const out = arg("out", join(root, "bench", "results", "e2e.json"));

const settings = (): TrainSettings => ({
  runSeed: 1,
  tao: resolveTaoRl({ ...PRESETS[preset], batch_prompts: 4, oversample: 1 }),
  rollout: resolveRollout({ n: 4, max_turns: 3, max_response_tokens: 256 }),
  optim: resolveOptim({ lr: 1e-4, mini_batch_prompts: 4 }),
  microBatch: 8,
});

async function peaks(): Promise<{ decode_tok_s: number; train_slots_s: number }> {
  const trainer = await loadTrainer(model, { optim: settings().optim });
  const tok = await loadTokenizer(model);
  const weights = await trainer.weights();
  const policy = await OrtWebEngine.create(trainer.config, { weights, maxPositions: 1024, weightsMode: "initializers" });
  const prompts = generateTasks(9, "test", 16, 1).map((t) => Int32Array.from(tok.encode(buildPrompt(taskProblem(t).question))));
  await policy.generate!(prompts, { temperature: 1, seed: 0, maxNewTokens: 8 });
  let t = performance.now();
  const gens = await policy.generate!(prompts, { temperature: 1, seed: 1, maxNewTokens: 128 });
  const decode = gens.reduce((n, g) => n + g.tokens.length, 0) / ((performance.now() - t) / 1000);
  const B = 16, T = 128, tokens = new Int32Array(B * T).map((_, i) => prompts[Math.floor(i / T)][i % T % prompts[0].length]);
  const w = new Float32Array(B * T).fill(-1 / (B * T)), v = new Float32Array(B * T);
  await trainer.step({ B, T, tokens }, { w, v }, { microBatch: 8 });
  t = performance.now();
  for (let i = 0; i < 2; i++) await trainer.step({ B, T, tokens }, { w, v }, { microBatch: 8 });
  const train = (2 * B * T) / ((performance.now() - t) / 1000);
  policy.dispose();
  trainer.dispose();
  return { decode_tok_s: decode, train_slots_s: train };
}

async function measure(workers: number): Promise<StepMetrics[]> {
  const s = settings();
  const trainer = await loadTrainer(model, { optim: s.optim });
  const tokenizer = await loadTokenizer(model);
  const pool = new SandboxPool({ javascriptWorkers: 1 });
  const weights = await trainer.weights();
  const rw = workers > 0 ? await RolloutWorkers.start(resolveHostFile("agent.worker.mjs"), workers, { config: trainer.config, weights, tokenizer, maxPositions: 1024 }) : undefined;
  const policy = rw ? undefined : await OrtWebEngine.create(trainer.config, { weights, maxPositions: 1024, weightsMode: "initializers" });
  const state = initialState();
  const out: StepMetrics[] = [];
  try {
    for (let i = 0; i <= steps; i++) {
      const m = await trainStep({ trainer, policy, rollouts: rw, tokenizer, runTool: pool.run.bind(pool) }, s, state);
      process.stderr.write(`  workers ${workers}, step ${i}${i === 0 ? " (warm-up)" : ""}: ${(m.time_ms.total / 1000).toFixed(1)} s\n`);
      if (i > 0) out.push(m);
    }
  } finally {
    policy?.dispose();
    await rw?.close();
    trainer.dispose();
    await pool.close();
  }
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(join(model, "config.json"))) throw new Error(`bench-e2e: ${model} has no config.json (run \`taorl pretrain\` or pass --model)`);
  const loadBefore = loadavg();
  process.stderr.write("peaks (same model, this run)...\n");
  const peak = await peaks();
  const rows = [];
  for (const w of workerCounts) {
    const ms = await measure(w);
    const sum = (f: (m: StepMetrics) => number) => ms.reduce((a, m) => a + f(m), 0);
    const total = sum((m) => m.time_ms.total) / 1000;
    const gen = sum((m) => m.time_ms.generate) / 1000, tool = sum((m) => m.time_ms.tool) / 1000, upd = sum((m) => m.time_ms.update) / 1000;
    const genRate = gen > 0 ? sum((m) => m.tokens_generated) / gen : 0;
    const updRate = upd > 0 ? sum((m) => m.tokens_updated) / upd : 0;
    rows.push({
      rollout_workers: w, steps: ms.length, step_s: total / ms.length,
      trained_tokens_s: sum((m) => m.tokens_trained) / total,
      sequences_s: sum((m) => m.gen_rounds * Math.round(settings().tao.batchPrompts * settings().tao.oversample) * settings().rollout.n) / total,
      share: { generate: gen / total, tool: tool / total, update: upd / total, other: Math.max(0, 1 - (gen + tool + upd) / total) },
      generate_tok_s: genRate, generate_vs_peak: genRate / peak.decode_tok_s,
      update_slots_s: updRate, update_vs_peak: updRate / peak.train_slots_s,
      tool_calls_per_step: sum((m) => m.rollout.tool_calls_per_traj * m.gen_rounds * Math.round(settings().tao.batchPrompts * settings().tao.oversample) * settings().rollout.n) / ms.length,
      reward_mean: sum((m) => m.rollout.reward_mean) / ms.length,
    });
  }
  const f = (x: number, d = 2) => x.toFixed(d);
  console.log(`\nbench/e2e: ${preset} steps on ${model.replace(root + "/", "")} (batch 4 prompts × n 4, ≤3 turns, ≤256 response tokens), ${steps} measured steps after 1 warm-up`);
  console.log(`peaks on this model: onnxruntime-web decode ${f(peak.decode_tok_s, 0)} tok/s (16 rows × 128, no stops); tfjs-wasm step ${f(peak.train_slots_s, 0)} slots/s (16 × 128)\n`);
  console.log("| rollout workers | s / step | trained tok/s | seqs/s | generate | tools | update | other | gen tok/s (vs peak) | update slots/s (vs peak) | tool calls / step |");
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.rollout_workers === 0 ? "0 (main thread)" : r.rollout_workers} | ${f(r.step_s)} | ${f(r.trained_tokens_s, 0)} | ${f(r.sequences_s)} | ${f(100 * r.share.generate, 0)}% | ${f(100 * r.share.tool, 0)}% | ${f(100 * r.share.update, 0)}% | ${f(100 * r.share.other, 0)}% | ` +
      `${f(r.generate_tok_s, 0)} (${f(r.generate_vs_peak)}×) | ${f(r.update_slots_s, 0)} (${f(r.update_vs_peak)}×) | ${f(r.tool_calls_per_step, 1)} |`);
  }
  const slowest = rows.map((r) => {
    const s = Object.entries(r.share).filter(([k]) => k !== "other").sort((a, b) => b[1] - a[1])[0];
    return `${r.rollout_workers} workers: ${s[0]} (${f(100 * s[1], 0)}%)`;
  });
  console.log(`\nslowest stage: ${slowest.join("; ")}`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ node: process.version, cores: availableParallelism(), load_before: loadBefore, load_after: loadavg(), model: model.replace(root + "/", ""), preset, steps, peak, rows }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});

// `taorl evaluate`: a model folder's policy on held-out problems, through real tool-integrated rollouts
// (onnxruntime-web generation, the sandbox pool): avg@k, pass@k and tool statistics (TAO-RL.md §6).
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCHMARK_NAMES, type BenchmarkName } from "../agent/benchmark-records.js";
import { resolveRollout } from "../config.js";
import { OrtWebEngine } from "../engine/ort-web.js";
import { loadModelFolder } from "../model/checkpoint.js";
import { SandboxPool } from "../sandbox/node.js";
import { evaluate, type EvalResult } from "../trainer/evaluate.js";
import { UsageError, parseArgs } from "./args.js";
import { BenchmarksMissingError, evaluationProblems } from "./eval-problems.js";
import { ProgressBar } from "./progress.js";
import { asUsageError } from "./score.js";

export const EVALUATE_USAGE = `taorl evaluate [--model models/default] [--split test|ood | --benchmark NAME] [--problems 32] [--k 4]
               [--level N] [--seed 0] [--config cfg.json] [--out results.json]

  k tool-integrated rollouts per problem with the evaluation sampling settings (eval_temperature,
  eval_top_p, eval_max_turns; --config {"rollout": {...}} changes them), then avg@k, the unbiased pass@k,
  tool calls, valid-execution, void and truncation rates, response length and entropies. Problems: the
  task family's test split, its ood split (held-out templates), or --problems records drawn (seeded) from
  a benchmark file of ../shared/benchmarks/ (or $TAORL_BENCHMARKS): ${BENCHMARK_NAMES.join(", ")}.`;

export interface EvaluateCliResult extends EvalResult {
  model: string;
  problem_set: string;
  seed: number;
}

export async function runEvaluateCli(argv: readonly string[], io: { stdout: (s: string) => void; stderr: (s: string) => void; tty?: boolean }, root: string): Promise<EvaluateCliResult> {
  const { opts, rest } = parseArgs(argv, { values: ["model", "split", "benchmark", "problems", "k", "level", "seed", "config", "out"], flags: [] });
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}\n${EVALUATE_USAGE}`);
  const int = (name: string, dflt: number | undefined, min: number, max: number): number | undefined => {
    if (opts[name] === undefined) return dflt;
    const v = Number(opts[name]);
    if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name}: expected an integer in ${min}-${max}, got ${opts[name]}`);
    return v;
  };
  const problems = int("problems", 32, 1, 100_000)!, k = int("k", 4, 1, 64)!, seed = int("seed", 0, 0, 2 ** 31 - 1)!, level = int("level", undefined, 1, 8);
  const split = opts.split ?? "test";
  if (split !== "test" && split !== "ood") throw new UsageError(`--split: expected test or ood, got ${JSON.stringify(split)}`);
  const benchmark = opts.benchmark as BenchmarkName | undefined;
  if (benchmark !== undefined) {
    if (!(BENCHMARK_NAMES as string[]).includes(benchmark)) throw new UsageError(`--benchmark: unknown ${JSON.stringify(benchmark)} (known: ${BENCHMARK_NAMES.join(", ")})`);
    if (opts.split !== undefined || level !== undefined) throw new UsageError("--split and --level choose task-family problems; they do not go with --benchmark");
  }
  const model = opts.model ?? join(root, "models", "default");
  if (!existsSync(join(model, "config.json"))) throw new UsageError(`--model ${model}: no config.json (expected a Hugging Face model folder)`);
  let rollout;
  try {
    const cfg = opts.config ? (JSON.parse(readFileSync(opts.config, "utf8")) as { rollout?: unknown }) : {};
    const extra = Object.keys(cfg).filter((key) => key !== "rollout");
    if (extra.length) throw new Error(`unknown section(s) ${extra.join(", ")} (expected rollout)`);
    rollout = resolveRollout(cfg.rollout ?? {});
  } catch (e) {
    throw new UsageError(`--config ${opts.config}: ${(e as Error).message}`);
  }
  let set;
  try {
    set = evaluationProblems({ seed, problems, level, split, benchmark });
  } catch (e) {
    if (e instanceof BenchmarksMissingError) throw new UsageError(e.message);
    throw e;
  }
  const problemSet = benchmark ?? `task family, ${split} split${level === undefined ? "" : `, level ${level}`}`;

  const { config, weights, tokenizer } = await loadModelFolder(model).catch(asUsageError);
  const engine = await OrtWebEngine.create(config, { weights, maxPositions: Math.min(config.maxPositionEmbeddings, 2048), weightsMode: "initializers" });
  const pool = new SandboxPool({ javascriptWorkers: 1 });
  const bar = new ProgressBar(set.length, io.stderr, io.tty ?? false);
  try {
    io.stdout(`taorl evaluate: ${model} on ${set.length} problems (${problemSet}), k = ${k}, seed ${seed}\n`);
    const t0 = Date.now();
    const res = await evaluate({ engine, tokenizer, runTool: pool.run.bind(pool) }, set, rollout, seed, k, {
      chunk: 8,
      onProgress: (done, total) => bar.update(done, `${done * k} of ${total * k} rollouts, ${((Date.now() - t0) / 1000).toFixed(0)} s`),
    });
    bar.done();
    const out: EvaluateCliResult = { model, problem_set: problemSet, seed, ...res };
    const rows: Array<[string, string]> = [
      [`avg@${k}`, res.avg_at_k.toFixed(3)], [`pass@${k}`, res.pass_at_k.toFixed(3)],
      ["tool calls / trajectory", res.tool_calls_per_traj.toFixed(2)], ["valid executions", res.valid_exec_rate.toFixed(3)],
      ["void rate", res.void_rate.toFixed(3)], ["truncation rate", res.truncation_rate.toFixed(3)],
      ["response tokens (mean)", res.response_tokens_mean.toFixed(1)], ["entropy (mean)", res.entropy_mean.toFixed(3)],
      ["entropy after tool results", res.entropy_post_tool_mean.toFixed(3)], ["time", `${(res.time_ms / 1000).toFixed(1)} s`],
    ];
    const w = Math.max(...rows.map(([name]) => name.length));
    io.stdout(rows.map(([name, v]) => `  ${name.padEnd(w)}  ${v}`).join("\n") + "\n");
    if (opts.out) {
      const tmp = `${opts.out}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(out, null, 2) + "\n");
      renameSync(tmp, opts.out);
      io.stdout(`wrote ${opts.out}\n`);
    }
    return out;
  } finally {
    engine.dispose();
    await pool.close();
  }
}

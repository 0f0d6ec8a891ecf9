// `taorl export verl`: the task family and the benchmarks as parquet files in verl's RL dataset schema,
// for the recipe in gpu/recipe/ (README "Scale out on verl"). `taorl export onnx`: a model folder as a
// standalone .onnx file (weights as initializers, standard ops) that any ONNX runtime loads.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CheckOptions } from "../agent/answer.js";
import { BENCHMARK_NAMES, BENCHMARKS, benchmarksAvailable, findBenchmarksDir, loadBenchmark, type BenchmarkName } from "../agent/benchmarks.js";
import { TOOL_INSTRUCTION } from "../agent/prompt.js";
import { generateTasks, taskProblem, type TaskSplit } from "../agent/tasks.js";
import { UsageError, parseArgs } from "./args.js";
import { writeVerlParquet, type VerlRow } from "./parquet.js";
import { exportOnnx } from "../engine/onnx-graph.js";
import { loadCheckpoint } from "../model/checkpoint.js";
import { asUsageError } from "./score.js";

export const EXPORT_USAGE = `taorl export verl --out DIR [--task-count 4096] [--seed 0] [--benchmarks all|none|NAME,NAME]
  writes verl RL-dataset parquet files (prompt as chat messages, data_source, ability, reward_model,
  extra_info with split, index, tool_prelude and answer-check options, agent_name taorl_tir):
  task_train.parquet (--task-count rows), task_test.parquet and task_ood.parquet (an eighth as many),
  and <benchmark>.parquet for each benchmark found in ../shared/benchmarks/ (or $TAORL_BENCHMARKS)`;

export const EXPORT_ONNX_USAGE = `taorl export onnx --model DIR --out FILE.onnx [--kind score|decode] [--max-positions N] [--ort-ops]
  writes the model folder's policy as one .onnx file with the weights as initializers:
  score (default): input_ids, targets [B,S] int64, temperature [1] → logits [B,S,V], logp and entropy [B,S];
  decode: input_ids, position_ids [B,S], key_mask [B,P+S], temperature, past_key_l / past_value_l
  [P,B,KV,dh] → logprobs [B,V] and entropy [B] of the last position, new_key_l / new_value_l [S,B,KV,dh].
  Standard opset-17 ops only; --ort-ops uses onnxruntime's RMSNorm and rotary ops instead (faster there,
  what taorl's own engine runs). --max-positions: longest sequence the graph accepts (default: the
  config's max_position_embeddings, at most 4096)`;

/** `taorl export onnx`: returns the file written. */
export async function runExportOnnx(argv: readonly string[], io: { stdout: (s: string) => void }): Promise<string> {
  const { opts, rest } = parseArgs(argv, { values: ["model", "out", "kind", "max-positions"], flags: ["ort-ops"] });
  if (rest[0] !== "onnx" || rest.length !== 1) throw new UsageError(`expected "export onnx"\n${EXPORT_ONNX_USAGE}`);
  if (!opts.model || !opts.out) throw new UsageError(`--model DIR and --out FILE are required\n${EXPORT_ONNX_USAGE}`);
  const kind = opts.kind ?? "score";
  if (kind !== "score" && kind !== "decode") throw new UsageError(`--kind: expected score or decode, got ${JSON.stringify(kind)}`);
  const { config, weights } = await loadCheckpoint(opts.model).catch(asUsageError);
  const maxPositions = opts["max-positions"] === undefined ? Math.min(config.maxPositionEmbeddings, 4096) : Number(opts["max-positions"]);
  if (!Number.isInteger(maxPositions) || maxPositions < 1 || maxPositions > 65536) throw new UsageError(`--max-positions: expected an integer in 1-65536, got ${opts["max-positions"]}`);
  const bytes = exportOnnx(config, weights, kind, maxPositions, !opts["ort-ops"]);
  const tmp = `${opts.out}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, opts.out);
  io.stdout(`${opts.out}: ${kind} graph of ${opts.model} (${config.modelType}, ${config.numLayers} layers, ${maxPositions} positions, ${opts["ort-ops"] ? "onnxruntime ops" : "standard ops"}), ${(bytes.length / 1048576).toFixed(1)} MiB\n`);
  return opts.out;
}

export const AGENT_NAME = "taorl_tir";

function row(source: string, split: string, index: number, id: string, question: string, answer: string, toolPrelude: string, check: CheckOptions): VerlRow {
  return {
    data_source: source,
    prompt: [{ role: "user", content: `${question}\n${TOOL_INSTRUCTION}` }],
    ability: "math",
    reward_model: { style: "rule", ground_truth: answer },
    agent_name: AGENT_NAME,
    extra_info: {
      split, index, id, question, tool_prelude: toolPrelude,
      check: { relTol: check.relTol ?? null, unordered: check.unordered ?? null, sigFigs: check.sigFigs ?? null, absTol: check.absTol ?? null },
    },
  };
}

/** Runs the command; returns the files written and what was skipped. */
export function runExport(argv: readonly string[], io: { stdout: (s: string) => void }): { files: string[]; skipped: string[] } {
  const { opts, rest } = parseArgs(argv, { values: ["out", "task-count", "seed", "benchmarks"], flags: [] });
  if (rest[0] !== "verl" || rest.length !== 1) throw new UsageError(`expected "export verl"\n${EXPORT_USAGE}`);
  if (!opts.out) throw new UsageError(`--out DIR is required\n${EXPORT_USAGE}`);
  const count = Number(opts["task-count"] ?? 4096);
  const seed = Number(opts.seed ?? 0);
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`--task-count: expected a positive integer, got ${opts["task-count"]}`);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed: expected a non-negative integer, got ${opts.seed}`);
  const which = opts.benchmarks ?? "all";
  const names: BenchmarkName[] = which === "all" ? BENCHMARK_NAMES : which === "none" ? [] : which.split(",").map((n) => {
    if (!(BENCHMARK_NAMES as string[]).includes(n)) throw new UsageError(`--benchmarks: unknown ${JSON.stringify(n)} (known: ${BENCHMARK_NAMES.join(", ")})`);
    return n as BenchmarkName;
  });
  mkdirSync(opts.out, { recursive: true });
  const files: string[] = [];
  const skipped: string[] = [];
  const write = (name: string, rows: VerlRow[]) => {
    const file = join(opts.out!, `${name}.parquet`);
    writeVerlParquet(file, rows);
    files.push(file);
    io.stdout(`${file}: ${rows.length} rows\n`);
  };
  const splits: Array<[TaskSplit, number]> = [["train", count], ["test", Math.ceil(count / 8)], ["ood", Math.ceil(count / 8)]];
  for (const [split, n] of splits) {
    write(`task_${split}`, generateTasks(seed, split, n).map((t, i) => {
      const p = taskProblem(t);
      return row("taorl_tasks", split, i, p.id, p.question, p.answer, p.toolPrelude.python, {});
    }));
  }
  if (names.length > 0 && !benchmarksAvailable()) {
    skipped.push(...names);
    io.stdout(`benchmarks skipped (${names.join(", ")}): folder not found; only the task family was exported\n`);
  } else if (names.length > 0) {
    const dir = findBenchmarksDir();
    for (const name of names) {
      const split = BENCHMARKS[name].trainingAllowed ? "train" : "test";
      write(name, loadBenchmark(name, dir).map((r, i) => row(name, split, i, r.id, r.question, r.answer, "", r.check)));
    }
  }
  return { files, skipped };
}

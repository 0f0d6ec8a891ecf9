// `taorl export verl`: the task family and the benchmarks as parquet files in verl's RL dataset schema,
// for the recipe in gpu/recipe/ (README "Scale out on verl").
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { CheckOptions } from "../agent/answer.js";
import { BENCHMARK_NAMES, BENCHMARKS, benchmarksAvailable, findBenchmarksDir, loadBenchmark, type BenchmarkName } from "../agent/benchmarks.js";
import { TOOL_INSTRUCTION } from "../agent/prompt.js";
import { generateTasks, taskProblem, type TaskSplit } from "../agent/tasks.js";
import { UsageError, parseArgs } from "./args.js";
import { writeVerlParquet, type VerlRow } from "./parquet.js";

export const EXPORT_USAGE = `taorl export verl --out DIR [--task-count 4096] [--seed 0] [--benchmarks all|none|NAME,NAME]
  writes verl RL-dataset parquet files (prompt as chat messages, data_source, ability, reward_model,
  extra_info with split, index, tool_prelude and answer-check options, agent_name taorl_tir):
  task_train.parquet (--task-count rows), task_test.parquet and task_ood.parquet (an eighth as many),
  and <benchmark>.parquet for each benchmark found in ../shared/benchmarks/ (or $TAORL_BENCHMARKS)`;

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

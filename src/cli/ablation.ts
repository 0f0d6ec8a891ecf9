// `taorl ablation`: grpo, filter-only, bonus-only and tao-rl from the same model, several seeds each, the
// same number of steps (the compute budget), then docs/RESULTS.md with mean ± std across seeds and charts.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { lineChart, reportHtml, reportMarkdown, type RunRecords } from "../trainer/report.js";
import { UsageError, parseArgs } from "./args.js";
import { loadRun } from "./report.js";
import { runTrain } from "./train.js";
import { writeAtomic } from "./shape.js";

export const ABLATION_USAGE = `taorl ablation [--model models/default] [--presets grpo,filter-only,bonus-only,tao-rl]
               [--seeds 0,1,2] [--steps 30] [--runs runs/ablation] [--results docs/RESULTS.md] [--eval-problems 32] [--eval-k 4] [--rollout-workers 0]`;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const std = (xs: number[]) => (xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)) : 0);
const pm = (xs: number[], d = 3) => (xs.length ? `${mean(xs).toFixed(d)} ± ${std(xs).toFixed(d)}` : "–");

export async function runAblation(argv: readonly string[], io: { stdout: (s: string) => void; stderr: (s: string) => void; tty?: boolean }, root: string): Promise<string> {
  const { opts, rest } = parseArgs(argv, { values: ["model", "presets", "seeds", "steps", "runs", "results", "eval-problems", "eval-k", "config", "rollout-workers"], flags: [] });
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const presets = (opts.presets ?? "grpo,filter-only,bonus-only,tao-rl").split(",");
  const seeds = (opts.seeds ?? "0,1,2").split(",").map(Number);
  if (seeds.some((s) => !Number.isInteger(s))) throw new UsageError(`--seeds: expected integers, got ${opts.seeds}`);
  const runsDir = opts.runs ?? join(root, "runs", "ablation");
  const results = opts.results ?? join(root, "docs", "RESULTS.md");
  const pass = (name: string) => (opts[name] === undefined ? [] : [`--${name}`, opts[name]]);
  const records: Record<string, RunRecords[]> = {};
  for (const preset of presets) {
    for (const seed of seeds) {
      const dir = join(runsDir, `${preset}-s${seed}`);
      io.stdout(`\n== ${preset}, seed ${seed} ==\n`);
      await runTrain(["--preset", preset, "--seed", String(seed), "--out", dir, ...pass("model"), ...pass("steps"), ...pass("eval-problems"), ...pass("eval-k"), ...pass("config"), ...pass("rollout-workers"),
        "--eval-every", String(Math.max(1, Math.floor(Number(opts.steps ?? 30) / 3)))], io, root);
      (records[preset] ??= []).push(loadRun(dir));
    }
  }
  // Markdown: per preset, mean ± std over seeds of the final evaluation and training figures.
  const lines = [
    "# Ablation results", "",
    `Presets ${presets.join(", ")} from \`${relative(root, opts.model ?? join(root, "models", "default")) || "."}\`, seeds ${seeds.join(", ")}, ` +
      `${opts.steps ?? 30} steps each (same compute budget), on the procedural task family (train split); held-out = test split.`,
    "Produced by `taorl ablation`; the numbers below are whatever that run measured.", "",
    "| preset | held-out avg@k (final) | held-out pass@k (final) | Δ avg@k vs start | tool failure rate | post-tool entropy | wall time / run |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const preset of presets) {
    const rs = records[preset];
    const last = rs.map((r) => r.evals[r.evals.length - 1]).filter(Boolean);
    const first = rs.map((r) => r.evals[0]).filter(Boolean);
    const lastStep = rs.map((r) => r.steps[r.steps.length - 1]).filter(Boolean);
    lines.push(`| ${preset} | ${pm(last.map((e) => e.avg_at_k))} | ${pm(last.map((e) => e.pass_at_k))} | ${pm(last.map((e, i) => e.avg_at_k - (first[i]?.avg_at_k ?? 0)))} | ` +
      `${pm(lastStep.map((m) => 1 - m.rollout.valid_exec_rate))} | ${pm(last.map((e) => e.entropy_post_tool_mean))} | ${pm(rs.map((r) => r.steps.reduce((a, s) => a + s.time_ms.total, 0) / 1000), 0)} s |`);
  }
  // Charts: held-out accuracy and reward, one series per preset (mean over seeds at each step).
  const figDir = join(results, "..", "results");
  mkdirSync(figDir, { recursive: true });
  const meanSeries = (pick: (r: RunRecords) => Array<[number, number]>) => presets.map((p) => {
    const by = new Map<number, number[]>();
    for (const r of records[p]) for (const [x, y] of pick(r)) (by.get(x) ?? by.set(x, []).get(x)!).push(y);
    return { name: p, points: [...by.entries()].sort((a, b) => a[0] - b[0]).map(([x, ys]) => [x, mean(ys)] as [number, number]) };
  });
  const figs: Array<[string, string]> = [
    ["ablation-heldout.svg", lineChart("held-out avg@k (mean over seeds)", meanSeries((r) => r.evals.map((e) => [e.step, e.avg_at_k])))],
    ["ablation-reward.svg", lineChart("training reward (mean over seeds)", meanSeries((r) => r.steps.map((m) => [m.step, m.rollout.reward_mean])))],
    ["ablation-post-tool-entropy.svg", lineChart("post-tool entropy (mean over seeds)", meanSeries((r) => r.steps.filter((m) => m.loss).map((m) => [m.step, m.loss!.entropy_post_tool_mean])))],
  ];
  for (const [name, svg] of figs) writeFileSync(join(figDir, name), svg);
  lines.push("", ...figs.map(([name]) => `![${name}](results/${name})`), "", "## Per run", "", reportMarkdown("runs", Object.values(records).flat()).split("\n").slice(2).join("\n"));
  const all = Object.values(records).flat();
  writeAtomic(join(figDir, "ablation.html"), reportHtml("taorl ablation", all, lines.join("\n")));
  writeAtomic(results, `${lines.join("\n")}\n`);
  io.stdout(`\nwrote ${results} and ${join(figDir, "ablation.html")}\n`);
  return results;
}

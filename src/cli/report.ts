// `taorl report <run> [<run> ...] [--out DIR] [--title T]`: report.html (charts) and report.md (summary)
// from the runs' metrics.jsonl and eval.jsonl.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { reportHtml, reportMarkdown, type RunRecords } from "../trainer/report.js";
import { UsageError, parseArgs } from "./args.js";
import { writeAtomic } from "./shape.js";

export const REPORT_USAGE = `taorl report <run-dir> [<run-dir> ...] [--out DIR] [--title T]

  Writes report.html (charts: reward, held-out accuracy, entropy overall and post-tool, tool calls,
  tool failures by kind, filter counts, response length) and report.md into --out (default: the first run).`;

function readJsonl<T>(path: string, required: boolean): T[] {
  if (!existsSync(path)) {
    if (required) throw new UsageError(`${path}: not found (is this a run folder?)`);
    return [];
  }
  return readFileSync(path, "utf8").split("\n").flatMap((line, i) => {
    if (line.trim() === "") return [];
    try {
      return [JSON.parse(line) as T];
    } catch (e) {
      throw new UsageError(`${path}: line ${i + 1}: malformed JSON (${(e as Error).message})`);
    }
  });
}

export function loadRun(dir: string): RunRecords {
  const steps = readJsonl<RunRecords["steps"][number]>(join(dir, "metrics.jsonl"), true);
  for (const [i, s] of steps.entries()) {
    if (typeof s.step !== "number" || !s.rollout || !s.filter) throw new UsageError(`${join(dir, "metrics.jsonl")}: line ${i + 1}: not a taorl step record`);
  }
  return { name: basename(resolve(dir)), steps, evals: readJsonl(join(dir, "eval.jsonl"), false) };
}

export function runReport(argv: readonly string[], io: { stdout: (s: string) => void }): { html: string; md: string } {
  const { opts, rest } = parseArgs(argv, { values: ["out", "title"], flags: [] });
  if (rest.length === 0) throw new UsageError("give at least one run folder");
  const runs = rest.map(loadRun);
  const out = opts.out ?? rest[0];
  mkdirSync(out, { recursive: true });
  const title = opts.title ?? `taorl report: ${runs.map((r) => r.name).join(", ")}`;
  const md = reportMarkdown(title, runs);
  const html = join(out, "report.html"), mdPath = join(out, "report.md");
  writeAtomic(html, reportHtml(title, runs, md));
  writeAtomic(mdPath, md);
  io.stdout(`${md}\nwrote ${html} and ${mdPath}\n`);
  return { html, md: mdPath };
}

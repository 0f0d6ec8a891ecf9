// `taorl shape`: TAO-RL filters, advantages and the entropy bonus for trajectories produced anywhere.
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ZodError } from "zod";
import { resolveTaoRl } from "../config.js";
import { bonusTable, countsTable, parseTrajectoryLines, shapeRecords } from "../trajectories.js";
import type { TaoRlOptions } from "../types.js";
import { UsageError, parseArgs } from "./args.js";

export const SHAPE_USAGE = `taorl shape --in trajectories.jsonl [--out shaped.jsonl] [--config cfg.json] [--refill] [--seed N]

  Reads one trajectory per line (README: "Trajectory records"), applies TAO-RL's filters, GRPO
  advantages and the entropy bonus (pool = every loss token of the file), and writes one line per
  record: { index, group, kept, reasons, advantage, token_advantages }. Without --out the lines go to
  stdout and the table to stderr. --config: TAO-RL.md option names (snake_case). --refill: apply the
  batch refill with batch_prompts from the config (seeded by --seed, default 0).`;

/** Config file → options; errors name the file and the key. */
export function loadConfig(path: string | undefined): TaoRlOptions {
  if (path === undefined) return resolveTaoRl({});
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UsageError(`config ${path}: ${(e as Error).message}`);
  }
  try {
    return resolveTaoRl(raw);
  } catch (e) {
    if (e instanceof ZodError) {
      const i = e.issues[0];
      const what = i.code === "unrecognized_keys" ? `unknown key(s) ${i.keys.map((k) => `"${k}"`).join(", ")}` : `${i.path.join(".")}: ${i.message}`;
      throw new UsageError(`config ${path}: ${what}`);
    }
    throw e;
  }
}

/** Write a file so that readers see the old file or the whole new one, never a part. */
export function writeAtomic(path: string, data: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export interface ShapeRun {
  table: string;
  lines: number;
}

export function runShape(argv: readonly string[], out: { stdout: (s: string) => void; stderr: (s: string) => void }): ShapeRun {
  const { opts, flags, rest } = parseArgs(argv, { values: ["in", "out", "config", "seed"], flags: ["refill"] });
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  if (!opts.in) throw new UsageError("--in is required");
  const seed = opts.seed === undefined ? 0 : Number(opts.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed: expected an integer, got ${opts.seed}`);
  const config = loadConfig(opts.config);
  let text: string;
  try {
    text = readFileSync(opts.in, "utf8");
  } catch (e) {
    throw new UsageError(`--in ${opts.in}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const records = parseTrajectoryLines(text);
  const report = shapeRecords(records, config, { refill: flags.has("refill"), seed });
  const body = report.records.map((r) => JSON.stringify(r)).join("\n") + "\n";
  const table = `${countsTable(report.counts)}\n\n${bonusTable(report.bonus)}`;
  if (opts.out) {
    writeAtomic(opts.out, body);
    out.stdout(`${table}\n\nwrote ${report.records.length} lines to ${opts.out}\n`);
  } else {
    out.stdout(body);
    out.stderr(`${table}\n`);
  }
  return { table, lines: report.records.length };
}

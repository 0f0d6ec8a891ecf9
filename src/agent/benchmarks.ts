// Reads the benchmark files of ../shared/benchmarks/ on Node. The only module of src/agent/ that
// touches the file system; the record formats and the answer checker stay pure (benchmark-records.ts).
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCHMARKS, BENCHMARK_NAMES, parseBenchmarkText, type BenchmarkName, type BenchmarkRecord } from "./benchmark-records.js";

export * from "./benchmark-records.js";

/** The folder of benchmark files is absent: says every place it looked. */
export class BenchmarksMissingError extends Error {
  constructor(readonly searched: string[]) {
    super(
      `benchmark folder not found; looked in: ${searched.join(", ")}. ` +
        "Put the files of MANIFEST.md in ../shared/benchmarks/ beside the project, or set TAORL_BENCHMARKS to their folder.",
    );
    this.name = "BenchmarksMissingError";
  }
}

/**
 * Candidate folders, in order: $TAORL_BENCHMARKS; ../shared/benchmarks/ beside the project root,
 * found from this module (src/agent/ and dist/node/ are both two levels below the root); the same
 * beside the working directory.
 */
export function benchmarkDirCandidates(env: Record<string, string | undefined> = process.env): string[] {
  if (env.TAORL_BENCHMARKS) return [resolve(env.TAORL_BENCHMARKS)];
  const fromModule = fileURLToPath(new URL("../../../shared/benchmarks/", import.meta.url));
  return [...new Set([resolve(fromModule), resolve(process.cwd(), "..", "shared", "benchmarks")])];
}

/** The benchmark folder, or a BenchmarksMissingError naming where it looked. */
export function findBenchmarksDir(env: Record<string, string | undefined> = process.env): string {
  const candidates = benchmarkDirCandidates(env);
  const dir = candidates.find((d) => existsSync(join(d, "MANIFEST.md")) || BENCHMARK_NAMES.some((n) => existsSync(join(d, BENCHMARKS[n].file))));
  if (dir === undefined) throw new BenchmarksMissingError(candidates);
  return dir;
}

/** Whether the benchmark folder is present (for callers that skip real-data evaluation with a notice). */
/** The benchmarks whose files are present (none when the folder is absent). */
export function availableBenchmarks(env: Record<string, string | undefined> = process.env): BenchmarkName[] {
  let dir: string;
  try {
    dir = findBenchmarksDir(env);
  } catch {
    return [];
  }
  return BENCHMARK_NAMES.filter((n) => existsSync(join(dir, BENCHMARKS[n].file)));
}

export function benchmarksAvailable(env: Record<string, string | undefined> = process.env): boolean {
  try {
    findBenchmarksDir(env);
    return true;
  } catch {
    return false;
  }
}

/**
 * All records of one benchmark file.
 * @example loadBenchmark("aime24").length // 30
 */
export function loadBenchmark(name: BenchmarkName, dir: string = findBenchmarksDir()): BenchmarkRecord[] {
  const spec = BENCHMARKS[name];
  if (!spec) throw new Error(`unknown benchmark "${String(name)}"; known: ${BENCHMARK_NAMES.join(", ")}`);
  const path = join(dir, spec.file);
  if (!existsSync(path)) throw new BenchmarksMissingError([path]);
  return parseBenchmarkText(name, readFileSync(path, "utf8"));
}

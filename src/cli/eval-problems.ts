// The problems an evaluation runs on (Node): the procedural task family's held-out split (test, or ood
// for its held-out templates), or a seeded draw from a benchmark file of ../shared/benchmarks/.
import { BenchmarksMissingError, loadBenchmark } from "../agent/benchmarks.js";
import type { BenchmarkName } from "../agent/benchmark-records.js";
import type { RolloutProblem } from "../agent/rollout.js";
import { taskProblems } from "../agent/tasks.js";
import { permutation, seededRandom } from "../rl/index.js";

export interface EvalProblemSpec {
  seed: number;
  problems: number;
  level?: number;
  split?: "test" | "ood";
  benchmark?: BenchmarkName;
}

export { BenchmarksMissingError };

/** Throws BenchmarksMissingError when a benchmark is asked for and its folder is absent. */
export function evaluationProblems(spec: EvalProblemSpec): RolloutProblem[] {
  if (spec.benchmark) {
    const records = loadBenchmark(spec.benchmark); // throws BenchmarksMissingError, naming where it looked
    const order = permutation(seededRandom(spec.seed ^ 0xbe7c), records.length);
    return Array.from(order.subarray(0, Math.min(spec.problems, records.length)), (i) => {
      const r = records[i];
      return { id: r.id, question: r.question, answer: r.answer, check: r.check };
    });
  }
  return taskProblems(spec.seed, spec.split ?? "test", spec.problems, spec.level);
}

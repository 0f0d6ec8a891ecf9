// `taorl evaluate` on the embedded policy, and evaluate()'s chunking (progress) leaving results unchanged.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { benchmarksAvailable } from "../../src/agent/benchmarks.js";
import { UsageError } from "../../src/cli/args.js";
import { evaluationProblems } from "../../src/cli/eval-problems.js";
import { runEvaluateCli } from "../../src/cli/evaluate.js";
import { resolveRollout } from "../../src/config.js";
import { OrtWebEngine } from "../../src/engine/ort-web.js";
import { loadModelFolder } from "../../src/model/checkpoint.js";
import { SandboxPool } from "../../src/sandbox/node.js";
import { evaluate } from "../../src/trainer/evaluate.js";

const root = process.cwd();
const dir = mkdtempSync(join(tmpdir(), "taorl-evaluate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = { stdout: () => {}, stderr: () => {} };

describe("taorl evaluate", () => {
  it("evaluates the embedded policy on the ood split, prints the table and writes the JSON", async () => {
    let out = "";
    const file = join(dir, "ood.json");
    const r = await runEvaluateCli(["--split", "ood", "--problems", "4", "--k", "2", "--seed", "3", "--out", file], { stdout: (s) => (out += s), stderr: () => {} }, root);
    expect(r).toMatchObject({ problem_set: "task family, ood split", problems: 4, k: 2, seed: 3 });
    expect(r.tool_calls_per_traj).toBeGreaterThan(0);
    expect(out).toMatch(/avg@2\s+\d\.\d{3}/);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(JSON.parse(JSON.stringify(r)));
  }, 120_000);

  it.skipIf(!benchmarksAvailable())("draws a seeded sample of a benchmark file", async () => {
    const r = await runEvaluateCli(["--benchmark", "gsm8k_test", "--problems", "3", "--k", "1"], quiet, root);
    expect(r).toMatchObject({ problem_set: "gsm8k_test", problems: 3, k: 1 });
    const a = evaluationProblems({ seed: 5, problems: 4, benchmark: "math500" }), b = evaluationProblems({ seed: 5, problems: 4, benchmark: "math500" });
    expect(a).toEqual(b);
    expect(new Set(a.map((p) => p.id)).size).toBe(4);
    expect(evaluationProblems({ seed: 6, problems: 4, benchmark: "math500" }).map((p) => p.id)).not.toEqual(a.map((p) => p.id));
  }, 120_000);

  it("rejects bad options with usage errors", async () => {
    for (const [args, message] of [
      [["--split", "train"], /--split: expected test or ood/],
      [["--benchmark", "nope"], /--benchmark: unknown "nope"/],
      [["--benchmark", "aime24", "--level", "2"], /do not go with --benchmark/],
      [["--k", "0"], /--k: expected an integer in 1-64/],
      [["--model", join(dir, "none")], /no config\.json/],
    ] as Array<[string[], RegExp]>) {
      await expect(runEvaluateCli(args, quiet, root)).rejects.toThrow(UsageError);
      await expect(runEvaluateCli(args, quiet, root)).rejects.toThrow(message);
    }
  });
});

describe("evaluate() in chunks", () => {
  it("gives the same results as one call (rows are seeded by their problem's index)", async () => {
    const { config, weights, tokenizer } = await loadModelFolder(join(root, "models", "default"));
    const engine = await OrtWebEngine.create(config, { weights, maxPositions: 1024, weightsMode: "initializers" });
    const pool = new SandboxPool({ javascriptWorkers: 1 });
    try {
      const deps = { engine, tokenizer, runTool: pool.run.bind(pool) };
      const problems = evaluationProblems({ seed: 9, problems: 5 });
      const opts = resolveRollout({ eval_max_turns: 2, max_response_tokens: 160 });
      const seen: number[] = [];
      const whole = await evaluate(deps, problems, opts, 4, 2);
      const parts = await evaluate(deps, problems, opts, 4, 2, { chunk: 2, onProgress: (done) => seen.push(done) });
      expect(seen).toEqual([2, 4, 5]);
      // the same sampled tokens; entropies only to float rounding (batches of other sizes and padding)
      const { time_ms: _a, entropy_mean: h1, entropy_post_tool_mean: g1, ...w } = whole;
      const { time_ms: _b, entropy_mean: h2, entropy_post_tool_mean: g2, ...p } = parts;
      expect(p).toEqual(w);
      expect(Math.abs(h2 - h1)).toBeLessThan(1e-6);
      expect(Math.abs(g2 - g1)).toBeLessThan(1e-6);
    } finally {
      engine.dispose();
      await pool.close();
    }
  }, 120_000);
});

// The Python reward port (gpu/taorl_verl/verl_plugin/reward.py, verl's compute_score) gives taorl's
// verdict on every real benchmark answer: each answer against itself and against the next record's
// answer, with that benchmark's check options. Needs ../shared/benchmarks/ and a python3 (stdlib only).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { answersEqual } from "../../src/agent/answer.js";
import { BENCHMARK_NAMES, benchmarksAvailable, loadBenchmark } from "../../src/agent/benchmarks.js";

const python = process.env.TAORL_PYTHON ?? "python3";
const hasPython = spawnSync(python, ["-c", "import fractions"], { encoding: "utf8" }).status === 0;

const CHECK = `
import importlib.util, json, sys
# by path: the taorl_verl package imports torch, reward.py needs only the standard library
spec = importlib.util.spec_from_file_location("reward", "gpu/taorl_verl/verl_plugin/reward.py")
reward = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reward)
answers_equal = reward.answers_equal
cases = json.load(open(sys.argv[1]))
print(json.dumps([c for c in cases if answers_equal(c["predicted"], c["truth"], c["check"]) != c["equal"]][:20]))
`;

describe("reward.py on the real benchmark answers", () => {
  it.skipIf(!benchmarksAvailable() || !hasPython)("agrees with src/agent/answer.ts on every pair", () => {
    const cases: Array<{ source: string; predicted: string; truth: string; check: object; equal: boolean }> = [];
    for (const name of BENCHMARK_NAMES) {
      const recs = loadBenchmark(name);
      recs.forEach((r, i) => {
        for (const p of [r.answer, recs[(i + 1) % recs.length].answer]) {
          cases.push({ source: name, predicted: p, truth: r.answer, check: r.check, equal: answersEqual(p, r.answer, r.check) });
        }
      });
    }
    expect(cases.length).toBeGreaterThan(20_000);
    const dir = mkdtempSync(join(tmpdir(), "taorl-reward-"));
    try {
      writeFileSync(join(dir, "cases.json"), JSON.stringify(cases));
      const r = spawnSync(python, ["-c", CHECK, join(dir, "cases.json")], { encoding: "utf8", cwd: process.cwd(), maxBuffer: 1 << 24 });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

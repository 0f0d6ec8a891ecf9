import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { answersEqual, normalizeAnswer, reward } from "../../src/agent/answer.js";
import {
  BENCHMARKS, BENCHMARK_NAMES, BenchmarkFormatError, BenchmarksMissingError, benchmarkDirCandidates, benchmarksAvailable,
  calculatorSteps, findBenchmarksDir, gsm8kFinalAnswer, loadBenchmark, parseBenchmarkText,
} from "../../src/agent/benchmarks.js";
import { evaluateLatex } from "../../src/agent/latex.js";

// Small fixtures of our own, one line per format (MANIFEST.md's fields), written for these tests.
const FIXTURES = {
  gsm8k_test: '{"question":"Tom has 3 bags of 1,200 beads. How many?","answer":"3 * 1200 = <<3*1200=3600>>3600\\nHe has 3600 + 0 = <<3600+0=3600>>3,600 beads.\\n#### 3,600"}',
  olympiadbench: '{"id":7,"context":null,"question":"Find all pairs.","final_answer":["$(1,2)$","$(3,4)$"],"is_multiple_answer":true,"unit":null,"answer_type":"Tuple","error":null}',
  minerva: '{"problem":"Speed?","solution":"so $v=\\\\boxed{3.0e8} \\\\mathrm{m/s}$","type":"Physics","idx":4}',
  svamp: '{"Body":"There are 5 apples","Question":"How many?","Equation":"( 5.0 )","Answer":5.0,"Type":"x","ID":"chal-1"}',
  gsm_hard: '{"input":"q","code":"def solution(): ...","target":-9867630.0,"idx":3}',
  amc23: '{"id":0,"problem":"p","answer":27.0,"url":"u"}',
} as const;

describe("benchmark record parsers (fixtures)", () => {
  it("GSM8K: answer after ####, commas removed; calculator notes → code-tool steps", () => {
    const [r] = parseBenchmarkText("gsm8k_test", FIXTURES.gsm8k_test);
    expect(r.answer).toBe("3600");
    expect(r.id).toBe("gsm8k_test-0");
    expect(calculatorSteps(String(r.meta.solution))).toEqual([
      { expr: "3*1200", value: "3600", code: "print(3*1200)" },
      { expr: "3600+0", value: "3600", code: "print(3600+0)" },
    ]);
    expect(gsm8kFinalAnswer("no marker")).toBeNull();
  });
  it("OlympiadBench: multiple answers joined and compared as a set", () => {
    const [r] = parseBenchmarkText("olympiadbench", FIXTURES.olympiadbench);
    expect(r.answer).toBe("(1,2),(3,4)");
    expect(r.check.unordered).toBe(true);
    expect(answersEqual("(3,4), (1,2)", r.answer, r.check)).toBe(true);
    expect(answersEqual("(1,2)", r.answer, r.check)).toBe(false);
  });
  it("Minerva: last \\boxed of the solution, significant figures", () => {
    const [r] = parseBenchmarkText("minerva", FIXTURES.minerva);
    expect(r.answer).toBe("3.0e8");
    expect(answersEqual("2.998 \\times 10^8", r.answer, r.check)).toBe(true);
    expect(answersEqual("3.2e8", r.answer, r.check)).toBe(false);
  });
  it("SVAMP: Body + ' ' + Question; GSM-Hard and AMC23 float targets as numbers", () => {
    expect(parseBenchmarkText("svamp", FIXTURES.svamp)[0]).toMatchObject({ question: "There are 5 apples How many?", answer: "5", id: "chal-1" });
    expect(parseBenchmarkText("gsm_hard", FIXTURES.gsm_hard)[0].answer).toBe("-9867630");
    expect(parseBenchmarkText("amc23", FIXTURES.amc23)[0].answer).toBe("27");
  });
  it("a malformed line names the benchmark and index", () => {
    expect(() => parseBenchmarkText("svamp", `${FIXTURES.svamp}\n{"Body":1}`)).toThrow(BenchmarkFormatError);
    expect(() => parseBenchmarkText("svamp", "not json")).toThrow(/svamp record 0: not valid JSON/);
  });
});

describe("the benchmark folder", () => {
  it("TAORL_BENCHMARKS overrides; a missing folder is a clear error naming where it looked", () => {
    const nowhere = join("no-such-dir", "benchmarks");
    expect(benchmarkDirCandidates({ TAORL_BENCHMARKS: nowhere })).toHaveLength(1);
    expect(benchmarksAvailable({ TAORL_BENCHMARKS: nowhere })).toBe(false);
    let err: unknown;
    try { findBenchmarksDir({ TAORL_BENCHMARKS: nowhere }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(BenchmarksMissingError);
    expect((err as BenchmarksMissingError).searched[0]).toContain(nowhere);
    expect((err as Error).message).toMatch(/looked in: .*no-such-dir.*TAORL_BENCHMARKS/);
    // the default candidates are ../shared/benchmarks beside the project
    expect(benchmarkDirCandidates({}).every((d) => d.replace(/\\/g, "/").endsWith("shared/benchmarks"))).toBe(true);
  });

  const present = benchmarksAvailable();
  it(present ? "loads every file: counts as MANIFEST.md, every reference answer checks against itself" : "is absent: loading says where it looked", () => {
    if (!present) {
      expect(() => loadBenchmark("gsm8k_test")).toThrow(BenchmarksMissingError);
      expect(() => loadBenchmark("gsm8k_test")).toThrow(/shared[\\/]benchmarks/);
      console.warn(`benchmark folder absent (looked in ${benchmarkDirCandidates().join(", ")}): real-data checks not run`);
      return;
    }
    const summary: Record<string, { records: number; self: number; boxed: number; numeric: number }> = {};
    for (const name of BENCHMARK_NAMES) {
      const records = loadBenchmark(name);
      let self = 0, boxed = 0, numeric = 0;
      for (const r of records) {
        expect(r.source).toBe(name);
        expect(r.question.length).toBeGreaterThan(0);
        expect(r.answer.length).toBeGreaterThan(0);
        if (answersEqual(r.answer, r.answer, r.check)) self++;
        if (reward(`Thus the answer is $\\boxed{${r.answer}}$.`, r.answer, r.check) === 1) boxed++;
        if (evaluateLatex(normalizeAnswer(r.answer)) !== null) numeric++;
      }
      summary[name] = { records: records.length, self, boxed, numeric };
      expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
    }
    for (const name of BENCHMARK_NAMES) {
      const s = summary[name];
      expect([name, s.records, s.self, s.boxed]).toEqual([name, BENCHMARKS[name].records, s.records, s.records]);
    }
    // answers that are plain numbers in the files are understood numerically
    for (const name of ["gsm8k_test", "gsm8k_train", "aime24", "aime25", "amc23", "svamp", "gsm_hard"] as const) {
      expect([name, summary[name].numeric]).toEqual([name, summary[name].records]);
    }
    expect(summary.math500.numeric).toBeGreaterThanOrEqual(318);
  });

  it(`calculator notes' values match their expressions (${present ? "GSM8K train" : "fixture"})`, () => {
    const records = present ? loadBenchmark("gsm8k_train") : parseBenchmarkText("gsm8k_train", FIXTURES.gsm8k_test);
    let steps = 0, agree = 0;
    for (const r of records) {
      for (const s of calculatorSteps(String(r.meta.solution))) {
        steps++;
        const v = evaluateLatex(s.expr.replace(/\*\*/g, "^"));
        if (v !== null && answersEqual(String(v), s.value.replace(/,/g, ""), { relTol: 1e-3 })) agree++;
      }
    }
    expect(steps).toBeGreaterThan(present ? 20_000 : 1);
    if (present) console.info(`GSM8K train calculator notes: ${agree}/${steps} agree`);
    expect(agree / steps).toBeGreaterThan(0.95);
  });
});

// The benchmark files of ../shared/benchmarks/ (MANIFEST.md) as uniform records: which file, how many
// records, and how each raw JSON line becomes { id, question, answer, source, meta, check }. Pure (no
// node:), so a browser or worker that fetched a file can parse it; benchmarks.ts reads the files on Node.
import { extractBoxed, type CheckOptions } from "./answer.js";

export type BenchmarkName =
  | "gsm8k_test" | "gsm8k_train" | "math500" | "aime24" | "aime25" | "amc23"
  | "olympiadbench" | "minerva" | "svamp" | "gsm_hard";

/** One problem with its reference answer and the checker options its benchmark needs. */
export interface BenchmarkRecord {
  id: string;
  question: string;
  /** Reference answer as a string, ready for `answersEqual(predicted, answer, check)`. */
  answer: string;
  source: BenchmarkName;
  /** Benchmark-specific fields (subject, level, unit, solution, …). */
  meta: Record<string, unknown>;
  check: CheckOptions;
}

export interface BenchmarkSpec {
  name: BenchmarkName;
  file: string;
  /** Record count stated in MANIFEST.md. */
  records: number;
  /** Only gsm8k_train may be trained on (MANIFEST.md). */
  trainingAllowed: boolean;
  parse(raw: Record<string, unknown>, index: number): BenchmarkRecord;
}

/** A raw line that lacks a field its benchmark needs. */
export class BenchmarkFormatError extends Error {
  constructor(readonly benchmark: BenchmarkName, readonly index: number, message: string) {
    super(`${benchmark} record ${index}: ${message}`);
    this.name = "BenchmarkFormatError";
  }
}

function str(raw: Record<string, unknown>, key: string, name: BenchmarkName, index: number): string {
  const v = raw[key];
  if (typeof v !== "string") throw new BenchmarkFormatError(name, index, `field "${key}" is ${v === undefined ? "missing" : typeof v}, expected a string`);
  return v;
}

function num(raw: Record<string, unknown>, key: string, name: BenchmarkName, index: number): number {
  const v = raw[key];
  if (typeof v !== "number" || !Number.isFinite(v)) throw new BenchmarkFormatError(name, index, `field "${key}" is not a finite number`);
  return v;
}

/** A JSON number as an answer string: 27.0 → "27", -9867630.0 → "-9867630", 0.5 → "0.5". */
export function numberAnswer(v: number): string {
  return String(v);
}

/** GSM8K: the text after "####", thousands commas removed. */
export function gsm8kFinalAnswer(solution: string): string | null {
  const k = solution.lastIndexOf("####");
  if (k < 0) return null;
  const a = solution.slice(k + 4).trim().replace(/,/g, "");
  return a === "" ? null : a;
}

/** One calculator note of a GSM8K solution, as a code-tool call. */
export interface CalculatorStep {
  /** The expression as written, e.g. "48/2". */
  expr: string;
  /** The value the note states, e.g. "24". */
  value: string;
  /** The tool call that reproduces it in the Python sandbox. */
  code: string;
}

/**
 * The calculator notes `<<expr=value>>` of a GSM8K solution, in order, as code-tool calls (for
 * warm-start traces). Notes without an "=" are skipped.
 * @example calculatorSteps("48/2 = <<48/2=24>>24") // [{ expr: "48/2", value: "24", code: "print(48/2)" }]
 */
export function calculatorSteps(solution: string): CalculatorStep[] {
  const steps: CalculatorStep[] = [];
  for (const m of solution.matchAll(/<<([^<>]*)>>/g)) {
    const eq = m[1].lastIndexOf("=");
    if (eq <= 0) continue;
    const expr = m[1].slice(0, eq).trim();
    const value = m[1].slice(eq + 1).trim();
    if (expr === "") continue;
    steps.push({ expr, value, code: `print(${expr})` });
  }
  return steps;
}

/** The solution with its calculator notes removed, as a reader sees it. */
export function stripCalculatorNotes(solution: string): string {
  return solution.replace(/<<[^<>]*>>/g, "");
}

function gsm8k(name: "gsm8k_test" | "gsm8k_train"): BenchmarkSpec["parse"] {
  return (raw, i) => {
    const solution = str(raw, "answer", name, i);
    const answer = gsm8kFinalAnswer(solution);
    if (answer === null) throw new BenchmarkFormatError(name, i, "no '####' final answer");
    return { id: `${name}-${i}`, question: str(raw, "question", name, i), answer, source: name, meta: { solution }, check: {} };
  };
}

/** OlympiadBench: final_answer[] entries without $ delimiters, joined by commas into one list. */
function olympiadAnswer(list: unknown, i: number): string {
  if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === "string")) {
    throw new BenchmarkFormatError("olympiadbench", i, "final_answer is not a non-empty string array");
  }
  return (list as string[]).map((a) => a.replace(/\$/g, "").trim()).join(",");
}

/** Every benchmark file of MANIFEST.md. */
export const BENCHMARKS: Readonly<Record<BenchmarkName, BenchmarkSpec>> = {
  gsm8k_test: { name: "gsm8k_test", file: "gsm8k_test.jsonl", records: 1319, trainingAllowed: false, parse: gsm8k("gsm8k_test") },
  gsm8k_train: { name: "gsm8k_train", file: "gsm8k_train.jsonl", records: 7473, trainingAllowed: true, parse: gsm8k("gsm8k_train") },
  math500: {
    name: "math500", file: "math500_test.jsonl", records: 500, trainingAllowed: false,
    parse: (raw, i) => ({
      id: typeof raw.unique_id === "string" ? raw.unique_id : `math500-${i}`,
      question: str(raw, "problem", "math500", i),
      answer: str(raw, "answer", "math500", i),
      source: "math500",
      meta: { subject: raw.subject, level: raw.level },
      check: {},
    }),
  },
  aime24: {
    name: "aime24", file: "aime24_test.jsonl", records: 30, trainingAllowed: false,
    parse: (raw, i) => ({
      id: `aime24-${raw.id ?? i}`, question: str(raw, "problem", "aime24", i), answer: String(raw.answer ?? ""),
      source: "aime24", meta: { url: raw.url }, check: {},
    }),
  },
  aime25: {
    name: "aime25", file: "aime25_test.jsonl", records: 30, trainingAllowed: false,
    parse: (raw, i) => ({
      id: `aime25-${i}`, question: str(raw, "problem", "aime25", i), answer: String(raw.answer ?? ""),
      source: "aime25", meta: {}, check: {},
    }),
  },
  amc23: {
    name: "amc23", file: "amc23_test.jsonl", records: 40, trainingAllowed: false,
    parse: (raw, i) => ({
      id: `amc23-${raw.id ?? i}`, question: str(raw, "problem", "amc23", i), answer: numberAnswer(num(raw, "answer", "amc23", i)),
      source: "amc23", meta: { url: raw.url }, check: {},
    }),
  },
  olympiadbench: {
    name: "olympiadbench", file: "olympiadbench_test.jsonl", records: 675, trainingAllowed: false,
    parse: (raw, i) => {
      const answer = olympiadAnswer(raw.final_answer, i);
      const context = typeof raw.context === "string" && raw.context.trim() !== "" ? `${raw.context}\n` : "";
      const error = typeof raw.error === "string" ? Number(raw.error) : NaN;
      const value = Number(answer);
      // a stated absolute error becomes a relative tolerance around the (numeric) answer
      const relTol = Number.isFinite(error) && Number.isFinite(value) && value !== 0 ? Math.max(1e-4, error / Math.abs(value)) : undefined;
      return {
        id: `olympiadbench-${raw.id ?? i}`,
        question: context + str(raw, "question", "olympiadbench", i),
        answer,
        source: "olympiadbench",
        meta: { answerType: raw.answer_type, unit: raw.unit ?? null, subfield: raw.subfield, error: raw.error ?? null, isMultipleAnswer: raw.is_multiple_answer === true },
        check: { unordered: raw.is_multiple_answer === true, ...(relTol !== undefined ? { relTol } : {}) },
      };
    },
  },
  minerva: {
    name: "minerva", file: "minerva_math_test.jsonl", records: 272, trainingAllowed: false,
    parse: (raw, i) => {
      const solution = str(raw, "solution", "minerva", i);
      const answer = extractBoxed(solution);
      if (answer === null) throw new BenchmarkFormatError("minerva", i, "no \\boxed{} in the solution");
      return {
        id: `minerva-${raw.idx ?? i}`, question: str(raw, "problem", "minerva", i), answer: answer.trim(), source: "minerva",
        meta: { type: raw.type },
        // physics quantities are given to a few significant figures
        check: { relTol: 1e-2, sigFigs: true },
      };
    },
  },
  svamp: {
    name: "svamp", file: "svamp_test.jsonl", records: 1000, trainingAllowed: false,
    parse: (raw, i) => ({
      id: typeof raw.ID === "string" ? raw.ID : `svamp-${i}`,
      question: `${str(raw, "Body", "svamp", i).trim()} ${str(raw, "Question", "svamp", i).trim()}`,
      answer: numberAnswer(num(raw, "Answer", "svamp", i)),
      source: "svamp", meta: { equation: raw.Equation, type: raw.Type }, check: {},
    }),
  },
  gsm_hard: {
    name: "gsm_hard", file: "gsm_hard_test.jsonl", records: 1319, trainingAllowed: false,
    parse: (raw, i) => ({
      id: `gsm_hard-${raw.idx ?? i}`, question: str(raw, "input", "gsm_hard", i), answer: numberAnswer(num(raw, "target", "gsm_hard", i)),
      source: "gsm_hard", meta: { code: raw.code },
      // large operands: a relative tolerance would accept wrong units digits; allow rounding to cents
      check: { relTol: 1e-12, absTol: 1e-2 },
    }),
  },
};

export const BENCHMARK_NAMES = Object.keys(BENCHMARKS) as BenchmarkName[];

/** Parse a JSONL text of one benchmark; blank lines are skipped, a bad line names its index. */
export function parseBenchmarkText(name: BenchmarkName, text: string): BenchmarkRecord[] {
  const spec = BENCHMARKS[name];
  const out: BenchmarkRecord[] = [];
  let i = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new BenchmarkFormatError(name, i, "not valid JSON");
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new BenchmarkFormatError(name, i, "not a JSON object");
    out.push(spec.parse(raw as Record<string, unknown>, i));
    i++;
  }
  return out;
}

// Exports taorl's answer checker's verdicts to test/fixtures/answer-cases.json, the cases that
// gpu/tests/test_reward.py runs against the Python port used as verl's reward function
// (gpu/taorl_verl/verl_plugin/reward.py). The file is checked here against the checker on every run;
// TAORL_WRITE_ANSWER_CASES=1 rewrites it. Known differences of the Python port are listed in
// PYTHON_DIFFERS with a reason and written into the file, never dropped.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { answersEqual, extractBoxed, reward, type CheckOptions } from "../../src/agent/answer.js";
import { REAL } from "../agent/real-answers.js";

const FIXTURE = join(process.cwd(), "test/fixtures/answer-cases.json");

// Extra cases: tolerances, options, extraction.
const EXTRA: Array<{ source: string; predicted: string; truth: string; check?: CheckOptions }> = [
  { source: "numeric", predicted: "0.33333", truth: "\\frac{1}{3}" },
  { source: "numeric", predicted: "0.333", truth: "\\frac{1}{3}" },
  { source: "numeric", predicted: "3.14159", truth: "\\pi" },
  { source: "numeric", predicted: "100000000000000000001", truth: "100000000000000000000" },
  { source: "numeric", predicted: "2.50", truth: "\\frac52" },
  { source: "gsm_hard", predicted: "1234.57", truth: "1234.5678", check: { absTol: 0.01 } },
  { source: "minerva", predicted: "1.6", truth: "1.62", check: { sigFigs: true } },
  { source: "minerva", predicted: "1.6", truth: "1.62" },
  { source: "olympiadbench", predicted: "(2,1),(1,2)", truth: "(1,2),(2,1)", check: { unordered: true } },
  { source: "garbage", predicted: "", truth: "5" },
  { source: "garbage", predicted: "\\frac{", truth: "5" },
];

// Responses: the reward extracts the last complete \boxed{}.
const RESPONSES: Array<[string, string]> = [
  ["first \\boxed{1} then \\boxed{\\frac{\\sqrt{3}}{2}} done", "\\frac{\\sqrt{3}}{2}"],
  ["so $\\fbox{204}$ minutes", "204"],
  ["answer \\boxed 5.", "5"],
  ["\\boxed{7} and \\boxed{8", "7"],
  ["no answer here", "5"],
  ["\\boxedx{3}", "3"],
  ["Code execution result: \\boxed{42}\n", "42"],
];

/** Where the Python port is known to give another verdict, and why. Empty: none known. */
const PYTHON_DIFFERS: Record<string, string> = {};

interface Case { id: string; source: string; response: string; truth: string; check?: CheckOptions; boxed: string | null; equal: boolean; reward: 0 | 1; python_differs?: string }

function cases(): Case[] {
  const out: Case[] = [];
  const add = (source: string, response: string, truth: string, check?: CheckOptions) => {
    const id = `${out.length}`;
    const boxed = extractBoxed(response);
    const c: Case = { id, source, response, truth, ...(check ? { check } : {}), boxed, equal: boxed !== null && answersEqual(boxed, truth, check), reward: reward(response, truth, check) };
    if (PYTHON_DIFFERS[id]) c.python_differs = PYTHON_DIFFERS[id];
    out.push(c);
  };
  for (const [source, truth, same, other] of REAL) {
    for (const p of [truth, same, other]) add(source, `The answer is \\boxed{${p}}.`, truth);
    add(source, `The answer is \\boxed{${truth}}.`, same); // symmetric use
  }
  for (const e of EXTRA) add(e.source, `so \\boxed{${e.predicted}}`, e.truth, e.check);
  for (const [response, truth] of RESPONSES) add("extract", response, truth);
  return out;
}

describe("test/fixtures/answer-cases.json (the Python reward port's cases)", () => {
  it("holds taorl's checker's current verdicts", () => {
    const now = cases();
    if (process.env.TAORL_WRITE_ANSWER_CASES === "1") writeFileSync(FIXTURE, JSON.stringify({ generator: "test/gpu/answer-cases.test.ts", cases: now }, null, 1) + "\n");
    const saved = JSON.parse(readFileSync(FIXTURE, "utf8")) as { cases: Case[] };
    expect(saved.cases).toEqual(now);
    expect(now.filter((c) => c.reward === 1).length).toBeGreaterThan(50);
    expect(now.filter((c) => c.reward === 0).length).toBeGreaterThan(40);
  });
});

// Exports taorl's answer checker's verdicts to test/fixtures/answer-cases.json, the cases that
// gpu/tests/test_reward.py runs against the Python port used as verl's reward function
// (gpu/taorl_verl/verl_plugin/reward.py). The file is checked here against the checker on every run;
// TAORL_WRITE_ANSWER_CASES=1 rewrites it. Known differences of the Python port are listed in
// PYTHON_DIFFERS with a reason and written into the file, never dropped.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { answersEqual, extractBoxed, reward, type CheckOptions } from "../../src/agent/answer.js";

const FIXTURE = join(process.cwd(), "test/fixtures/answer-cases.json");

// (source, reference answer as in the benchmark file, an equivalent form, a different form): the pairs
// of test/agent/answer.test.ts
const REAL: Array<[string, string, string, string]> = [
  ["gsm8k", "18", "18.0", "17"],
  ["gsm8k", "1,080", "1080", "108"],
  ["gsm8k", "109,200,000", "109200000", "109200001"],
  ["math500", "\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\pi/2)", "(3, \\pi)"],
  ["math500", "\\frac{14}{3}", "4\\frac{2}{3}", "\\frac{13}{3}"],
  ["math500", "\\text{Evelyn}", "Evelyn", "Bob"],
  ["math500", "90^\\circ", "90", "45^\\circ"],
  ["math500", "3\\sqrt{13}", "\\sqrt{117}", "3\\sqrt{11}"],
  ["math500", "6 - 5i", "6-5i", "6+5i"],
  ["math500", "x=5", "5", "x=6"],
  ["math500", "1,-2", "-2, 1", "1,2"],
  ["math500", "11\\sqrt2", "11\\sqrt{2}", "11\\sqrt3"],
  ["math500", "3, 5, 7", "7,5,3", "3,5"],
  ["math500", "x^5 - x^4 + x^3 - x^2 + x - 1", "x^{5}-x^{4}+x^{3}-x^{2}+x-1", "x^5 - x^4 + x^3 - x^2 + x + 1"],
  ["math500", "0.15", "\\frac{3}{20}", "0.16"],
  ["math500", "(6,31,-1)", "\\left(6, 31, -1\\right)", "(6,-1,31)"],
  ["math500", "\\frac{3\\sqrt{3}}{4}", "\\frac{3}{4}\\sqrt{3}", "\\frac{3\\sqrt{2}}{4}"],
  ["math500", "1 \\pm \\sqrt{19}", "1-\\sqrt{19}, 1+\\sqrt{19}", "1+\\sqrt{19}"],
  ["math500", "\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}", "\\begin{pmatrix} -\\frac{1}{3} \\\\ \\frac23 \\\\ \\frac53 \\end{pmatrix}", "\\begin{pmatrix} 1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}"],
  ["math500", "(3,4]", "(3, 4]", "(3,4)"],
  ["math500", "\\frac43", "\\frac{4}{3}", "\\frac34"],
  ["math500", "\\frac{270}7\\text{ degrees}", "\\frac{270}{7}", "\\frac{270}{8}"],
  ["math500", ".0000672", "6.72 \\times 10^{-5}", "0.000672"],
  ["math500", "10,\\!080", "10080", "10800"],
  ["math500", "11,\\! 111,\\! 111,\\! 100", "11111111100", "11111111000"],
  ["math500", "(2,\\infty)", "(2, \\infty)", "[2,\\infty)"],
  ["math500", "\\$32,\\!348", "32348", "32,349"],
  ["math500", "864 \\mbox{ inches}^2", "864", "865"],
  ["math500", "1\\frac{4}{5}", "\\frac{9}{5}", "\\frac{4}{5}"],
  ["math500", "(0,9) \\cup (9,36)", "(0,9)\\cup(9,36)", "(0,36)"],
  ["math500", "\\{1\\pm\\sqrt{5},-2\\}", "-2, 1+\\sqrt5, 1-\\sqrt5", "\\{1+\\sqrt{5},-2\\}"],
  ["math500", "5x - 7y + 11z + 4 = 0", "-10x + 14y - 22z - 8 = 0", "5x - 7y + 11z - 4 = 0"],
  ["math500", "(a+5)(b+2)", "(b+2)(a+5)", "(a+2)(b+5)"],
  ["math500", "137 \\frac{1}{2}", "137.5", "68.5"],
  ["math500", "\\$18.90", "18.9", "18.09"],
  ["math500", "\\left[ \\frac{\\pi^2}{8}, \\frac{5 \\pi^2}{4} \\right]", "[\\pi^2/8, 5\\pi^2/4]", "(\\pi^2/8, 5\\pi^2/4]"],
  ["math500", "\\text{(C)}", "C", "D"],
  ["math500", "y = 2x + 3", "y=3+2x", "y=2x-3"],
  ["aime24", "025", "25", "52"],
  ["aime24", "073", "73", "730"],
  ["amc23", "27", "27.0", "28"],
  ["olympiadbench", "2^{1009}", "2^{1009}", "2^{1008}"],
  ["olympiadbench", "\\frac{1}{2 n+2}", "\\frac{1}{2(n+1)}", "\\frac{1}{2n+1}"],
  ["olympiadbench", "(1,8,19), (2,7,13), (4,5,7)", "(4,5,7),(1,8,19),(2,7,13)", "(1,8,19), (2,7,13)"],
  ["olympiadbench", "m_{\\max }=n^{2}-n-1", "n^2-n-1", "n^2-n+1"],
  ["olympiadbench", "\\frac{8}{\\sqrt[3]{7}}", "8 \\cdot 7^{-1/3}", "\\frac{8}{\\sqrt{7}}"],
  ["olympiadbench", "\\frac{\\log 2}{\\log 2-\\log 3}", "\\frac{\\ln 2}{\\ln 2-\\ln 3}", "\\frac{\\log 3}{\\log 2-\\log 3}"],
  ["olympiadbench", "62.5%", "62.5", "6.25"],
  ["olympiadbench", "2021 \\cdot 505 \\cdot 337", "343943885", "343943886"],
  ["olympiadbench", "\\frac{n(n+1)(2 n+1)}{6}", "\\frac{2n^3+3n^2+n}{6}", "\\frac{n(n+1)}{2}"],
  ["olympiadbench", "(-\\infty,-5)", "(-\\infty, -5)", "(-\\infty,-5]"],
  ["minerva", "4.5e33", "4.5 \\times 10^{33}", "4.5e32"],
  ["minerva", "\\sqrt{2} \\cos (2 t-\\pi / 4)", "\\cos(2t) + \\sin(2t)", "\\cos(2t) - \\sin(2t)"],
  ["minerva", "-3./2", "-1.5", "1.5"],
  ["svamp", "145", "145.0", "144"],
  ["gsm_hard", "-9867630", "-9,867,630", "9867630"],
];

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

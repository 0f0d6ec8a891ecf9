import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { answersEqual, extractBoxed, normalizeAnswer, reward } from "../../src/agent/answer.js";
import { evaluateLatex } from "../../src/agent/latex.js";

describe("extractBoxed", () => {
  it("takes the last \\boxed with nested braces", () => {
    expect(extractBoxed("first \\boxed{1} then \\boxed{\\frac{\\sqrt{3}}{2}} done")).toBe("\\frac{\\sqrt{3}}{2}");
    expect(extractBoxed("\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.")).toBe("\\left( 3, \\frac{\\pi}{2} \\right)");
    expect(extractBoxed("\\boxed{\\{1,2\\}}")).toBe("\\{1,2\\}");
  });
  it("accepts \\fbox, \\framebox and the brace-less form", () => {
    expect(extractBoxed("so $\\fbox{204}$ minutes")).toBe("204");
    expect(extractBoxed("or $\\framebox{204}$ minutes")).toBe("204");
    expect(extractBoxed("answer \\boxed 5.")).toBe("5");
  });
  it("skips an unbalanced last box and returns null without one", () => {
    expect(extractBoxed("\\boxed{7} and \\boxed{8")).toBe("7");
    expect(extractBoxed("no answer here")).toBeNull();
    expect(extractBoxed("\\boxedx{3}")).toBeNull();
  });
});

describe("normalizeAnswer", () => {
  it.each([
    ["$\\dfrac{17}{50}$", "\\frac{17}{50}"],
    ["\\frac 59", "\\frac{5}{9}"],
    ["\\frac9{19}", "\\frac{9}{19}"],
    ["\\frac{270}7\\text{ degrees}", "\\frac{270}{7}"],
    ["10,\\!080", "10080"],
    ["\\$32,\\!348", "32348"],
    ["90^\\circ", "90"],
    ["864 \\mbox{ inches}^2", "864"],
    ["\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"],
    ["x \\in [-2,7]", "[-2,7]"],
    ["\\text{Evelyn}", "Evelyn"],
    ["4210_{5}", "4210_5"],
    ["27.0", "27"],
    ["$166$ cm^2", "166"],
    ["\\cot x", "\\cot x"],
    ["42.", "42"],
  ])("%s → %s", (raw, want) => expect(normalizeAnswer(raw)).toBe(want));
});

// (reference answer as in the benchmark file, an equivalent form, a non-equivalent form)
const REAL: Array<[string, string, string, string]> = [
  // source, answer, equivalent, different
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

const GSM_HARD = { relTol: 1e-12, absTol: 1e-2 };

describe("answersEqual on real answer strings from ../shared/benchmarks", () => {
  it("has 40+ triples", () => expect(REAL.length).toBeGreaterThanOrEqual(40));
  it.each(REAL)("%s: %s", (_src, truth, same, different) => {
    expect(answersEqual(truth, truth)).toBe(true);
    expect(answersEqual(same, truth)).toBe(true);
    expect(answersEqual(different, truth)).toBe(false);
  });
});

describe("answersEqual rules", () => {
  it("integers compare exactly, beyond 2^53 too; floats to relTol", () => {
    expect(answersEqual("9007199254740993", "9007199254740993")).toBe(true);
    expect(answersEqual("9007199254740992", "9007199254740993")).toBe(false);
    expect(answersEqual("100.00001", "100")).toBe(false);
    expect(answersEqual("3.14159", "\\pi")).toBe(true);
    expect(answersEqual("3.14", "\\pi")).toBe(false);
    expect(answersEqual("3.14", "\\pi", { relTol: 1e-2 })).toBe(true);
  });
  it("GSM-Hard's large non-integer targets: rounding to cents, not a relative slack", () => {
    expect(answersEqual("14053029.67", "14053029.666666666", GSM_HARD)).toBe(true);
    expect(answersEqual("14053030.67", "14053029.666666666", GSM_HARD)).toBe(false);
    expect(answersEqual("14053030.67", "14053029.666666666")).toBe(true); // the default 1e-4 would accept it
  });
  it("significant figures when asked (Minerva)", () => {
    expect(answersEqual("1.63", "1.6", { sigFigs: true })).toBe(true);
    expect(answersEqual("1.66", "1.6", { sigFigs: true })).toBe(false);
    expect(answersEqual("4.46e33", "4.5e33", { sigFigs: true })).toBe(true);
  });
  it("tuples are ordered unless told otherwise, lists are sets", () => {
    expect(answersEqual("(2,1)", "(1,2)")).toBe(false);
    expect(answersEqual("2, 1", "1, 2")).toBe(true);
    expect(answersEqual("2, 1", "1, 2", { unordered: false })).toBe(true);
    expect(answersEqual("(1,2)", "[1,2]")).toBe(false);
  });
  it("reward is 1 only for an equal last boxed answer", () => {
    expect(reward("I think \\boxed{17}, no wait: \\boxed{18}", "18")).toBe(1);
    expect(reward("\\boxed{18} then \\boxed{17}", "18")).toBe(0);
    expect(reward("18", "18")).toBe(0);
    expect(reward("Code execution result: \\boxed{\\frac12}", "0.5")).toBe(1);
  });
  it("evaluates the LaTeX subset", () => {
    expect(evaluateLatex("\\frac{3\\sqrt{3}}{4}")).toBeCloseTo((3 * Math.sqrt(3)) / 4, 12);
    expect(evaluateLatex("2^{10}-\\binom{5}{2}+3!")).toBe(1024 - 10 + 6);
    expect(evaluateLatex("\\lfloor \\frac{7}{2} \\rfloor")).toBe(3);
    expect(evaluateLatex("n+1")).toBeNull();
    expect(evaluateLatex("n+1", { n: 2 })).toBe(3);
    expect(evaluateLatex("((((")).toBeNull();
  });
});

describe("checker is total", () => {
  it("never throws on arbitrary strings and returns booleans", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }), (a, b) => {
        expect(typeof answersEqual(a, b)).toBe("boolean");
        expect(typeof normalizeAnswer(a)).toBe("string");
        expect([0, 1]).toContain(reward(a, b));
      }),
      { numRuns: 400 },
    );
  });
  const latexish = fc.stringMatching(/^[-+0-9a-z(){}^_\\ ,.=]{0,40}$/).map((s) => s.replace(/\\ /g, "\\,"));
  it("never throws on LaTeX-like strings", () => {
    fc.assert(fc.property(latexish, latexish, (a, b) => typeof answersEqual(a, b) === "boolean"), { numRuns: 400 });
  });
  it("answersEqual(x, x) for every normalisable x", () => {
    const numbers = fc.oneof(
      fc.integer().map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.tuple(fc.integer({ min: -999, max: 999 }), fc.integer({ min: 1, max: 999 })).map(([p, q]) => `\\frac{${p}}{${q}}`),
      fc.array(fc.integer({ min: -99, max: 99 }), { minLength: 2, maxLength: 4 }).map((xs) => `(${xs.join(", ")})`),
    );
    fc.assert(fc.property(fc.oneof(numbers, latexish), (x) => normalizeAnswer(x) === "" || answersEqual(x, x)), { numRuns: 500 });
  });
  it("bounds pathological inputs in time", () => {
    let t0 = performance.now();
    const deep = "(".repeat(5000) + "1" + ")".repeat(5000);
    expect(answersEqual(deep, "1")).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
    t0 = performance.now();
    expect(answersEqual("{".repeat(1500) + "}".repeat(1500), "1")).toBe(false);
    expect(extractBoxed("\\boxed{".repeat(100_000))).toBeNull();
    expect(performance.now() - t0).toBeLessThan(1000);
    t0 = performance.now();
    expect(answersEqual("1" + "+1".repeat(900), "901")).toBe(false); // too many tokens: unequal, not slow
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

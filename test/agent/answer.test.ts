import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { answersEqual, extractBoxed, normalizeAnswer, reward } from "../../src/agent/answer.js";
import { evaluateLatex } from "../../src/agent/latex.js";
import { REAL } from "./real-answers.js";

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

// TIR protocol rules (TAO-RL.md §1), one block per rule, with exact texts.
import { describe, expect, it } from "vitest";
import type { SandboxResult } from "../../src/types.js";
import {
  FINAL_ANSWER_PRELUDE, TRUNCATION_MARKER, classifyOutcome, cutAfterFirstBlock, executeCodeTurn, extractBoxed,
  firstCodeBlock, formatObservation, lastLine, observationText, truncateObservation, turnKind,
} from "../../src/sandbox/tir.js";
import { QuickJsSandbox } from "../../src/sandbox/quickjs.js";

const res = (status: SandboxResult["status"], stdout = "", stderr = ""): SandboxResult => ({ status, stdout, stderr, elapsedMs: 1 });

describe("firstCodeBlock", () => {
  it("routes python, py, js, javascript and bare fences", () => {
    expect(firstCodeBlock("a\n```python\nprint(1)\n```\nb")).toMatchObject({ language: "python", tag: "python", code: "print(1)\n" });
    expect(firstCodeBlock("```py\nx=1\n```")).toMatchObject({ language: "python", code: "x=1\n" });
    expect(firstCodeBlock("```js\nprint(1)\n```")).toMatchObject({ language: "javascript", code: "print(1)\n" });
    expect(firstCodeBlock("```JavaScript\nprint(1)\n```")).toMatchObject({ language: "javascript" });
    expect(firstCodeBlock("```\nprint(1)\n```")).toMatchObject({ language: "python", tag: "" });
    expect(firstCodeBlock("```\nprint(1)\n```", "javascript")).toMatchObject({ language: "javascript" });
  });

  it("takes the first complete block, skips other tags, refuses an unclosed block", () => {
    const text = "x ```text\nnot code\n``` y ```js\nprint(2)\n``` z ```python\nprint(3)\n```";
    const b = firstCodeBlock(text)!;
    expect(b.code).toBe("print(2)\n");
    expect(text.slice(b.start, b.end)).toBe("```js\nprint(2)\n```");
    expect(firstCodeBlock("```python\nprint(1)\n")).toBeNull();
    expect(firstCodeBlock("no code here")).toBeNull();
    expect(firstCodeBlock("```python")).toBeNull();
  });

  it("cuts the text after the first complete block", () => {
    expect(cutAfterFirstBlock("think\n```python\nprint(1)\n```\nmore text ```py\nx\n```")).toBe("think\n```python\nprint(1)\n```");
    expect(cutAfterFirstBlock("no block")).toBe("no block");
  });
});

describe("turnKind", () => {
  it("code beats answer; answer needs \\boxed{; otherwise void", () => {
    expect(turnKind("```py\nprint(1)\n``` \\boxed{3}")).toBe("code");
    expect(turnKind("so the answer is \\boxed{3}")).toBe("answer");
    expect(turnKind("I am not sure")).toBe("void");
    expect(turnKind("```py\nprint(1)")).toBe("void");
  });
});

describe("classifyOutcome", () => {
  it("valid needs non-blank stdout and empty stderr", () => {
    expect(classifyOutcome(res("ok", "3\n"))).toBe("valid");
    expect(classifyOutcome(res("ok", "3\n", "warning\n"))).toBe("error");
    expect(classifyOutcome(res("ok", ""))).toBe("empty");
    expect(classifyOutcome(res("ok", " \n"))).toBe("empty");
  });
  it("maps each failing status", () => {
    expect(classifyOutcome(res("error", "", "NameError: x\n"))).toBe("error");
    expect(classifyOutcome(res("error", "partial\n", ""))).toBe("error");
    expect(classifyOutcome(res("timeout", "partial\n"))).toBe("timeout");
    expect(classifyOutcome(res("oom"))).toBe("oom");
    expect(classifyOutcome(res("output_limit", "xxxx"))).toBe("output_limit");
  });
});

describe("observation", () => {
  it("valid: stdout, wrapped in the exact prefix and suffix", () => {
    expect(formatObservation(res("ok", "42\n"))).toBe("\nCode execution result: 42\n\n");
  });
  it("error: the last non-empty line of stderr", () => {
    const tb = 'Traceback (most recent call last):\n  File "<tool>", line 1, in <module>\nZeroDivisionError: division by zero\n';
    expect(formatObservation(res("error", "printed first\n", tb))).toBe("\nCode execution result: ZeroDivisionError: division by zero\n");
    expect(lastLine("a\nb\n\n  \n")).toBe("b");
  });
  it("sandbox failure without output: interpreter timeout; with output: the output", () => {
    expect(formatObservation(res("timeout", "", "TimeoutError: execution exceeded 3000 ms\n"))).toBe("\nCode execution result: interpreter timeout\n");
    expect(formatObservation(res("oom", "", "MemoryError\n"))).toBe("\nCode execution result: interpreter timeout\n");
    expect(observationText(res("timeout", "step 1\n"))).toBe("step 1\n");
  });
  it("nothing printed: empty", () => {
    expect(formatObservation(res("ok", ""))).toBe("\nCode execution result: \n");
  });
  it("over 512 characters: first 256, the reference's marker, last 256", () => {
    const text = "a".repeat(256) + "M".repeat(100) + "z".repeat(256);
    const cut = truncateObservation(text);
    expect(cut).toBe("a".repeat(256) + "\n..._This content has been truncated to stay below 512 characters_...\n" + "z".repeat(256));
    expect(TRUNCATION_MARKER).toBe("\n..._This content has been truncated to stay below 512 characters_...\n");
    expect(truncateObservation("b".repeat(512))).toBe("b".repeat(512));
    expect(formatObservation(res("ok", text))).toBe(`\nCode execution result: ${cut}\n`);
  });
});

describe("extractBoxed", () => {
  it("returns the last complete \\boxed{...}, braces nested", () => {
    expect(extractBoxed("\\boxed{1} then \\boxed{\\frac{1}{2}}")).toBe("\\frac{1}{2}");
    expect(extractBoxed("\\boxed{a{b{c}}d}")).toBe("a{b{c}}d");
    expect(extractBoxed("\\boxed{7} and \\boxed{unclosed")).toBe("7");
    expect(extractBoxed("\\boxed{}")).toBe("");
    expect(extractBoxed("no answer")).toBeNull();
  });
});

describe("executeCodeTurn (QuickJS in process)", () => {
  const sb = new QuickJsSandbox();
  const run = (c: { code: string; prelude?: string }) => sb.run(c.code, { timeoutMs: 500 }, { prelude: c.prelude });

  it("injects final_answer, which prints \\boxed{x} and ends the trajectory", async () => {
    const turn = (await executeCodeTurn("Let me compute.\n```js\nfinal_answer(6 * 7)\n```", run))!;
    expect(turn.result.stdout).toBe("\\boxed{42}\n");
    expect(turn.outcome).toBe("valid");
    expect(turn.answered).toBe(true);
    expect(turn.observation).toBe("\nCode execution result: \\boxed{42}\n\n");
    expect(extractBoxed(turn.result.stdout)).toBe("42");
  });

  it("runs each block fresh: no state carried between turns", async () => {
    await executeCodeTurn("```js\nvar carried = 5; print(carried)\n```", run);
    const turn = (await executeCodeTurn("```js\nprint(typeof carried)\n```", run))!;
    expect(turn.result.stdout).toBe("undefined\n");
  });

  it("error turn: observation is the last stderr line", async () => {
    const turn = (await executeCodeTurn("```javascript\nprint('a'); null.x\n```", run))!;
    expect(turn.outcome).toBe("error");
    expect(turn.observation).toBe("\nCode execution result: TypeError: cannot read property 'x' of null\n");
    expect(turn.answered).toBe(false);
  });

  it("returns null for a turn without a complete block", async () => {
    expect(await executeCodeTurn("the answer is \\boxed{3}", run)).toBeNull();
  });

  it("the preludes print \\boxed{x} in each language's syntax", () => {
    expect(FINAL_ANSWER_PRELUDE.python).toBe('def final_answer(x):\n    print("\\\\boxed{" + str(x) + "}")\n');
    expect(FINAL_ANSWER_PRELUDE.javascript).toBe('function final_answer(x) { print("\\\\boxed{" + String(x) + "}"); }\n');
  });
});

// Supervised tool-use traces for the task family: what a good TIR response looks like, executed in the
// real sandbox so every observation is byte for byte what a rollout would append (TAO-RL.md §1).
// A trace is the prompt, then turns of policy text, each code turn followed by its observation.
import type { SandboxResult } from "../types.js";
import { FINAL_ANSWER_PRELUDE, formatObservation, type ToolCall } from "../sandbox/tir.js";
import { mixSeed, seededRandom } from "../rl/index.js";
import { buildPrompt, codeBlock } from "./prompt.js";
import type { TaskItem } from "./tasks.js";

export interface TraceSegment {
  /** Policy text (trained on) or an observation (masked). */
  text: string;
  role: "policy" | "observation";
}

export interface Trace {
  prompt: string;
  segments: TraceSegment[];
  answer: string;
}

/** One or more code steps computing the answer of a task from its operands; the last prints the answer. */
export function solutionSteps(task: TaskItem, variant: number): string[] {
  const o = task.operands;
  switch (task.template) {
    case "warehouse":
    case "warehouse+distractors":
      return variant % 2 ? [`print(${o.boxes} * ${o.per})`, `print(#0 - ${o.shipped})`] : [`print(${o.boxes} * ${o.per} - ${o.shipped})`];
    case "savings":
    case "savings+distractors":
      return variant % 2 ? [`print(${o.weekly} * ${o.weeks})`, `print(#0 + ${o.bonus} - ${o.spent})`] : [`print(${o.weekly} * ${o.weeks} + ${o.bonus} - ${o.spent})`];
    case "series-sum":
      return [`n = ${o.n}\nprint(n * (n + 1) // 2)`];
    case "arithmetic-series":
      return [`n = ${o.n}\nprint(n * ${o.a} + ${o.d} * n * (n - 1) // 2)`];
    case "exact-product":
      return [`print(${o.x} * ${o.y} * ${o.z})`];
    case "leftover":
      return o.ceil === "1" ? [`print((${o.total} + ${o.boxes} - 1) // ${o.boxes})`] : [`print(${o.total} % ${o.boxes})`];
    case "count-multiples":
      return [`print(${o.hi} // ${o.k} - (${o.lo} - 1) // ${o.k})`];
    case "share-exactly":
      return [`from fractions import Fraction\nprint(Fraction(${o.liters}, ${o.tanks}))`];
    case "tickets":
    case "tickets+distractors":
      return [`print(${o.adult} * ${o.pa} + ${o.child} * ${o.pc} - ${o.fee})`];
    case "sum-of-squares":
      return [`n = ${o.n}\nprint(n * (n + 1) * (2 * n + 1) // 6)`];
    default:
      throw new Error(`no solution steps for template "${task.template}"`);
  }
}

const OPENERS = ["I will compute this with Python.", "Let me calculate.", "I will use code for the arithmetic."];

/** The boxed form of a printed value: a fraction p/q becomes \frac{p}{q}. */
export function boxedOf(printed: string): string {
  const v = printed.trim();
  const f = /^(-?\d+)\/(\d+)$/.exec(v);
  return f ? `\\frac{${f[1]}}{${f[2]}}` : v;
}

/**
 * A trace for a task: each code step runs in the sandbox (`#0` in a later step stands for the previous
 * step's printed value); the answer is either written as \boxed{…} after the last observation, or
 * printed by final_answer(…) inside the last block.
 */
export async function makeTrace(task: TaskItem, seed: number, run: (call: ToolCall) => Promise<SandboxResult>): Promise<Trace> {
  const rand = seededRandom(mixSeed(seed, 0x77ace));
  const variant = Math.floor(rand() * 4);
  const steps = solutionSteps(task, variant);
  const useFinal = rand() < 0.3 && steps.length === 1 && task.template !== "share-exactly";
  const segments: TraceSegment[] = [];
  let previous = "";
  for (let i = 0; i < steps.length; i++) {
    let code = steps[i].replace("#0", previous);
    if (useFinal && i === steps.length - 1) code = code.replace(/print\(([^]*)\)$/, "final_answer($1)");
    const lead = i === 0 ? `${OPENERS[Math.floor(rand() * OPENERS.length)]}\n` : "Next step.\n";
    segments.push({ text: `${lead}${codeBlock(code)}`, role: "policy" });
    const result = await run({ language: "python", code, prelude: FINAL_ANSWER_PRELUDE.python, limits: { timeoutMs: 3000 } });
    if (result.status !== "ok" || result.stderr) throw new Error(`trace for ${task.id}: step ${i + 1} failed: ${result.stderr || result.status}`);
    segments.push({ text: formatObservation(result), role: "observation" });
    previous = result.stdout.trim();
  }
  if (!useFinal) segments.push({ text: `The answer is \\boxed{${boxedOf(previous)}}.`, role: "policy" });
  return { prompt: buildPrompt(task.question), segments, answer: task.answer };
}

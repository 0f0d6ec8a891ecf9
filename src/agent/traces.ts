// Supervised tool-use traces for the task family: what a TIR response looks like, executed in the real
// sandbox so every observation is byte for byte what a rollout would append (TAO-RL.md §1).
// A trace is the prompt, then turns of policy text, each code turn followed by its observation. The code
// reads the question's numbers from `q` (taskProblem's prelude) and answers with final_answer(…).
// Some traces are careless on purpose, the way a weak policy is: a loop where only the closed form
// finishes (the call times out, then a second turn uses the closed form), a rounding or off-by-one rule
// misread, a term forgotten, a distractor used. Pretraining on them leaves a policy that is right often,
// not always, and whose mistakes RL with tool feedback can remove.
import type { SandboxResult } from "../types.js";
import { FINAL_ANSWER_PRELUDE, formatObservation, type ToolCall } from "../sandbox/tir.js";
import { mixSeed, seededRandom } from "../rl/index.js";
import { buildPrompt, codeBlock } from "./prompt.js";
import { questionNumbers, taskProblem, type TaskItem } from "./tasks.js";

export interface TraceSegment {
  /** Policy text (trained on) or an observation (masked). */
  text: string;
  role: "policy" | "observation";
}

export interface Trace {
  prompt: string;
  segments: TraceSegment[];
  answer: string;
  /** The careless variant this trace shows (its answer may be wrong), or null. */
  careless: string | null;
}

/** `q[i]` for an operand: its position among the question's numbers. */
function refs(task: TaskItem): (name: string) => string {
  const nums = questionNumbers(task.question);
  return (name) => {
    const i = nums.indexOf(task.operands[name]);
    if (i < 0) throw new Error(`trace for ${task.id}: operand ${name} = ${task.operands[name]} is not among the question's numbers`);
    return `q[${i}]`;
  };
}

/** The code that answers a task correctly (one block, ends with final_answer). */
export function solutionCode(task: TaskItem, variant = 0): string {
  const q = refs(task);
  switch (task.template) {
    case "warehouse":
    case "warehouse+distractors":
      return variant % 2 ? `items = ${q("boxes")} * ${q("per")}\nfinal_answer(items - ${q("shipped")})` : `final_answer(${q("boxes")} * ${q("per")} - ${q("shipped")})`;
    case "savings":
    case "savings+distractors":
      return variant % 2 ? `saved = ${q("weekly")} * ${q("weeks")} + ${q("bonus")}\nfinal_answer(saved - ${q("spent")})` : `final_answer(${q("weekly")} * ${q("weeks")} + ${q("bonus")} - ${q("spent")})`;
    case "series-sum":
      return `n = ${q("n")}\nfinal_answer(n * (n + 1) // 2)`;
    case "arithmetic-series":
      return `a, d, n = ${q("a")}, ${q("d")}, ${q("n")}\nfinal_answer(n * a + d * n * (n - 1) // 2)`;
    case "exact-product":
      return `final_answer(${q("x")} * ${q("y")} * ${q("z")})`;
    case "leftover":
      return task.operands.ceil === "1" ? `final_answer((${q("total")} + ${q("boxes")} - 1) // ${q("boxes")})` : `final_answer(${q("total")} % ${q("boxes")})`;
    case "count-multiples":
      return `final_answer(${q("hi")} // ${q("k")} - (${q("lo")} - 1) // ${q("k")})`;
    case "share-exactly":
      return `from fractions import Fraction\nfinal_answer(Fraction(${q("liters")}, ${q("tanks")}))`;
    case "tickets":
    case "tickets+distractors":
      return `final_answer(${q("adult")} * ${q("pa")} + ${q("child")} * ${q("pc")} - ${q("fee")})`;
    case "sum-of-squares":
      return `n = ${q("n")}\nfinal_answer(n * (n + 1) * (2 * n + 1) // 6)`;
    default:
      throw new Error(`no solution for template "${task.template}"`);
  }
}

/** A careless attempt for a task, and whether a correct second turn follows it (after a failed call). */
export function carelessCode(task: TaskItem): { name: string; code: string; retry: boolean } | null {
  const q = refs(task);
  const nums = questionNumbers(task.question);
  switch (task.template) {
    case "warehouse":
      return { name: "forgot-term", code: `final_answer(${q("boxes")} * ${q("per")})`, retry: false };
    case "warehouse+distractors":
      return { name: "distractor", code: `final_answer(${q("boxes")} * ${q("per")} - q[${nums.length - 1}])`, retry: false };
    case "savings":
      return { name: "forgot-term", code: `final_answer(${q("weekly")} * ${q("weeks")} - ${q("spent")})`, retry: false };
    case "savings+distractors":
      return { name: "distractor", code: `final_answer(${q("weekly")} * ${q("weeks")} + ${q("bonus")} - q[${nums.length - 1}])`, retry: false };
    case "series-sum":
      return { name: "loop", code: `final_answer(sum(range(1, ${q("n")} + 1)))`, retry: true };
    case "arithmetic-series":
      return { name: "loop", code: `a, d, n = ${q("a")}, ${q("d")}, ${q("n")}\nfinal_answer(sum(a + d * i for i in range(n)))`, retry: true };
    case "exact-product":
      return { name: "float", code: `final_answer(int(float(${q("x")}) * ${q("y")} * ${q("z")}))`, retry: false };
    case "leftover":
      return task.operands.ceil === "1" ? { name: "floor-not-ceil", code: `final_answer(${q("total")} // ${q("boxes")})`, retry: false } : null;
    case "count-multiples":
      return { name: "off-by-one", code: `final_answer(${q("hi")} // ${q("k")} - ${q("lo")} // ${q("k")})`, retry: false };
    case "share-exactly":
      return { name: "integer-division", code: `final_answer(${q("liters")} // ${q("tanks")})`, retry: false };
    default:
      return null;
  }
}

const OPENERS = ["I will compute this with Python.", "Let me calculate.", "I will use code for the arithmetic."];

/**
 * A trace for a task: one code turn answering with final_answer (the observation is its \boxed{} output),
 * or, with probability `carelessRate`, a careless turn first; a careless call that fails (a loop past the
 * time limit) is followed by a correct turn.
 */
export async function makeTrace(
  task: TaskItem, seed: number, run: (call: ToolCall) => Promise<SandboxResult>, carelessRate = 0, timeoutMs = 3000,
): Promise<Trace> {
  const rand = seededRandom(mixSeed(seed, 0x77ace));
  const variant = Math.floor(rand() * 4);
  const careless = rand() < carelessRate ? carelessCode(task) : null;
  const prelude = FINAL_ANSWER_PRELUDE.python + taskProblem(task).toolPrelude.python;
  const segments: TraceSegment[] = [];
  const turn = async (lead: string, code: string, mustSucceed: boolean) => {
    segments.push({ text: `${lead}\n${codeBlock(code)}`, role: "policy" });
    const result = await run({ language: "python", code, prelude, limits: { timeoutMs } });
    if (mustSucceed && (result.status !== "ok" || result.stderr)) throw new Error(`trace for ${task.id}: code failed: ${result.stderr || result.status}`);
    segments.push({ text: formatObservation(result), role: "observation" });
    return result;
  };
  const opener = OPENERS[Math.floor(rand() * OPENERS.length)];
  if (careless) {
    const r = await turn(opener, careless.code, false);
    if (careless.retry && r.status !== "ok") await turn("That did not finish; the closed form is instant.", solutionCode(task, variant), true);
  } else {
    await turn(opener, solutionCode(task, variant), true);
  }
  return { prompt: buildPrompt(taskProblem(task).question), segments, answer: task.answer, careless: careless?.name ?? null };
}

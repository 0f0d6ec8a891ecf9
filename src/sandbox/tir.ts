// TIR protocol (TAO-RL.md §1), text level: find the code block a turn ends with, run it fresh with the
// `final_answer` helper, classify the outcome, format the observation, extract the answer.
// Runtime-free. The token-level cut to `max_obs_tokens` belongs to the rollout code (it needs the tokenizer).
import type { SandboxResult, ToolOutcome, TurnKind } from "../types.js";
import type { Language, SandboxLimits } from "./sandbox.js";

/** Fence tags that mark a code block, and the language each routes to. A bare fence uses the default. */
const FENCE_LANGUAGES: Record<string, Language> = { python: "python", py: "python", js: "javascript", javascript: "javascript" };

export interface CodeBlock {
  language: Language;
  /** The fence's tag as written ("" for a bare fence). */
  tag: string;
  code: string;
  /** Index of the block's opening fence in the text. */
  start: number;
  /** Index just past the closing fence: the turn's text is cut here. */
  end: number;
}

/**
 * The first complete fenced code block whose tag is python, py, js, javascript (any case) or empty.
 * Blocks with other tags (```text, ```bash) are skipped; an unclosed block is not complete.
 */
export function firstCodeBlock(text: string, defaultLanguage: Language = "python"): CodeBlock | null {
  let from = 0;
  for (;;) {
    const open = text.indexOf("```", from);
    if (open < 0) return null;
    const lineEnd = text.indexOf("\n", open + 3);
    if (lineEnd < 0) return null;
    const header = text.slice(open + 3, lineEnd).trim();
    if (!/^[A-Za-z0-9_+.-]*$/.test(header)) { from = open + 3; continue; }
    const close = text.indexOf("```", lineEnd + 1);
    if (close < 0) return null;
    const tag = header.toLowerCase();
    const language = tag === "" ? defaultLanguage : FENCE_LANGUAGES[tag];
    if (language) return { language, tag: header, code: text.slice(lineEnd + 1, close), start: open, end: close + 3 };
    from = close + 3;
  }
}

/** Text after the first complete code block is cut (TAO-RL.md §1). */
export function cutAfterFirstBlock(text: string, defaultLanguage: Language = "python"): string {
  const block = firstCodeBlock(text, defaultLanguage);
  return block ? text.slice(0, block.end) : text;
}

/** code: a complete code block (execute it); answer: contains `\boxed{` (the trajectory ends); void: neither. */
export function turnKind(text: string, defaultLanguage: Language = "python"): TurnKind {
  if (firstCodeBlock(text, defaultLanguage)) return "code";
  return text.includes("\\boxed{") ? "answer" : "void";
}

/** The `final_answer(x)` helper, defined before each block: it prints `\boxed{x}`. */
export const FINAL_ANSWER_PRELUDE: Record<Language, string> = {
  python: 'def final_answer(x):\n    print("\\\\boxed{" + str(x) + "}")\n',
  javascript: 'function final_answer(x) { print("\\\\boxed{" + String(x) + "}"); }\n',
};

/** valid: stdout has non-whitespace text and stderr is empty. Everything else is a failure, by kind. */
export function classifyOutcome(result: SandboxResult): ToolOutcome {
  switch (result.status) {
    case "timeout": return "timeout";
    case "oom": return "oom";
    case "output_limit": return "output_limit";
    case "error": return "error";
    case "ok":
      if (result.stderr.length > 0) return "error";
      return result.stdout.trim().length > 0 ? "valid" : "empty";
  }
}

/** The reference's exact marker between the kept head and tail of a long observation. */
export const TRUNCATION_MARKER = "\n..._This content has been truncated to stay below 512 characters_...\n";
export const OBSERVATION_PREFIX = "\nCode execution result: ";
export const OBSERVATION_SUFFIX = "\n";
export const INTERPRETER_TIMEOUT = "interpreter timeout";

/** Last non-empty line of a text ("" when there is none). */
export function lastLine(text: string): string {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i].trim() !== "") return lines[i].replace(/\r$/, "");
  return "";
}

/**
 * The observation's `<text>`: stdout for a valid run; the last stderr line for an error; when the sandbox
 * itself failed (timeout, out of memory, output limit) whatever it printed, or `interpreter timeout` if
 * nothing; empty when nothing was printed.
 */
export function observationText(result: SandboxResult): string {
  if (result.status === "timeout" || result.status === "oom" || result.status === "output_limit") {
    return result.stdout.length > 0 ? result.stdout : INTERPRETER_TIMEOUT;
  }
  if (result.stderr.length > 0) return lastLine(result.stderr);
  return result.stdout;
}

/** A text over `maxChars` keeps its first and last `maxChars / 2` characters with the marker between. */
export function truncateObservation(text: string, maxChars = 512): string {
  if (text.length <= maxChars) return text;
  const half = Math.floor(maxChars / 2);
  return text.slice(0, half) + TRUNCATION_MARKER + text.slice(text.length - half);
}

/** `\nCode execution result: <text>\n` with `<text>` cut to `maxChars` (TAO-RL.md §1). */
export function formatObservation(result: SandboxResult, maxChars = 512): string {
  return OBSERVATION_PREFIX + truncateObservation(observationText(result), maxChars) + OBSERVATION_SUFFIX;
}

/** Content of the last complete `\boxed{...}`, braces nested; null when there is none. */
export function extractBoxed(text: string): string | null {
  const key = "\\boxed{";
  for (let at = text.lastIndexOf(key); at >= 0; at = at === 0 ? -1 : text.lastIndexOf(key, at - 1)) {
    let depth = 1;
    for (let i = at + key.length; i < text.length; i++) {
      const c = text[i];
      if (c === "{") depth++;
      else if (c === "}" && --depth === 0) return text.slice(at + key.length, i);
    }
  }
  return null;
}

/** What a runner needs for one block; `SandboxPool.run` accepts it as is. */
export interface ToolCall {
  language: Language;
  code: string;
  prelude?: string;
  limits?: Partial<SandboxLimits>;
}

export interface CodeTurn {
  block: CodeBlock;
  result: SandboxResult;
  outcome: ToolOutcome;
  observation: string;
  /** stdout contains `\boxed{`: the trajectory ends after this turn. */
  answered: boolean;
}

export interface CodeTurnOptions {
  defaultLanguage?: Language;
  /** Source run before the block (after `final_answer`'s), per language: a task's own variables. */
  prelude?: Partial<Record<Language, string>>;
  limits?: Partial<SandboxLimits>;
  maxObsChars?: number;
}

/** Runs a turn's first code block fresh with the `final_answer` helper; null when the turn has no block. */
export async function executeCodeTurn(
  text: string,
  run: (call: ToolCall) => Promise<SandboxResult>,
  options: CodeTurnOptions = {},
): Promise<CodeTurn | null> {
  const block = firstCodeBlock(text, options.defaultLanguage);
  if (!block) return null;
  const prelude = FINAL_ANSWER_PRELUDE[block.language] + (options.prelude?.[block.language] ?? "");
  const result = await run({ language: block.language, code: block.code, prelude, limits: options.limits });
  return {
    block,
    result,
    outcome: classifyOutcome(result),
    observation: formatObservation(result, options.maxObsChars),
    answered: result.stdout.includes("\\boxed{"),
  };
}

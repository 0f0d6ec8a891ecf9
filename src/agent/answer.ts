// Final-answer extraction and math-equivalence checking (TAO-RL.md §1 reward). Pure and total: every
// function returns a value for any input (garbage compares unequal), inputs are length-bounded and the
// LaTeX evaluator is depth-bounded, so a policy's output can never throw or hang the reward.
//
// Rules, in order (docs/tasks.md states them with examples):
// 1. Normalise both sides: strip $, \left/\right, spacing commands, \text units, degrees, thousands
//    commas, a leading "x =" and a trailing period; \dfrac/\tfrac → \frac, \frac12 → \frac{1}{2}.
// 2. Equal normalised strings are equal.
// 3. Structure: bare comma lists and \{…\} sets compare unordered; (…) […] (…] tuples and intervals
//    element-wise with their bracket types; \cup unions part by part; matrices cell by cell; a ± b is
//    the set {a+b, a-b}.
// 4. Atoms: numbers numerically (integers exactly, with BigInt; floats to `relTol`); numeric LaTeX is
//    evaluated (fractions, roots, π, powers); expressions with variables are compared at fixed sample
//    points; equations a = b compare a − b up to a constant factor; otherwise not equal.
import { evaluateLatex, latexVariables } from "./latex.js";

/** Options of `answersEqual`; the benchmark loaders attach the right ones to each record. */
export interface CheckOptions {
  /** Relative tolerance for non-integer numbers (default 1e-4). Integers compare exactly. */
  relTol?: number;
  /** Compare top-level lists as sets (default: bare lists and \{…\} are sets, tuples are ordered). */
  unordered?: boolean;
  /**
   * Accept a prediction that rounds to the truth at the truth's significant figures (physics answers
   * such as "1.6" or "4.5e33" in Minerva).
   */
  sigFigs?: boolean;
  /** Also accept non-integer numbers within this absolute difference (GSM-Hard: rounded cents). */
  absTol?: number;
}

/** Longest answer string compared; longer ones are unequal. */
export const MAX_ANSWER_CHARS = 2000;
/** Longest response scanned for \boxed (its tail is kept). */
export const MAX_RESPONSE_CHARS = 1_000_000;

const MAX_BOX_TRIES = 16;
const BOX_RE = /\\(?:boxed|fbox|framebox)(?![a-zA-Z])/g;

/**
 * The content of the last complete `\boxed{…}` (or `\fbox{…}`, `\framebox{…}`, `\boxed 5`), with nested
 * braces; null when there is none.
 * @example extractBoxed("so \\boxed{\\frac{1}{2}}.") // "\\frac{1}{2}"
 */
export function extractBoxed(text: string): string | null {
  if (typeof text !== "string") return null;
  const s = text.length > MAX_RESPONSE_CHARS ? text.slice(-MAX_RESPONSE_CHARS) : text;
  const starts: number[] = [];
  for (const m of s.matchAll(BOX_RE)) starts.push(m.index + m[0].length);
  // at most MAX_BOX_TRIES unbalanced boxes are skipped, so a flood of "\boxed{" stays linear
  for (let k = starts.length - 1; k >= Math.max(0, starts.length - MAX_BOX_TRIES); k--) {
    let i = starts[k];
    while (s[i] === " ") i++;
    if (s[i] === "{") {
      let depth = 0;
      for (let j = i; j < s.length; j++) {
        const c = s[j];
        if (c === "\\") { j++; continue; } // \{ and \} do not nest
        if (c === "{") depth++;
        else if (c === "}" && --depth === 0) return s.slice(i + 1, j);
      }
      continue; // unbalanced: try the previous one
    }
    if (i > starts[k]) {
      const m = /^[^\s$]+/.exec(s.slice(i, i + 200));
      if (m) return m[0].replace(/[.,]$/, "");
    }
  }
  return null;
}

const ROW = "\u0001";

const UNIT_WORDS = [
  "cm", "mm", "km", "m", "kg", "g", "mg", "s", "sec", "seconds", "second", "min", "mins", "minute", "minutes",
  "h", "hr", "hrs", "hour", "hours", "day", "days", "week", "weeks", "year", "years", "km/h", "m/s", "mph",
  "inch", "inches", "in", "ft", "foot", "feet", "yard", "yards", "mile", "miles", "meter", "meters", "metres",
  "dollars", "dollar", "cents", "cent", "degrees", "degree", "units", "unit", "square", "sq", "percent", "points",
];
const UNIT_TAIL = new RegExp(
  `(?<=[\\d}.)])\\s*(?:(?:square|sq\\.?|cubic)\\s+)?(?:${UNIT_WORDS.map((u) => u.replace("/", "\\/")).join("|")})(?:\\^?\\{?[23]\\}?)?\\s*$`,
);

/** Remove \text{…} groups: unwrap when the whole answer or a subscript, drop when they follow maths (units). */
function stripText(s: string): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const m = /^\\(?:text|textbf|textit|textrm|mbox|mathrm|mathbf|mathit|operatorname)\s*\{/.exec(s.slice(i, i + 20));
    if (!m) { out += s[i++]; continue; }
    let depth = 0;
    let j = i + m[0].length - 1;
    for (; j < s.length; j++) {
      if (s[j] === "{") depth++;
      else if (s[j] === "}" && --depth === 0) break;
    }
    if (j >= s.length) return s; // unbalanced: leave as is
    const inner = s.slice(i + m[0].length, j);
    const before = out.trimEnd();
    const isUnit = before !== "" && !/[_{(,=^]$/.test(before) && /^\s*(?:~|\\[,;! ])*\s*[a-zA-Z%°/\\][a-zA-Z%°/\s.^{}0-9\\]*$/.test(inner);
    let k = j + 1;
    if (isUnit) {
      const pow = /^\s*\^\s*\{?\s*[23]\s*\}?/.exec(s.slice(k));
      if (pow) k += pow[0].length;
    } else out += inner;
    i = k;
  }
  return out;
}

/** Remove the braces around a single-character sub- or superscript: x^{2} → x^2, 52_{8} → 52_8. */
function simpleScripts(s: string): string {
  return s.replace(/([_^])\{\s*([a-zA-Z0-9])\s*\}/g, "$1$2");
}

/**
 * A canonical text form of an answer: what two equal answers share when they were written the same
 * way up to formatting. Never throws.
 * @example normalizeAnswer("$\\dfrac12$ cm") // "\\frac{1}{2}"
 */
export function normalizeAnswer(input: string): string {
  if (typeof input !== "string") return "";
  let s = input.length > MAX_ANSWER_CHARS ? input.slice(0, MAX_ANSWER_CHARS) : input;
  s = s.replace(/\r?\n/g, " ").trim();
  s = s.replace(/\\\\/g, ROW); // matrix row breaks survive the spacing rules below
  s = s.replace(/\\\$/g, "").replace(/\$/g, "");
  s = s.replace(/\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])\s*(\\?[()[\]{}|.])/g, (_m, b: string) => (b === "." ? "" : b));
  s = s.replace(/\\(?:displaystyle|textstyle)(?![a-zA-Z])/g, "");
  s = s.replace(/\\[!,;: ]/g, "").replace(/\\q?quad(?![a-zA-Z])/g, "").replace(/~/g, " ");
  s = s.replace(/\\[dt]frac(?![a-zA-Z])/g, "\\frac").replace(/\\[dt]binom(?![a-zA-Z])/g, "\\binom");
  s = s.replace(/\\geqslant|\\ge(?![a-zA-Z])/g, "\\geq").replace(/\\leqslant|\\le(?![a-zA-Z])/g, "\\leq");
  s = s.replace(/\\neq|\\ne(?![a-zA-Z])/g, "\\neq");
  // degrees: ^\circ, ^{\circ}, °, \degree
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree(?![a-zA-Z])/g, "");
  s = stripText(s);
  s = s.replace(/\\%/g, "%");
  // \frac12 → \frac{1}{2}, \frac 59, \frac9{19}, \frac{270}7, \sqrt2 → \sqrt{2}
  s = s.replace(/\\frac\s*(\d)\s*(\d)/g, "\\frac{$1}{$2}");
  s = s.replace(/\\frac\s*(\d)\s*\{/g, "\\frac{$1}{");
  s = s.replace(/\\frac\s*(\{[^{}]*\})\s*(\d)/g, "\\frac$1{$2}");
  s = s.replace(/\\frac\s*(\{[^{}]*\})\s*([a-zA-Z])(?![a-zA-Z])/g, "\\frac$1{$2}");
  s = s.replace(/\\sqrt\s*(\d|[a-zA-Z](?![a-zA-Z]))/g, "\\sqrt{$1}");
  s = s.replace(/\s+/g, " ").trim();
  s = s.replace(UNIT_TAIL, "");
  // spaces only matter between a command name and a following letter (\cot x)
  s = s.replace(/(\\[a-zA-Z]+) (?=[a-zA-Z])/g, "$1\u0000").replace(/ /g, "").replace(/\u0000/g, " ");
  s = simpleScripts(s);
  s = s.replace(/^(?:\\therefore|\\Rightarrow|\\implies)/, "");
  // trailing period or comma
  s = s.replace(/(?:\\\.|[.,;])+$/, "");
  // a leading "x =", "f(x) =", "m_{\max} =", "x \in"
  const lhs = /^(?:[a-zA-Z](?:_\{?[a-zA-Z0-9\\]+\}?)?(?:\([a-zA-Z]\))?|\\[a-zA-Z]+)(?:=|\\in(?![a-zA-Z]))(?!=)/.exec(s);
  if (lhs && !/=.*=/.test(s.slice(lhs[0].length - 1))) s = s.slice(lhs[0].length);
  // thousands separators in a plain number: 10,080 → 10080
  if (/^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/,/g, "");
  // 0.50 → 0.5, 27.0 → 27, +2 → 2
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)$/.test(s)) s = canonicalDecimal(s);
  return s.split(ROW).join("\\\\");
}

function canonicalDecimal(s: string): string {
  let t = s.startsWith("+") ? s.slice(1) : s;
  const neg = t.startsWith("-");
  if (neg) t = t.slice(1);
  let [int, frac = ""] = t.split(".");
  int = int.replace(/^0+(?=\d)/, "") || "0";
  frac = frac.replace(/0+$/, "");
  const body = frac ? `${int}.${frac}` : int;
  return neg && body !== "0" ? `-${body}` : body;
}

// ---------------------------------------------------------------------------------------------------
// Structure: lists, sets, tuples, intervals, unions, matrices.

type Node =
  | { k: "atom"; s: string }
  | { k: "list"; items: Node[]; set: boolean; pm?: boolean }
  | { k: "tuple"; open: string; close: string; items: Node[] }
  | { k: "union"; parts: Node[] }
  | { k: "matrix"; rows: Node[][] };

const OPENERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

/** Split at top-level occurrences of `sep` (outside (), [], {}). Interval brackets such as (3,4] are allowed. */
function splitTop(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\" && s[i + 1] !== "{" && s[i + 1] !== "}" && !s.startsWith(sep, i)) continue;
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (depth === 0 && s.startsWith(sep, i)) {
      parts.push(s.slice(last, i));
      last = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(s.slice(last));
  return parts;
}

/** Is s[0] an opening bracket whose match (any closing bracket at depth 0) is the last character? */
function wrapped(s: string): boolean {
  if (s.length < 2 || !"([".includes(s[0]) && !s.startsWith("\\{")) return false;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0 && i < s.length - 1) return false;
    }
  }
  return depth === 0;
}

/** Parse list items, splicing a ± pair into the surrounding list: {1 ± √5, -2} has three members. */
function parseItems(parts: string[], depth: number): Node[] {
  return parts.flatMap((p) => {
    const n = parseNode(p, depth + 1);
    return n.k === "list" && n.pm ? n.items : [n];
  });
}

function parseNode(s: string, depth: number): Node {
  if (depth > 8) return { k: "atom", s };
  const mat = /^\\begin\{[pbvBV]?matrix\}(.*)\\end\{[pbvBV]?matrix\}$/.exec(s);
  if (mat) {
    const rows = mat[1].split("\\\\").filter((r) => r !== "").map((r) => r.split("&").map((c) => parseNode(c, depth + 1)));
    return { k: "matrix", rows };
  }
  const union = splitTop(s, "\\cup");
  if (union.length > 1) return { k: "union", parts: union.map((p) => parseNode(p, depth + 1)) };
  const items = splitTop(s, ",");
  if (items.length > 1) return { k: "list", items: parseItems(items, depth), set: true };
  if (s.startsWith("\\{") && s.endsWith("\\}") && wrapped(s)) {
    const inner = s.slice(2, -2);
    return { k: "list", items: inner === "" ? [] : parseItems(splitTop(inner, ","), depth), set: true };
  }
  if (wrapped(s)) {
    const inner = s.slice(1, -1);
    const parts = splitTop(inner, ",");
    if (parts.length > 1) return { k: "tuple", open: s[0], close: s[s.length - 1], items: parts.map((p) => parseNode(p, depth + 1)) };
  }
  // a ± b → {a + b, a - b}
  const pm = splitTop(s, "\\pm");
  if (pm.length === 2 && pm[0] !== "") {
    return { k: "list", set: true, pm: true, items: [{ k: "atom", s: `${pm[0]}+${pm[1]}` }, { k: "atom", s: `${pm[0]}-${pm[1]}` }] };
  }
  return { k: "atom", s };
}

function nodesEqual(a: Node, b: Node, o: Required<CheckOptions>, unorderedTop: boolean): boolean {
  if (a.k === "atom" && b.k === "atom") return atomsEqual(a.s, b.s, o);
  if (a.k === "matrix" && b.k === "matrix") {
    return a.rows.length === b.rows.length && a.rows.every((r, i) => r.length === b.rows[i].length && r.every((c, j) => nodesEqual(c, b.rows[i][j], o, false)));
  }
  if (a.k === "tuple" && b.k === "tuple") {
    return a.open === b.open && a.close === b.close && a.items.length === b.items.length && a.items.every((x, i) => nodesEqual(x, b.items[i], o, false));
  }
  if (a.k === "union" && b.k === "union") return sameMultiset(a.parts, b.parts, o);
  if (a.k === "list" && b.k === "list") {
    if (a.items.length !== b.items.length) return false;
    if (a.set || b.set || unorderedTop) return sameMultiset(a.items, b.items, o);
    return a.items.every((x, i) => nodesEqual(x, b.items[i], o, false));
  }
  // one-element set vs its element, e.g. "\{5\}" vs "5"
  if (a.k === "list" && a.items.length === 1) return nodesEqual(a.items[0], b, o, false);
  if (b.k === "list" && b.items.length === 1) return nodesEqual(a, b.items[0], o, false);
  return false;
}

/** Greedy matching is exact here: equality of items is (up to tolerance) transitive. */
function sameMultiset(xs: Node[], ys: Node[], o: Required<CheckOptions>): boolean {
  if (xs.length !== ys.length || xs.length > 64) return false;
  const used = new Array<boolean>(ys.length).fill(false);
  for (const x of xs) {
    const j = ys.findIndex((y, k) => !used[k] && nodesEqual(x, y, o, false));
    if (j < 0) return false;
    used[j] = true;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Atoms: numbers, numeric LaTeX, expressions.

const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** An exact rational (BigInt) for a decimal literal, e.g. "-1.25e2" → -125/1. */
function decimalToRational(s: string): [bigint, bigint] | null {
  const m = /^([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === "" && m[3] === "")) return null;
  const exp = Number(m[4] ?? 0) - m[3].length;
  if (Math.abs(exp) > 400) return null;
  let num = BigInt((m[2] || "0") + m[3]);
  let den = 1n;
  if (exp >= 0) num *= 10n ** BigInt(exp);
  else den = 10n ** BigInt(-exp);
  if (m[1] === "-") num = -num;
  return [num, den];
}

/** Is s a plain integer literal (after normalisation)? Those compare exactly. */
function isIntegerLiteral(s: string): boolean {
  return /^[+-]?\d+$/.test(s);
}

/** Pass a mixed number such as 1\frac{4}{5} (= 9/5) as an explicit sum. */
function mixedNumber(s: string): string {
  return s.replace(/^(-?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$/, (all, sign: string, w: string, n: string, d: string) =>
    Number(n) < Number(d) ? `${sign}(${w}+\\frac{${n}}{${d}})` : all);
}

function close(x: number, y: number, relTol: number): boolean {
  if (x === y) return true;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  return Math.abs(x - y) <= relTol * Math.max(Math.abs(x), Math.abs(y)) || Math.abs(x - y) <= 1e-12;
}

function sigFigsMatch(pred: number, truth: string): boolean {
  const m = /^[+-]?(\d*)\.?(\d*)(?:[eE][+-]?\d+)?$/.exec(truth);
  if (!m || (!truth.includes(".") && !/e/i.test(truth))) return false;
  const digits = (m[1] + m[2]).replace(/^0+/, "");
  const k = Math.max(1, Math.min(15, digits.length));
  const t = Number(truth);
  if (!Number.isFinite(pred) || t === 0) return false;
  return Number(pred.toPrecision(k)) === Number(t.toPrecision(k));
}

/** Points at which expressions with free variables are compared. */
const SAMPLE_POINTS = [0.7315, 1.4142, 2.2361, 3.1937];

function sampleEnv(names: string[], point: number): Record<string, number> {
  const env: Record<string, number> = {};
  names.forEach((n, i) => { env[n] = point + 0.37 * i + 0.11 * ((n.charCodeAt(0) * 7) % 5); });
  return env;
}

function atomsEqual(a0: string, b0: string, o: Required<CheckOptions>): boolean {
  if (a0 === b0) return a0 !== "";
  if (a0 === "" || b0 === "") return false;
  // percentages: 62.5% equals 62.5 and 0.625
  const aPct = a0.endsWith("%");
  const bPct = b0.endsWith("%");
  const a = mixedNumber(aPct ? a0.slice(0, -1) : a0);
  const b = mixedNumber(bPct ? b0.slice(0, -1) : b0);
  if (a === b && a !== "") return true;
  // exact integers, exact decimals
  if (DECIMAL_RE.test(a) && DECIMAL_RE.test(b) && isIntegerLiteral(b) && !aPct && !bPct) {
    const ra = decimalToRational(a);
    const rb = decimalToRational(b);
    if (ra && rb) return ra[0] * rb[1] === rb[0] * ra[1];
  }
  const x = evaluateLatex(a);
  const y = evaluateLatex(b);
  if (x !== null && y !== null) {
    const candidates = aPct || bPct ? [x, aPct ? x / 100 : x * 100] : [x];
    for (const c of candidates) {
      if (c === y) return true;
      if (isIntegerLiteral(b) && Math.abs(y) > 2 ** 53 && !isIntegerLiteral(a)) {
        if (close(c, y, 1e-12)) return true;
      } else if (isIntegerLiteral(b) || (Number.isInteger(y) && Math.abs(y) < 2 ** 53)) {
        // an integer-valued truth (27, 2021·505·337) is matched exactly, up to float rounding
        if (Math.abs(c - y) <= 1e-9 * Math.max(1, Math.abs(y))) return true;
      } else if (close(c, y, o.relTol) || Math.abs(c - y) <= o.absTol) return true;
      if (o.sigFigs && sigFigsMatch(c, b)) return true;
    }
    return false;
  }
  return symbolicEqual(a, b);
}

/** Expressions with variables: equal values at every sample point; equations: proportional sides. */
function symbolicEqual(a: string, b: string): boolean {
  const ea = splitTop(a, "=");
  const eb = splitTop(b, "=");
  if (ea.length !== eb.length || ea.length > 2) return false;
  const ta = ea.length === 2 ? `(${ea[0]})-(${ea[1]})` : a;
  const tb = eb.length === 2 ? `(${eb[0]})-(${eb[1]})` : b;
  const va = latexVariables(ta);
  const vb = latexVariables(tb);
  if (!va || !vb || vb.length === 0 || vb.length > 8) return false;
  const names = [...new Set([...va, ...vb])].sort();
  let ratio: number | null = null;
  let checked = 0;
  for (const p of SAMPLE_POINTS) {
    const env = sampleEnv(names, p);
    const x = evaluateLatex(ta, env);
    const y = evaluateLatex(tb, env);
    if (x === null || y === null) return false;
    if (!Number.isFinite(x) || !Number.isFinite(y)) { if (x !== y) return false; continue; }
    if (ea.length === 2) {
      // both sides zero at this point says nothing about the factor
      if (Math.abs(y) < 1e-12) { if (Math.abs(x) > 1e-9) return false; continue; }
      const r = x / y;
      if (ratio === null) ratio = r;
      else if (!close(r, ratio, 1e-8)) return false;
      if (ratio === 0) return false;
    } else if (!close(x, y, 1e-8)) return false;
    checked++;
  }
  return checked > 0;
}

const DEFAULTS: Required<CheckOptions> = { relTol: 1e-4, unordered: false, sigFigs: false, absTol: 0 };

/**
 * Math equivalence of a predicted answer and the ground truth. Total: never throws; garbage is false.
 * @example answersEqual("0.5", "\\frac{1}{2}") // true
 * @example answersEqual("(3,4)", "(3,4]") // false
 */
export function answersEqual(predicted: string, truth: string, opts: CheckOptions = {}): boolean {
  try {
    if (typeof predicted !== "string" || typeof truth !== "string") return false;
    if (predicted.length > MAX_ANSWER_CHARS || truth.length > MAX_ANSWER_CHARS) return false;
    const o: Required<CheckOptions> = {
      relTol: Number.isFinite(opts.relTol) && (opts.relTol as number) >= 0 ? (opts.relTol as number) : DEFAULTS.relTol,
      unordered: opts.unordered ?? DEFAULTS.unordered,
      sigFigs: opts.sigFigs ?? DEFAULTS.sigFigs,
      absTol: Number.isFinite(opts.absTol) && (opts.absTol as number) >= 0 ? (opts.absTol as number) : DEFAULTS.absTol,
    };
    const a = normalizeAnswer(predicted);
    const b = normalizeAnswer(truth);
    if (a === "" || b === "") return false;
    if (a === b) return true;
    return nodesEqual(parseNode(a, 0), parseNode(b, 0), o, o.unordered);
  } catch {
    return false;
  }
}

/**
 * TAO-RL.md §1: 1 when the last extracted `\boxed{}` answer of the response equals the truth, else 0.
 * @example reward("… so the answer is \\boxed{18}.", "18") // 1
 */
export function reward(responseText: string, truth: string, opts: CheckOptions = {}): 0 | 1 {
  const predicted = extractBoxed(responseText);
  return predicted !== null && answersEqual(predicted, truth, opts) ? 1 : 0;
}

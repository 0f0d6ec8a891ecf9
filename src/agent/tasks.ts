// A procedural, verifiable tool-use task family (docs/tasks.md): multi-step arithmetic word problems
// whose operands grow with the level, so a small policy needs the code tool. Kinds:
// - plain: a multi-step story; distractor: the same with irrelevant numeric sentences;
// - trap: a naive loop would run ~10^9+ iterations (past the 3 s sandbox limit), a closed form is instant;
// - careless: exactness (products beyond 2^53, exact fractions), floor/ceil rules stated in words,
//   inclusive ranges (off-by-one).
// Answers are exact strings (BigInt integers or reduced \frac{p}{q}). Everything derives from
// mixSeed(seed, split stream, index): train and test never share a seed, and held-out templates appear
// only in the "ood" split. Pure (no node:), so tasks can be generated in a browser or a worker.
import { mixSeed, seededRandom } from "../rl/index.js";

export type TaskKind = "plain" | "distractor" | "trap" | "careless";
export type TaskSplit = "train" | "test" | "ood";

export interface TaskItem {
  id: string;
  level: number;
  template: string;
  question: string;
  /** Exact answer: an integer string or a reduced fraction \frac{p}{q}. */
  answer: string;
  kind: TaskKind;
  split: TaskSplit;
  /** The template's operands as decimal strings, for independent re-checking. */
  operands: Record<string, string>;
}

/** Highest level; level L draws operands of `operandDigits(L)` digits. */
export const MAX_LEVEL = 8;

/** Digits of the main operands: 2 at level 1, growing to 13 at level 8. */
export function operandDigits(level: number): number {
  const l = Math.min(MAX_LEVEL, Math.max(1, Math.floor(level)));
  return Math.round(2 + ((l - 1) * 11) / (MAX_LEVEL - 1));
}

type Rand = () => number;

function randInt(rand: Rand, lo: number, hi: number): number {
  return lo + Math.min(hi - lo, Math.floor(rand() * (hi - lo + 1)));
}

/** A uniform integer with exactly `digits` digits (leading digit 1-9). */
export function randomDigits(rand: Rand, digits: number): bigint {
  let s = String(randInt(rand, 1, 9));
  for (let i = 1; i < digits; i++) s += String(randInt(rand, 0, 9));
  return BigInt(s);
}

function pick<T>(rand: Rand, xs: readonly T[]): T {
  return xs[randInt(rand, 0, xs.length - 1)];
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}

/** p/q reduced, as "n" or "\frac{p}{q}" (q > 0). */
export function fractionAnswer(p: bigint, q: bigint): string {
  if (q === 0n) throw new RangeError("zero denominator");
  if (q < 0n) { p = -p; q = -q; }
  const g = gcd(p, q) || 1n;
  const [n, d] = [p / g, q / g];
  if (d === 1n) return String(n);
  return n < 0n ? `-\\frac{${-n}}{${d}}` : `\\frac{${n}}{${d}}`;
}

interface Made { question: string; answer: string; operands: Record<string, bigint> }

export interface TaskTemplate {
  name: string;
  kind: TaskKind;
  /** Held-out templates appear only in the "ood" split. */
  heldOut: boolean;
  make(rand: Rand, level: number): Made;
}

const NAMES = ["Ana", "Ben", "Chen", "Dara", "Eli", "Farah", "Goro", "Hana", "Ivan", "Jo"];
const DISTRACTORS = [
  (r: Rand) => `The building has ${randInt(r, 2, 90)} windows.`,
  (r: Rand) => `The manager is ${randInt(r, 20, 70)} years old.`,
  (r: Rand) => `Last year ${randInt(r, 100, 9999)} visitors came on the opening day.`,
  (r: Rand) => `The truck's license plate ends in ${randInt(r, 10, 99)}.`,
];

function warehouse(rand: Rand, level: number): Made {
  const d = operandDigits(level);
  const boxes = randomDigits(rand, Math.max(2, Math.ceil(d / 2)));
  const per = randomDigits(rand, Math.max(2, Math.floor(d / 2) + 1));
  const shipped = randomDigits(rand, d) % (boxes * per);
  const who = pick(rand, NAMES);
  return {
    question: `${who}'s warehouse receives ${boxes} boxes holding ${per} items each. Then ${shipped} items are shipped out. How many items remain in the warehouse?`,
    answer: String(boxes * per - shipped),
    operands: { boxes, per, shipped },
  };
}

function savings(rand: Rand, level: number): Made {
  const d = operandDigits(level);
  const weekly = randomDigits(rand, d);
  const weeks = BigInt(randInt(rand, 3, 52));
  const bonus = randomDigits(rand, d);
  const spent = randomDigits(rand, d) % (weekly * weeks + bonus);
  const who = pick(rand, NAMES);
  return {
    question: `${who} saves ${weekly} dollars every week for ${weeks} weeks, receives a bonus of ${bonus} dollars, and then spends ${spent} dollars. How many dollars does ${who} have left?`,
    answer: String(weekly * weeks + bonus - spent),
    operands: { weekly, weeks, bonus, spent },
  };
}

/** A plain template with 1-3 irrelevant sentences inserted before the question. */
function withDistractors(make: (r: Rand, l: number) => Made): (r: Rand, l: number) => Made {
  return (rand, level) => {
    const m = make(rand, level);
    const cut = m.question.lastIndexOf(". ") + 2;
    const first = randInt(rand, 0, DISTRACTORS.length - 1);
    const extra = Array.from({ length: randInt(rand, 1, 3) }, (_, k) => DISTRACTORS[(first + k) % DISTRACTORS.length](rand)).join(" ");
    return { ...m, question: `${m.question.slice(0, cut)}${extra} ${m.question.slice(cut)}` };
  };
}

/** Trap operand: at least 10^9, so a loop over it cannot finish in the sandbox's 3 s. */
function trapN(rand: Rand, level: number): bigint {
  return randomDigits(rand, Math.max(10, operandDigits(level)));
}

function seriesSum(rand: Rand, level: number): Made {
  const n = trapN(rand, level);
  return { question: `What is the sum of all integers from 1 to ${n}, inclusive?`, answer: String((n * (n + 1n)) / 2n), operands: { n } };
}

function arithmeticTerm(rand: Rand, level: number): Made {
  const a = randomDigits(rand, Math.min(6, operandDigits(level)));
  const dd = BigInt(randInt(rand, 2, 97));
  const n = trapN(rand, level);
  return {
    question: `A sequence starts at ${a} and each term is ${dd} more than the one before. What is the sum of its first ${n} terms?`,
    answer: String(n * a + (dd * n * (n - 1n)) / 2n),
    operands: { a, d: dd, n },
  };
}

function exactProduct(rand: Rand, level: number): Made {
  const d = operandDigits(level);
  const x = randomDigits(rand, d);
  const y = randomDigits(rand, d);
  const z = randomDigits(rand, Math.max(2, d - 1));
  return {
    question: `A factory makes ${x} crates a year, each crate holds ${y} bolts, and each bolt weighs ${z} milligrams. What is the exact total weight of one year's bolts in milligrams?`,
    answer: String(x * y * z),
    operands: { x, y, z },
  };
}

function leftover(rand: Rand, level: number): Made {
  const d = operandDigits(level);
  const total = randomDigits(rand, d + 1);
  const k = randomDigits(rand, Math.max(1, Math.ceil(d / 2)));
  const boxes = k < 2n ? 2n : k;
  const askBoxes = rand() < 0.5;
  return askBoxes
    ? {
        question: `${total} books must be packed into boxes that hold ${boxes} books each. A partly filled box still counts as a box. How many boxes are needed?`,
        answer: String((total + boxes - 1n) / boxes),
        operands: { total, boxes, ceil: 1n },
      }
    : {
        question: `${total} coins are shared equally among ${boxes} people, each receiving as many whole coins as possible. How many coins are left over?`,
        answer: String(total % boxes),
        operands: { total, boxes, ceil: 0n },
      };
}

function countMultiples(rand: Rand, level: number): Made {
  const d = operandDigits(level);
  const lo = randomDigits(rand, d);
  const hi = lo + randomDigits(rand, d + 1);
  const k = BigInt(randInt(rand, 3, 97));
  return {
    question: `How many integers from ${lo} to ${hi}, including both ends, are divisible by ${k}?`,
    answer: String(hi / k - (lo - 1n) / k),
    operands: { lo, hi, k },
  };
}

function shareExactly(rand: Rand, level: number): Made {
  const d = operandDigits(level);
  const liters = randomDigits(rand, d);
  const tanks = BigInt(randInt(rand, 3, 97));
  return {
    question: `${liters} liters of water are split equally into ${tanks} tanks. How many liters go into each tank? Give the exact value as a fraction in lowest terms if it is not a whole number.`,
    answer: fractionAnswer(liters, tanks),
    operands: { liters, tanks },
  };
}

// held out (OOD): new stories and a trap whose closed form the training templates never needed
function tickets(rand: Rand, level: number): Made {
  const d = operandDigits(level);
  const adult = randomDigits(rand, Math.max(2, d - 2));
  const child = randomDigits(rand, Math.max(2, d - 2));
  const pa = BigInt(randInt(rand, 5, 120));
  const pc = BigInt(randInt(rand, 2, 60));
  const fee = randomDigits(rand, d);
  return {
    question: `A stadium sold ${adult} adult tickets at ${pa} dollars and ${child} child tickets at ${pc} dollars, then paid a fee of ${fee} dollars. What is the stadium's net income in dollars (it may be negative)?`,
    answer: String(adult * pa + child * pc - fee),
    operands: { adult, child, pa, pc, fee },
  };
}

function sumOfSquares(rand: Rand, level: number): Made {
  const n = trapN(rand, level);
  return { question: `What is 1^2 + 2^2 + 3^2 + ... + ${n}^2?`, answer: String((n * (n + 1n) * (2n * n + 1n)) / 6n), operands: { n } };
}

/** Every template; `heldOut` ones are the OOD test. */
export const TEMPLATES: readonly TaskTemplate[] = [
  { name: "warehouse", kind: "plain", heldOut: false, make: warehouse },
  { name: "savings", kind: "plain", heldOut: false, make: savings },
  { name: "warehouse+distractors", kind: "distractor", heldOut: false, make: withDistractors(warehouse) },
  { name: "savings+distractors", kind: "distractor", heldOut: false, make: withDistractors(savings) },
  { name: "series-sum", kind: "trap", heldOut: false, make: seriesSum },
  { name: "arithmetic-series", kind: "trap", heldOut: false, make: arithmeticTerm },
  { name: "exact-product", kind: "careless", heldOut: false, make: exactProduct },
  { name: "leftover", kind: "careless", heldOut: false, make: leftover },
  { name: "count-multiples", kind: "careless", heldOut: false, make: countMultiples },
  { name: "share-exactly", kind: "careless", heldOut: false, make: shareExactly },
  { name: "tickets", kind: "plain", heldOut: true, make: tickets },
  { name: "tickets+distractors", kind: "distractor", heldOut: true, make: withDistractors(tickets) },
  { name: "sum-of-squares", kind: "trap", heldOut: true, make: sumOfSquares },
];

/** Seed streams: a split's items never share a seed with another split's. */
const STREAM: Record<TaskSplit, number> = { train: 0x7a11, test: 0x7e57, ood: 0x00d0 };

export interface TaskRequest {
  seed: number;
  split: TaskSplit;
  /** Position in the split's stream (0, 1, 2, …). */
  index: number;
  level: number;
  /** Restrict to one template by name (it must belong to the split). */
  template?: string;
}

/**
 * One task, fully determined by (seed, split, index, level). Train and test draw from the
 * non-held-out templates; ood only from the held-out ones.
 * @example generateTask({ seed: 1, split: "train", index: 0, level: 3 }).answer
 */
export function generateTask(req: TaskRequest): TaskItem {
  const level = Math.min(MAX_LEVEL, Math.max(1, Math.floor(req.level)));
  const pool = TEMPLATES.filter((t) => t.heldOut === (req.split === "ood"));
  const rand = seededRandom(mixSeed(req.seed, STREAM[req.split], req.index, level));
  let template = pool[randInt(rand, 0, pool.length - 1)];
  if (req.template !== undefined) {
    const t = pool.find((x) => x.name === req.template);
    if (!t) throw new Error(`template "${req.template}" is not in the ${req.split} split; it has: ${pool.map((x) => x.name).join(", ")}`);
    template = t;
  }
  const m = template.make(rand, level);
  const operands: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.operands)) operands[k] = String(v);
  return {
    id: `${req.split}-${req.seed}-${req.index}-L${level}`,
    level,
    template: template.name,
    question: m.question,
    answer: m.answer,
    kind: template.kind,
    split: req.split,
    operands,
  };
}

/** The line the task family's prompts add to the question: its numbers are in the tool's list `q`. */
export const NUMBERS_HINT = "Its numbers, in order, are in the list q.";

/** The integers written in a question, in order of appearance. */
export function questionNumbers(question: string): string[] {
  return question.match(/\d+/g) ?? [];
}

/**
 * A task as a rollout problem: the question plus NUMBERS_HINT, and a sandbox prelude that defines `q`, the
 * question's integers in order (Python integers are exact; JavaScript numbers are exact below 2^53). The
 * policy then computes with `q[i]` instead of copying digits from the prompt, which a policy of this size
 * does not learn on a laptop's budget (a 2-layer model SFT'd for 2,000 steps copied at chance).
 */
export function taskProblem(t: TaskItem): { id: string; level: number; question: string; answer: string; toolPrelude: { python: string; javascript: string } } {
  const q = questionNumbers(t.question).join(", ");
  return { id: t.id, level: t.level, question: `${t.question}\n${NUMBERS_HINT}`, answer: t.answer, toolPrelude: { python: `q = [${q}]\n`, javascript: `const q = [${q}];\n` } };
}

/** `count` tasks of one split at one level (or cycling through levels 1..MAX_LEVEL when level is omitted). */
export function generateTasks(seed: number, split: TaskSplit, count: number, level?: number, start = 0): TaskItem[] {
  return Array.from({ length: count }, (_, k) =>
    generateTask({ seed, split, index: start + k, level: level ?? 1 + ((start + k) % MAX_LEVEL) }));
}

/** `count` problems of one split as rollout problems (`taskProblem`); a level above MAX_LEVEL is clamped. */
export function taskProblems(seed: number, split: TaskSplit, count: number, level?: number): Array<ReturnType<typeof taskProblem>> {
  return generateTasks(seed, split, count, level === undefined ? undefined : Math.min(MAX_LEVEL, level)).map(taskProblem);
}

// ---------------------------------------------------------------------------------------------------
// Adaptive level sampler

export interface LevelSamplerState {
  levels: number;
  band: [number, number];
  alpha: number;
  /** EMA of group accuracy per level (index 0 = level 1); null = not seen yet. */
  ema: Array<number | null>;
  counts: number[];
}

/**
 * Keeps training on levels where groups are neither all-correct nor all-wrong: tracks each level's
 * accuracy with an EMA and samples uniformly among levels inside `band`, plus unseen levels next to a
 * seen one (exploration); when none qualifies, the level whose accuracy is nearest the band.
 */
export class LevelSampler {
  private readonly s: LevelSamplerState;

  constructor(opts: Partial<Pick<LevelSamplerState, "levels" | "band" | "alpha">> = {}) {
    const levels = opts.levels ?? MAX_LEVEL;
    const band = opts.band ?? [0.2, 0.8];
    const alpha = opts.alpha ?? 0.2;
    if (!(Number.isInteger(levels) && levels >= 1)) throw new RangeError(`levels must be a positive integer, got ${levels}`);
    if (!(band[0] >= 0 && band[0] <= band[1] && band[1] <= 1)) throw new RangeError(`band must satisfy 0 ≤ lo ≤ hi ≤ 1, got [${band}]`);
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
    this.s = { levels, band: [band[0], band[1]], alpha, ema: new Array(levels).fill(null), counts: new Array(levels).fill(0) };
  }

  /** Record a level's observed accuracy (e.g. a group's mean reward, in [0, 1]). */
  update(level: number, accuracy: number): void {
    const i = level - 1;
    if (!(i >= 0 && i < this.s.levels) || !Number.isFinite(accuracy)) return;
    const a = Math.min(1, Math.max(0, accuracy));
    const prev = this.s.ema[i];
    this.s.ema[i] = prev === null ? a : (1 - this.s.alpha) * prev + this.s.alpha * a;
    this.s.counts[i]++;
  }

  /** The levels `sample` currently chooses among. */
  candidates(): number[] {
    const { ema, band, levels } = this.s;
    if (ema.every((e) => e === null)) return [1];
    const pool: number[] = [];
    for (let i = 0; i < levels; i++) {
      const e = ema[i];
      if (e !== null && e >= band[0] && e <= band[1]) pool.push(i + 1);
      // explore an unseen level beside a seen one, toward where the band should lie
      else if (e === null && ((i > 0 && ema[i - 1] !== null && ema[i - 1]! > band[0]) || (i + 1 < levels && ema[i + 1] !== null && ema[i + 1]! < band[1]))) pool.push(i + 1);
    }
    if (pool.length > 0) return pool;
    let best = 1;
    let bestDist = Infinity;
    for (let i = 0; i < levels; i++) {
      const e = ema[i];
      if (e === null) continue;
      const dist = e < band[0] ? band[0] - e : e - band[1];
      if (dist < bestDist) { bestDist = dist; best = i + 1; }
    }
    return [best];
  }

  /** A level, drawn with `rand` (e.g. seededRandom(mixSeed(seed, step))). */
  sample(rand: () => number): number {
    const c = this.candidates();
    return c[randInt(rand, 0, c.length - 1)];
  }

  accuracy(level: number): number | null {
    return this.s.ema[level - 1] ?? null;
  }

  /** Plain-data state for checkpoints. */
  state(): LevelSamplerState {
    return structuredClone(this.s);
  }

  static fromState(state: LevelSamplerState): LevelSampler {
    const ls = new LevelSampler({ levels: state.levels, band: state.band, alpha: state.alpha });
    if (state.ema.length !== state.levels || state.counts.length !== state.levels) throw new RangeError("sampler state: ema and counts must have `levels` entries");
    ls.s.ema = state.ema.map((e) => (e === null ? null : Number(e)));
    ls.s.counts = state.counts.map(Number);
    return ls;
  }
}

/** Training tasks for one step: each level drawn from the sampler, indices disjoint across steps. */
export function sampleTrainingTasks(sampler: LevelSampler, seed: number, step: number, count: number): TaskItem[] {
  const rand = seededRandom(mixSeed(seed, 0x5a3e, step));
  return Array.from({ length: count }, (_, k) => generateTask({ seed, split: "train", index: step * count + k, level: sampler.sample(rand) }));
}

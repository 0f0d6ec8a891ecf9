import { describe, expect, it } from "vitest";
import { answersEqual } from "../../src/agent/answer.js";
import {
  LevelSampler, MAX_LEVEL, TEMPLATES, fractionAnswer, generateTask, generateTasks, operandDigits, sampleTrainingTasks,
  type TaskItem,
} from "../../src/agent/tasks.js";
import { seededRandom } from "../../src/rl/index.js";

// Independent recomputation of each template's answer from its operands (BigInt, written here again).
function gcd(a: bigint, b: bigint): bigint { while (b) [a, b] = [b, a % b]; return a < 0n ? -a : a; }
const recompute: Record<string, (o: Record<string, bigint>) => string> = {
  warehouse: (o) => String(o.boxes * o.per - o.shipped),
  savings: (o) => String(o.weekly * o.weeks + o.bonus - o.spent),
  "series-sum": (o) => String((o.n * o.n + o.n) / 2n),
  "arithmetic-series": (o) => String(o.n * (2n * o.a + (o.n - 1n) * o.d) / 2n),
  "exact-product": (o) => String(o.x * o.y * o.z),
  leftover: (o) => String(o.ceil ? o.total / o.boxes + (o.total % o.boxes ? 1n : 0n) : o.total % o.boxes),
  "count-multiples": (o) => String(o.hi / o.k - (o.lo + o.k - 1n) / o.k + 1n),
  "share-exactly": (o) => { const g = gcd(o.liters, o.tanks); return o.tanks / g === 1n ? String(o.liters / g) : `\\frac{${o.liters / g}}{${o.tanks / g}}`; },
  tickets: (o) => String(o.adult * o.pa + o.child * o.pc - o.fee),
  "sum-of-squares": (o) => String(o.n * (o.n + 1n) * (2n * o.n + 1n) / 6n),
};
const base = (t: string) => t.replace("+distractors", "");
const ops = (t: TaskItem) => Object.fromEntries(Object.entries(t.operands).map(([k, v]) => [k, BigInt(v)]));

const all = (["train", "test", "ood"] as const).flatMap((split) =>
  Array.from({ length: MAX_LEVEL }, (_, l) => generateTasks(7, split, 60, l + 1)).flat());

describe("procedural tasks", () => {
  it("are determined by the seed", () => {
    expect(generateTasks(3, "train", 20)).toEqual(generateTasks(3, "train", 20));
    expect(generateTasks(3, "train", 20).map((t) => t.question)).not.toEqual(generateTasks(4, "train", 20).map((t) => t.question));
  });

  it("every answer matches an independent BigInt recomputation, and the operands are in the question", () => {
    for (const t of all) {
      expect([t.id, recompute[base(t.template)](ops(t))]).toEqual([t.id, t.answer]);
      for (const [k, v] of Object.entries(t.operands)) if (k !== "ceil") expect([t.id, t.question.includes(v)]).toEqual([t.id, true]);
      expect(answersEqual(t.answer, t.answer)).toBe(true);
    }
  });

  it("train and test are disjoint; held-out templates appear only in ood", () => {
    const q = (split: string) => new Set(all.filter((t) => t.split === split).map((t) => t.question));
    const train = q("train");
    for (const x of q("test")) expect(train.has(x)).toBe(false);
    const held = new Set(TEMPLATES.filter((t) => t.heldOut).map((t) => t.name));
    for (const t of all) expect([t.split, held.has(t.template)]).toEqual([t.split, t.split === "ood"]);
    expect(new Set(all.filter((t) => t.split === "ood").map((t) => t.template))).toEqual(held);
  });

  it("covers every kind and every training template", () => {
    const train = all.filter((t) => t.split === "train");
    expect(new Set(train.map((t) => t.kind))).toEqual(new Set(["plain", "distractor", "trap", "careless"]));
    expect(new Set(train.map((t) => t.template)).size).toBe(TEMPLATES.filter((t) => !t.heldOut).length);
  });

  it("operands grow from 2 digits at level 1 to 12+ at the top level", () => {
    expect(operandDigits(1)).toBe(2);
    expect(operandDigits(MAX_LEVEL)).toBeGreaterThanOrEqual(12);
    const big = generateTask({ seed: 1, split: "train", index: 0, level: MAX_LEVEL, template: "exact-product" });
    expect(BigInt(big.answer) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true); // float code gets it wrong
    expect(String(Number(big.operands.x) * Number(big.operands.y) * Number(big.operands.z))).not.toBe(big.answer);
  });

  it("traps: operands ≥ 10^9 (a loop times out) and the closed form agrees with a loop on small n", () => {
    for (const t of all.filter((x) => x.kind === "trap")) expect(BigInt(t.operands.n) >= 1_000_000_000n).toBe(true);
    for (let n = 1n; n <= 60n; n++) {
      let s = 0n, sq = 0n, ar = 0n;
      for (let i = 1n; i <= n; i++) { s += i; sq += i * i; ar += 5n + (i - 1n) * 3n; }
      expect(recompute["series-sum"]({ n })).toBe(String(s));
      expect(recompute["sum-of-squares"]({ n })).toBe(String(sq));
      expect(recompute["arithmetic-series"]({ n, a: 5n, d: 3n })).toBe(String(ar));
    }
  });

  it("careless items: exact fractions in lowest terms, inclusive counts checked by a loop", () => {
    expect(fractionAnswer(10n, 4n)).toBe("\\frac{5}{2}");
    expect(fractionAnswer(12n, 4n)).toBe("3");
    for (let lo = 1n; lo < 40n; lo += 7n) for (let hi = lo; hi < 80n; hi += 11n) {
      let c = 0n;
      for (let i = lo; i <= hi; i++) if (i % 7n === 0n) c++;
      expect(recompute["count-multiples"]({ lo, hi, k: 7n })).toBe(String(c));
    }
  });
});

describe("LevelSampler", () => {
  // a synthetic policy: accuracy falls with level; only levels 4..5 lie inside [0.2, 0.8]
  const trueAcc = (l: number) => [0.99, 0.97, 0.9, 0.7, 0.35, 0.1, 0.03, 0.01][l - 1];

  it("moves toward the band and then samples inside it", () => {
    const sampler = new LevelSampler({ band: [0.2, 0.8], alpha: 0.3 });
    const rand = seededRandom(11);
    const drawn: number[] = [];
    for (let step = 0; step < 400; step++) {
      const l = sampler.sample(rand);
      drawn.push(l);
      const correct = Array.from({ length: 8 }, () => (rand() < trueAcc(l) ? 1 : 0)).reduce<number>((a, b) => a + b, 0);
      sampler.update(l, correct / 8);
    }
    expect(drawn[0]).toBe(1);
    const late = drawn.slice(200);
    const inBand = late.filter((l) => trueAcc(l) >= 0.2 && trueAcc(l) <= 0.8).length / late.length;
    expect(inBand).toBeGreaterThan(0.8);
    expect(sampler.accuracy(1)!).toBeGreaterThan(0.8);
  });

  it("falls back to the level nearest the band", () => {
    const s = new LevelSampler({ levels: 3 });
    s.update(1, 0.05); s.update(2, 0.0); s.update(3, 0.0);
    expect(s.candidates()).toEqual([1]);
    const t = new LevelSampler({ levels: 3 });
    t.update(1, 1); t.update(2, 1); t.update(3, 0.9);
    expect(t.candidates()).toEqual([3]);
  });

  it("state round-trips through JSON for checkpoints", () => {
    const s = new LevelSampler({ levels: 4, band: [0.3, 0.7] });
    s.update(1, 0.9); s.update(2, 0.5);
    const back = LevelSampler.fromState(JSON.parse(JSON.stringify(s.state())));
    expect(back.state()).toEqual(s.state());
    expect(back.candidates()).toEqual(s.candidates());
    expect(() => new LevelSampler({ band: [0.9, 0.1] })).toThrow(/band/);
  });

  it("sampleTrainingTasks draws levels from the sampler", () => {
    const s = new LevelSampler();
    s.update(1, 0.95); s.update(2, 0.5); s.update(3, 0.02);
    const tasks = sampleTrainingTasks(s, 5, 0, 16);
    expect(new Set(tasks.map((t) => t.level))).toEqual(new Set([2]));
    expect(new Set(tasks.map((t) => t.id)).size).toBe(16);
  });
});

// Batch refill (TAO-RL.md §2.5). A step draws batch_prompts × oversample prompts; after filtering:
//   more than batch_prompts groups survive → pick batch_prompts of them uniformly at random (seeded);
//   fewer survive → keep them all and duplicate survivors, each copy under a new group id, until full;
//   none survive → skip the step.
// refill = "regenerate" asks the caller for more groups (DAPO dynamic sampling) until round max_gen_rounds,
// then falls back to duplication. refill = "none" keeps the survivors as they are (no subsample, no copies).
import type { TaoBatch, TaoRlOptions } from "../types.js";
import { permutation, randomInt, seededRandom } from "./rng.js";

export type RefillAction = "exact" | "subsample" | "duplicate" | "regenerate" | "skip" | "keep";

export interface RefillPlan {
  action: RefillAction;
  /** Source group id of each output group, in output order. */
  source: Int32Array;
  /** Group id of each output group: the source id, or a fresh id for a copy. */
  target: Int32Array;
  /** Copies added. */
  duplicated: number;
  /** For "regenerate": how many more surviving groups are wanted. */
  need: number;
}

export interface RefillRequest {
  /** Surviving group ids, in a stable order. */
  survivors: Int32Array;
  /** First id free for copies (e.g. max id of the step + 1). */
  nextGroupId: number;
  seed: number;
  /** Generation round, 1-based (only read by "regenerate"). */
  round?: number;
}

export function planRefill(req: RefillRequest, opts: Pick<TaoRlOptions, "batchPrompts" | "refill" | "maxGenRounds">): RefillPlan {
  const { survivors } = req;
  const S = survivors.length;
  const N = opts.batchPrompts;
  const empty = new Int32Array(0);
  if (S === 0 && !(opts.refill === "regenerate" && (req.round ?? 1) < opts.maxGenRounds)) {
    return { action: "skip", source: empty, target: empty, duplicated: 0, need: 0 };
  }
  if (opts.refill === "none") return { action: "keep", source: survivors.slice(), target: survivors.slice(), duplicated: 0, need: 0 };
  if (S === N) return { action: "exact", source: survivors.slice(), target: survivors.slice(), duplicated: 0, need: 0 };
  const rand = seededRandom(req.seed);
  if (S > N) {
    // uniform subset of size N, kept in the survivors' order
    const chosen = Array.from(permutation(rand, S).subarray(0, N)).sort((x, y) => x - y);
    const source = Int32Array.from(chosen, (i) => survivors[i]);
    return { action: "subsample", source, target: source.slice(), duplicated: 0, need: 0 };
  }
  if (opts.refill === "regenerate" && (req.round ?? 1) < opts.maxGenRounds) {
    return { action: "regenerate", source: survivors.slice(), target: survivors.slice(), duplicated: 0, need: N - S };
  }
  // duplicate: every survivor once, then copies drawn round-robin over a seeded order of survivors
  const source = new Int32Array(N);
  const target = new Int32Array(N);
  source.set(survivors);
  target.set(survivors);
  const order = permutation(rand, S);
  const offset = randomInt(rand, S);
  for (let i = S; i < N; i++) {
    source[i] = survivors[order[(i - S + offset) % S]];
    target[i] = req.nextGroupId + (i - S);
  }
  return { action: "duplicate", source, target, duplicated: N - S, need: 0 };
}

/**
 * Rows of the refilled batch: for each output group, its member rows in the original batch, and the new
 * group id of each output row. Gather every per-row array with `takeRows`.
 */
export function refillRows(group: Int32Array, plan: RefillPlan): { rows: Int32Array; group: Int32Array } {
  const members = new Map<number, number[]>();
  for (let b = 0; b < group.length; b++) {
    const list = members.get(group[b]);
    if (list) list.push(b); else members.set(group[b], [b]);
  }
  const rows: number[] = [];
  const ids: number[] = [];
  for (let i = 0; i < plan.source.length; i++) {
    const list = members.get(plan.source[i]);
    if (!list) throw new RangeError(`refill: group ${plan.source[i]} has no rows in the batch`);
    for (const b of list) { rows.push(b); ids.push(plan.target[i]); }
  }
  return { rows: Int32Array.from(rows), group: Int32Array.from(ids) };
}

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Gather rows of width `width` (1 for per-trajectory arrays, T for per-token arrays). */
/** The batch of rows `rows` (in that order) with group ids `group`; optional token arrays come along when present. */
export function selectRows(batch: TaoBatch, rows: Int32Array, group: Int32Array): TaoBatch {
  const T = batch.T;
  const out: TaoBatch = {
    B: rows.length, T, group,
    reward: takeRows(batch.reward, rows, 1),
    responseMask: takeRows(batch.responseMask, rows, T),
    postToolMask: takeRows(batch.postToolMask, rows, T),
    toolCalls: takeRows(batch.toolCalls, rows, 1),
    validToolCalls: takeRows(batch.validToolCalls, rows, 1),
    isVoid: takeRows(batch.isVoid, rows, 1),
    truncated: takeRows(batch.truncated, rows, 1),
  };
  for (const k of ["entropy", "logp", "oldLogp", "refLogp"] as const) {
    const a = batch[k];
    if (a) out[k] = takeRows(a as Float32Array, rows, T);
  }
  return out;
}

export function takeRows<A extends Typed>(arr: A, rows: Int32Array, width: number): A {
  const out = new (arr.constructor as new (n: number) => A)(rows.length * width);
  for (let i = 0; i < rows.length; i++) out.set(arr.subarray(rows[i] * width, rows[i] * width + width), i * width);
  return out;
}

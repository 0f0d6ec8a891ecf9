// Trajectories produced anywhere (another trainer, a log file, an HTTP client) as JSON records, turned
// into the rl/ input record, and the shaped results turned back into records. Shared by `taorl shape` and
// the HTTP API. Every error names the record (1-based line) and the field.
import { z } from "zod";
import { planRefill, reasonNames, refillRows, selectRows, shapeBatch, mixSeed } from "./rl/index.js";
import type { BonusMetrics, RefillPlan } from "./rl/index.js";
import type { TaoBatch, TaoRlOptions } from "./types.js";

const bit = z.union([z.literal(0), z.literal(1)]);
const finite = z.number().refine(Number.isFinite, "must be a finite number");

/** One trajectory, as `taorl shape` reads it (README: "Trajectory records"). */
export const trajectoryRecordSchema = z
  .object({
    group: z.union([z.string().min(1), z.number().refine(Number.isFinite, "must be a finite number")]),
    reward: finite,
    loss_mask: z.array(bit).min(1),
    post_tool: z.array(bit),
    entropy: z.array(z.number()),
    tool_calls: z.number().int().min(0),
    valid_tool_calls: z.number().int().min(0),
    void: z.boolean(),
    truncated: z.boolean(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const T = r.loss_mask.length;
    if (r.post_tool.length !== T) ctx.addIssue({ code: "custom", path: ["post_tool"], message: `length ${r.post_tool.length} differs from loss_mask's ${T}` });
    if (r.entropy.length !== T) ctx.addIssue({ code: "custom", path: ["entropy"], message: `length ${r.entropy.length} differs from loss_mask's ${T}` });
    r.entropy.forEach((h, t) => {
      if (r.loss_mask[t] === 1 && !Number.isFinite(h)) ctx.addIssue({ code: "custom", path: ["entropy", t], message: "must be finite on a loss token" });
    });
    if (r.valid_tool_calls > r.tool_calls) ctx.addIssue({ code: "custom", path: ["valid_tool_calls"], message: `${r.valid_tool_calls} exceeds tool_calls (${r.tool_calls})` });
  });

export type TrajectoryRecord = z.infer<typeof trajectoryRecordSchema>;

/** A bad record: `line` is 1-based, `field` a dotted path such as `entropy.3`. */
export class RecordError extends Error {
  override name = "RecordError";
  constructor(readonly line: number, readonly field: string, message: string) {
    super(`line ${line}: ${field ? `${field}: ` : ""}${message}`);
  }
}

/** Validate one parsed value as a record; throws RecordError naming the first bad field. */
export function checkRecord(value: unknown, line: number): TrajectoryRecord {
  const r = trajectoryRecordSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.map(String).join(".");
  if (issue.path.length === 1 && typeof value === "object" && value !== null && !(String(issue.path[0]) in value)) {
    throw new RecordError(line, field, "missing");
  }
  const message = issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}` : issue.message;
  throw new RecordError(line, field, message);
}

/** Parse JSONL text: one record per non-empty line. Throws RecordError on the first bad line. */
export function parseTrajectoryLines(text: string): TrajectoryRecord[] {
  const out: TrajectoryRecord[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new RecordError(i + 1, "", `malformed JSON (${(e as Error).message})`);
    }
    out.push(checkRecord(value, i + 1));
  }
  if (out.length === 0) throw new RecordError(0, "", "no trajectory records in the input");
  return out;
}

/** Pack records into the rl/ input record, padding rows to the longest (padding has mask 0). */
export function recordsToBatch(records: ReadonlyArray<TrajectoryRecord>): { batch: TaoBatch; lengths: Int32Array; groupKeys: string[] } {
  const B = records.length;
  const lengths = Int32Array.from(records, (r) => r.loss_mask.length);
  const T = lengths.reduce((m, x) => Math.max(m, x), 0);
  const ids = new Map<string, number>();
  const groupKeys: string[] = [];
  const batch: TaoBatch = {
    B, T,
    group: new Int32Array(B),
    reward: new Float64Array(B),
    responseMask: new Uint8Array(B * T),
    postToolMask: new Uint8Array(B * T),
    toolCalls: new Int32Array(B),
    validToolCalls: new Int32Array(B),
    isVoid: new Uint8Array(B),
    truncated: new Uint8Array(B),
    entropy: new Float32Array(B * T),
  };
  records.forEach((r, b) => {
    // a string "3" and a number 3 are different groups
    const key = `${typeof r.group}:${r.group}`;
    let g = ids.get(key);
    if (g === undefined) { g = groupKeys.length; ids.set(key, g); groupKeys.push(key); }
    batch.group[b] = g;
    batch.reward[b] = r.reward;
    batch.toolCalls[b] = r.tool_calls;
    batch.validToolCalls[b] = r.valid_tool_calls;
    batch.isVoid[b] = r.void ? 1 : 0;
    batch.truncated[b] = r.truncated ? 1 : 0;
    const o = b * T;
    for (let t = 0; t < r.loss_mask.length; t++) {
      batch.responseMask[o + t] = r.loss_mask[t];
      batch.postToolMask[o + t] = r.post_tool[t];
      if (r.loss_mask[t]) (batch.entropy as Float32Array)[o + t] = r.entropy[t];
    }
  });
  return { batch, lengths, groupKeys };
}

/** One output line per input record (plus one per refill copy). */
export interface ShapedRecord {
  index: number;
  group: string | number;
  kept: boolean;
  reasons: string[];
  advantage: number;
  token_advantages: number[];
  /** Present on refill copies: the index of the record copied. */
  copy_of?: number;
}

export interface ShapeReport {
  records: ShapedRecord[];
  counts: Record<string, number>;
  bonus: BonusMetrics;
  refill?: { action: string; groups: number; duplicated: number };
}

export interface ShapeRecordOptions {
  /** Apply the batch refill (TAO-RL.md §2.5) with opts.batchPrompts; off by default. */
  refill?: boolean;
  seed?: number;
}

const round = (x: number) => (x === 0 ? 0 : Number(x.toPrecision(9)));

/**
 * Filters, advantages and the bonus over a set of records; the pool is every loss token of the set (after
 * refill when asked). Group statistics always come from the original records.
 */
export function shapeRecords(records: ReadonlyArray<TrajectoryRecord>, opts: TaoRlOptions, ro: ShapeRecordOptions = {}): ShapeReport {
  const { batch, lengths } = recordsToBatch(records);
  const { B, T } = batch;
  if (!ro.refill) {
    const res = shapeBatch(batch, opts);
    const out = records.map((r, b): ShapedRecord => ({
      index: b,
      group: r.group,
      kept: res.filter.weight[b] > 0,
      reasons: reasonNames(res.filter.reasons[b]),
      advantage: round(res.advantage[b]),
      token_advantages: Array.from(res.tokenAdvantage.subarray(b * T, b * T + lengths[b]), round),
    }));
    return { records: out, counts: { ...res.filter.counts }, bonus: res.bonus };
  }

  // Refill: choose groups among the survivors, then shape the refilled batch (the bonus pool is the batch
  // that would be trained).
  const first = shapeBatch(batch, opts);
  const survivors = first.filter.stats.ids.filter((_, g) => first.filter.groupKept[g] === 1);
  const plan: RefillPlan = planRefill(
    { survivors: Int32Array.from(survivors), nextGroupId: first.filter.stats.ids.length, seed: mixSeed(ro.seed ?? 0) },
    { ...opts, refill: opts.refill === "regenerate" ? "duplicate" : opts.refill },
  );
  const { rows, group } = refillRows(batch.group, plan);
  const sub: TaoBatch = selectRows({ ...batch, logp: undefined, oldLogp: undefined, refLogp: undefined }, rows, group);
  const res = shapeBatch(sub, opts);
  const selected = new Set<number>();
  const out: ShapedRecord[] = records.map((r, b): ShapedRecord => ({
    index: b, group: r.group, kept: false, reasons: reasonNames(first.filter.reasons[b]),
    advantage: round(first.advantage[b]), token_advantages: new Array(lengths[b]).fill(0),
  }));
  for (let i = 0; i < rows.length; i++) {
    const b = rows[i];
    const line: ShapedRecord = {
      index: b,
      group: records[b].group,
      kept: res.filter.weight[i] > 0,
      reasons: reasonNames(res.filter.reasons[i]),
      advantage: round(res.advantage[i]),
      token_advantages: Array.from(res.tokenAdvantage.subarray(i * T, i * T + lengths[b]), round),
    };
    if (!selected.has(b)) { selected.add(b); out[b] = line; }
    else out.push({ ...line, group: `${records[b].group}~${group[i]}`, index: out.length, copy_of: b });
  }
  for (let b = 0; b < B; b++) if (!selected.has(b) && first.filter.groupKept[first.filter.stats.index[b]]) out[b].reasons.push("not_sampled");
  return {
    records: out,
    counts: { ...first.filter.counts, groupsAfterRefill: plan.source.length, duplicatedGroups: plan.duplicated, skippedSteps: plan.action === "skip" ? 1 : 0 },
    bonus: res.bonus,
    refill: { action: plan.action, groups: plan.source.length, duplicated: plan.duplicated },
  };
}

/** The entropy-bonus summary as an aligned two-column table. */
export function bonusTable(m: BonusMetrics): string {
  const f = (x: number) => x.toPrecision(4);
  return table("entropy bonus", "value", [
    ["pool tokens (loss mask > 0)", String(m.pool_size)],
    ["pool entropy mean / std", `${f(m.pool_entropy_mean)} / ${f(m.pool_entropy_std)}`],
    ["tokens with a bonus", String(m.bonus_tokens)],
    ["post-tool entropy mean", f(m.entropy_post_tool_mean)],
    ["bonus a·z mean / max", `${f(m.bonus_mean)} / ${f(m.bonus_max)}`],
  ]);
}

function table(h1: string, h2: string, rows: ReadonlyArray<readonly [string, string]>): string {
  const w = Math.max(h1.length, ...rows.map(([k]) => k.length));
  const v = Math.max(h2.length, ...rows.map(([, x]) => x.length));
  const line = `${"-".repeat(w)}  ${"-".repeat(v)}`;
  return [`${h1.padEnd(w)}  ${h2.padStart(v)}`, line, ...rows.map(([k, x]) => `${k.padEnd(w)}  ${x.padStart(v)}`)].join("\n");
}

/** The filter counts as an aligned two-column table. */
export function countsTable(counts: Record<string, number>): string {
  const label: Record<string, string> = {
    groups: "groups", groupsKept: "groups kept", droppedAllCorrect: "dropped: all correct (criterion 2)",
    droppedAllWrong: "dropped: all wrong (criterion 2)", droppedOverlong: "dropped: overlong",
    trajectories: "trajectories", trajectoriesKept: "trajectories kept (weight > 0)",
    maskedTruncated: "masked: truncated", maskedAllToolsFailed: "masked: all tools failed (criterion 1)",
    maskedVoid: "masked: void turn", flaggedAllToolsFailed: "flagged all tools failed (any group)",
    groupsAfterRefill: "groups after refill", duplicatedGroups: "duplicated groups", skippedSteps: "skipped steps",
  };
  return table("filter", "count", Object.entries(counts).map(([k, v]) => [label[k] ?? k, String(v)] as const));
}


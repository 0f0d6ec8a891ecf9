// The conformance cases: inputs written here, expected values computed by the NAIVE reference only
// (test/rl/naive.ts). `gen-conformance.ts` writes them to test/fixtures/conformance/*.json; the schema is in
// docs/conformance.md. Everything is seeded, so the output is byte-identical from run to run.
import { resolveTaoRl, taoRlSchema, type TaoRlConfig } from "../../src/config.js";
import { rng } from "./gen.js";
import {
  naiveAdvantage, naiveFilter, naivePolicyLoss, naivePostToolMask, naiveRefill, type NaiveBatch, type NaiveTurnKind,
} from "./naive.js";

/** One trajectory, written compactly: masks as strings of 0/1 (length T). */
interface Row {
  group: number;
  reward: number;
  /** response mask, e.g. "0111"; default all ones */
  mask?: string;
  /** post-tool mask g; default all zeros */
  post?: string;
  /** [code turns, valid executions]; default [1, 1] */
  tools?: [number, number];
  void?: boolean;
  trunc?: boolean;
}

interface TurnSpec {
  /** Turn index per token [B*T], -1 = prompt / padding. */
  turnIndex: number[];
  kinds: NaiveTurnKind[][];
}

interface CaseSpec {
  name: string;
  description: string;
  options?: TaoRlConfig;
  T: number;
  rows: Row[];
  seed: number;
  /** Spread of logπθ - logπold (log units); default 0.3. */
  spread?: number;
  /** Values written into masked slots (loss mask 0) of entropy/logp/old_logp/ref_logp instead of random ones. */
  garbage?: number[];
  /** Derive g from a turn layout (post_tool_mask is then an output too). */
  turns?: TurnSpec;
  /** Plan the batch refill from the surviving groups. */
  refill?: { seed: number; round?: number };
  /** Log-ratios spread over every clip branch and past the ±20 clamp. */
  extremeRatios?: boolean;
}

export interface ConformanceFile {
  name: string;
  description: string;
  layout: "row-major";
  options: Record<string, unknown>;
  input: Record<string, unknown>;
  expected: Record<string, unknown>;
}

const bits = (s: string | undefined, T: number, fill: number) => (s === undefined ? new Array(T).fill(fill) : s.split("").map(Number));

function buildBatch(spec: CaseSpec): NaiveBatch {
  const { T, rows } = spec;
  const B = rows.length;
  const R = rng(spec.seed);
  const spread = spec.spread ?? 0.3;
  const batch: NaiveBatch = {
    B, T,
    group: rows.map((r) => r.group),
    reward: rows.map((r) => r.reward),
    responseMask: rows.flatMap((r) => bits(r.mask, T, 1)),
    postToolMask: rows.flatMap((r) => bits(r.post, T, 0)),
    toolCalls: rows.map((r) => (r.tools ?? [1, 1])[0]),
    validToolCalls: rows.map((r) => (r.tools ?? [1, 1])[1]),
    isVoid: rows.map((r) => (r.void ? 1 : 0)),
    truncated: rows.map((r) => (r.trunc ? 1 : 0)),
    entropy: [], logp: [], oldLogp: [], refLogp: [],
  };
  for (let i = 0; i < B * T; i++) {
    batch.entropy!.push(R.uniform(0.05, 2.5));
    const lp = R.uniform(-3, -0.02);
    batch.logp!.push(lp);
    // extreme ratios: every clip branch and the ±20 clamp; otherwise a modest spread
    const d = spec.extremeRatios ? R.pick([-25, -1.2, -0.5, -0.05, 0.05, 0.5, 1.6, 25]) + R.uniform(-0.01, 0.01) : R.uniform(-spread, spread);
    batch.oldLogp!.push(lp - d);
    batch.refLogp!.push(lp - R.uniform(-1, 1) * (spec.extremeRatios ? 14 : 0.5));
  }
  if (spec.turns) {
    const o = resolveTaoRl(spec.options ?? {});
    batch.postToolMask = naivePostToolMask(B, T, batch.responseMask, spec.turns.turnIndex, spec.turns.kinds, o.postToolWindow);
  }
  return batch;
}

function garbageFill(batch: NaiveBatch, lossMask: number[], garbage: number[]) {
  let k = 0;
  for (let i = 0; i < lossMask.length; i++) {
    if (lossMask[i] > 0) continue;
    batch.entropy![i] = garbage[k++ % garbage.length];
    batch.logp![i] = garbage[k++ % garbage.length];
    batch.oldLogp![i] = garbage[k++ % garbage.length];
    batch.refLogp![i] = garbage[k++ % garbage.length];
  }
}

export function buildCase(spec: CaseSpec): ConformanceFile {
  const options = taoRlSchema.parse(spec.options ?? {});
  const o = resolveTaoRl(spec.options ?? {});
  const batch = buildBatch(spec);
  const filter = naiveFilter(batch, o);
  if (spec.garbage) garbageFill(batch, filter.lossMask, spec.garbage);
  const advantage = naiveAdvantage(batch.group, batch.reward, o);
  assertAwayFromKinks(spec.name, batch, filter.lossMask, o);
  const loss = naivePolicyLoss({
    B: batch.B, T: batch.T, advantage, lossMask: filter.lossMask, postToolMask: batch.postToolMask,
    logp: batch.logp!, oldLogp: batch.oldLogp!, entropy: batch.entropy!, refLogp: o.klCoef > 0 ? batch.refLogp : undefined,
  }, o);
  const c = filter.counts;
  const input: Record<string, unknown> = {
    B: batch.B, T: batch.T,
    group: batch.group, reward: batch.reward,
    response_mask: batch.responseMask, post_tool_mask: batch.postToolMask,
    tool_calls: batch.toolCalls, valid_tool_calls: batch.validToolCalls,
    void: batch.isVoid, truncated: batch.truncated,
    entropy: batch.entropy, logp: batch.logp, old_logp: batch.oldLogp,
  };
  if (o.klCoef > 0) input.ref_logp = batch.refLogp;
  if (spec.turns) input.turns = { turn_index: spec.turns.turnIndex, kinds: spec.turns.kinds };
  const expected: Record<string, unknown> = {
    group_ids: filter.groups.map((g) => g.id),
    group_mean: filter.groups.map((g) => g.mean),
    group_std: filter.groups.map((g) => (g.members.length > 1 ? g.std : null)),
    group_kept: filter.groupKept,
    reasons: filter.reasons,
    weight: filter.weight,
    loss_mask: filter.lossMask,
    advantage,
    z: loss.z,
    shaped_advantage: loss.shaped,
    token_advantage: loss.shaped.map((x, i) => x * filter.lossMask[i]),
    loss: loss.loss,
    w: loss.w,
    v: loss.v,
    branch: loss.branch,
    metrics: {
      groups: c.groups, groups_kept: c.groupsKept, dropped_all_correct: c.droppedAllCorrect, dropped_all_wrong: c.droppedAllWrong,
      dropped_overlong: c.droppedOverlong, trajectories: c.trajectories, trajectories_kept: c.trajectoriesKept,
      masked_truncated: c.maskedTruncated, masked_all_tools_failed: c.maskedAllToolsFailed, masked_void: c.maskedVoid,
      flagged_all_tools_failed: c.flaggedAllToolsFailed,
      ...loss.metrics,
    },
  };
  if (spec.turns) expected.post_tool_mask = batch.postToolMask;
  if (spec.refill) {
    const survivors = filter.groups.filter((_, g) => filter.groupKept[g] === 1).map((g) => g.id);
    const nextGroupId = Math.max(...batch.group) + 1;
    const round = spec.refill.round ?? 1;
    const plan = naiveRefill(survivors.length, o, round);
    input.refill = { seed: spec.refill.seed, round, next_group_id: nextGroupId };
    expected.refill = {
      survivors, action: plan.action, size: plan.size, duplicated: plan.duplicated, need: plan.need,
      copy_ids: Array.from({ length: plan.duplicated }, (_, i) => nextGroupId + i),
    };
  }
  return { name: spec.name, description: spec.description, layout: "row-major", options, input, expected };
}

/** An implementation's gradient must not depend on how it breaks ties: keep every token 1e-4 from a kink. */
function assertAwayFromKinks(name: string, batch: NaiveBatch, lossMask: number[], o: ReturnType<typeof resolveTaoRl>) {
  for (let i = 0; i < lossMask.length; i++) {
    if (!(lossMask[i] > 0)) continue;
    const d = batch.logp![i] - batch.oldLogp![i];
    const r = Math.exp(Math.max(-o.logRatioClamp, Math.min(o.logRatioClamp, d)));
    const near = (x: number, k: number) => Math.abs(x - k) <= 1e-4 * Math.max(1, Math.abs(k));
    const k3 = Math.exp(batch.refLogp![i] - batch.logp![i]) - (batch.refLogp![i] - batch.logp![i]) - 1;
    if (near(Math.abs(d), o.logRatioClamp) || near(r, 1 - o.clipRatioLow) || near(r, 1 + o.clipRatioHigh) || near(r, o.dualClip) || (o.klCoef > 0 && near(k3, 10))) {
      throw new Error(`${name}: token ${i} sits on a branch boundary (log-ratio ${d}, k3 ${k3})`);
    }
  }
}

// ------------------------------------------------------------------------------------------ the cases
const g2 = (id: number, rewards: number[], extra: Partial<Row> = {}): Row[] => rewards.map((reward) => ({ group: id, reward, ...extra }));

export const CASES: CaseSpec[] = [
  {
    name: "defaults_two_groups",
    description: "Two groups of 4 with binary rewards, all defaults; some post-tool tokens; one prompt token per row.",
    T: 5, seed: 1,
    rows: [
      ...g2(10, [1, 0, 0, 1]).map((r, i) => ({ ...r, mask: "01111", post: i % 2 ? "00011" : "00001" })),
      ...g2(11, [1, 0, 0, 0]).map((r) => ({ ...r, mask: "01110", post: "00110" })),
    ],
  },
  {
    name: "singleton_groups_grpo",
    description: "Three one-member groups: never dropped by criterion 2; advantage uses mean 0 and std 1, A = R/(1+1e-6).",
    T: 3, seed: 2,
    rows: [{ group: 1, reward: 1, post: "011" }, { group: 2, reward: 0 }, { group: 3, reward: 0.25, post: "001" }],
  },
  {
    name: "singleton_groups_dr_grpo",
    description: "One-member groups under dr_grpo: A = R - 0.",
    options: { advantage: "dr_grpo" },
    T: 3, seed: 3,
    rows: [{ group: 1, reward: 1, post: "011" }, { group: 2, reward: 0.5 }, ...g2(3, [1, 0])],
  },
  {
    name: "everything_masked",
    description: "Every group is all-correct or all-wrong: all dropped, empty pool, loss 0, w = v = 0.",
    T: 4, seed: 4,
    rows: [...g2(1, [1, 1, 1]), ...g2(2, [0, 0, 0, 0])],
  },
  {
    name: "zero_tool_calls",
    description: "No trajectory calls a tool: none is flagged all_tools_failed; no post-tool tokens, so no bonus under post_tool scope.",
    T: 4, seed: 5,
    rows: g2(7, [1, 0, 1, 0, 0], { tools: [0, 0] }),
  },
  {
    name: "all_tools_failed_strength_1",
    description: "Two trajectories whose tool calls all failed (default strength 1): weight 0, still in the group statistics.",
    T: 4, seed: 6,
    rows: [
      { group: 1, reward: 1, post: "0011" }, { group: 1, reward: 0, tools: [2, 0], post: "0111" },
      { group: 1, reward: 0, tools: [0, 0] }, { group: 1, reward: 1, tools: [3, 0], post: "0001" },
    ],
  },
  {
    name: "all_tools_failed_strength_half",
    description: "tool_fail_strength 0.5: a flagged trajectory keeps weight 0.5 (fractional loss mask, counted once in the aggregation).",
    options: { tool_fail_strength: 0.5 },
    T: 4, seed: 7,
    rows: [
      { group: 1, reward: 1, post: "0011" }, { group: 1, reward: 0, tools: [2, 0], post: "0111" },
      { group: 1, reward: 0, tools: [0, 0] }, { group: 1, reward: 1, tools: [3, 0], post: "0001" },
    ],
  },
  {
    name: "void_turns",
    description: "Void trajectories get loss mask 0 and stay in the group statistics; one is also all-tools-failed.",
    T: 3, seed: 8,
    rows: [...g2(4, [1, 0, 0], { post: "011" }), { group: 4, reward: 0, void: true }, { group: 4, reward: 1, void: true, tools: [1, 0] }],
  },
  {
    name: "truncated_overlong_drop",
    description: "Group 1 has 2 of 4 members truncated (2 < min(4, 4)): dropped as overlong. Group 2 has 1 of 5 truncated: kept, that member masked.",
    T: 3, seed: 9,
    rows: [
      ...g2(1, [1, 0]), ...g2(1, [0, 1], { trunc: true }),
      ...g2(2, [1, 0, 0, 1], { post: "011" }), { group: 2, reward: 0, trunc: true },
    ],
  },
  {
    name: "duplicated_groups",
    description: "A batch after refill by duplication: group 5 and its copy 100 hold identical rows under different ids; each copy is its own group and the pool counts both.",
    T: 4, seed: 10,
    rows: [...g2(5, [1, 0, 0], { post: "0011" }), ...g2(6, [0, 1, 1]), ...g2(100, [1, 0, 0], { post: "0011" })],
  },
  {
    name: "loss_agg_seq_mean_token_mean",
    description: "seq-mean-token-mean aggregation with rows of different lengths and one half-weight row.",
    options: { loss_agg: "seq-mean-token-mean", tool_fail_strength: 0.5 },
    T: 6, seed: 11,
    rows: [
      { group: 1, reward: 1, mask: "011111", post: "000111" }, { group: 1, reward: 0, mask: "010000" },
      { group: 1, reward: 0, mask: "011100", tools: [1, 0] }, { group: 1, reward: 1, mask: "000000" },
    ],
  },
  {
    name: "loss_agg_seq_mean_token_sum",
    description: "seq-mean-token-sum aggregation with rows of different lengths and a row without loss tokens.",
    options: { loss_agg: "seq-mean-token-sum" },
    T: 6, seed: 12,
    rows: [
      { group: 1, reward: 1, mask: "011111", post: "000111" }, { group: 1, reward: 0, mask: "010000" },
      { group: 1, reward: 0, mask: "011100" }, { group: 1, reward: 1, mask: "000000" },
    ],
  },
  {
    name: "bonus_scope_all",
    description: "bonus_scope = all: every loss token gets Ã = A(1 + a z), post-tool or not.",
    options: { bonus_scope: "all" },
    T: 5, seed: 13,
    rows: [...g2(1, [1, 0, 1, 0], { post: "00110" }), ...g2(2, [0.2, 0.9, 0.4])],
  },
  {
    name: "detach_false_post_tool",
    description: "detach_entropy = false, post_tool scope, a = 0.05: v includes the bonus path through z (mean and population std of the pool).",
    options: { detach_entropy: false, entropy_bonus_coef: 0.05 },
    T: 5, seed: 14,
    rows: [...g2(1, [1, 0, 1, 0], { post: "00111" }), ...g2(2, [1, 0, 0])],
  },
  {
    name: "detach_false_scope_all",
    description: "detach_entropy = false with bonus_scope = all and entropy_coeff 0.01.",
    options: { detach_entropy: false, bonus_scope: "all", entropy_coeff: 0.01 },
    T: 4, seed: 15,
    rows: [...g2(1, [1, 0, 1, 0]), ...g2(2, [0.3, 0.7])],
  },
  {
    name: "kl_k1",
    description: "kl_coef 0.1 with the k1 estimator (logπ - logπref).",
    options: { kl_coef: 0.1, kl_estimator: "k1" },
    T: 4, seed: 16,
    rows: g2(1, [1, 0, 1, 0, 0], { post: "0011" }),
  },
  {
    name: "kl_k2",
    description: "kl_coef 0.1 with the k2 estimator (½ (logπ - logπref)²).",
    options: { kl_coef: 0.1, kl_estimator: "k2" },
    T: 4, seed: 17,
    rows: g2(1, [1, 0, 1, 0, 0], { post: "0011" }),
  },
  {
    name: "kl_k3_clamped",
    description: "kl_coef 0.2 with k3 (verl low_var_kl, clamped to ±10): log-ratios to the reference up to ±14 so that the clamp bites (zero gradient there).",
    options: { kl_coef: 0.2, kl_estimator: "k3" },
    T: 6, seed: 18, extremeRatios: true,
    rows: g2(1, [1, 0, 1, 0], { post: "001111" }),
  },
  {
    name: "entropy_coeff",
    description: "entropy_coeff 0.02: loss -= 0.02 · token-mean(H); v = -0.02 · α.",
    options: { entropy_coeff: 0.02 },
    T: 4, seed: 19,
    rows: g2(1, [1, 0, 0, 1], { post: "0110" }),
  },
  {
    name: "clip_branches",
    description: "Large ratio spread with ±20 clamp, clip-low, clip-high and dual-clip branches (see expected.branch).",
    T: 8, seed: 20, extremeRatios: true,
    rows: [...g2(1, [1, 0, 0, 0], { post: "00001111" }), ...g2(2, [1, 1, 0])],
  },
  {
    name: "continuous_rewards",
    description: "Continuous rewards (criterion 2 judged on the std; a uniform 0.3 group is all-wrong, a uniform 0.8 group all-correct).",
    T: 4, seed: 21,
    rows: [...g2(1, [0.1, 0.35, 0.9, -0.4]), ...g2(2, [0.3, 0.3, 0.3]), ...g2(3, [0.8, 0.8]), ...g2(4, [0.5, 0.5004])],
  },
  {
    name: "masked_garbage",
    description: "Huge values (±1e30, 3e38) in every slot whose loss mask is 0 (dropped group, void row, prompt tokens): a masked select must never read them.",
    T: 4, seed: 22, garbage: [1e30, -1e30, 3e38, -3e38, 12345.678],
    rows: [{ group: 1, reward: 1, mask: "0111", post: "0011" }, { group: 1, reward: 0, mask: "0110" }, { group: 1, reward: 0, void: true }, ...g2(2, [1, 1])],
  },
  {
    name: "pool_single_token",
    description: "The pool has one token: std := 1, z = (H - H)/(1 + 1e-8) = 0, Ã = A.",
    T: 3, seed: 23,
    rows: [{ group: 1, reward: 1, mask: "001", post: "001" }, { group: 1, reward: 0, mask: "000" }],
  },
  {
    name: "no_post_tool_tokens",
    description: "post_tool scope and no post-tool token: no bonus at all (no fallback to all tokens), Ã = A.",
    T: 4, seed: 24,
    rows: g2(1, [1, 0, 0, 1]),
  },
  {
    name: "filters_off_grpo",
    description: "The grpo preset: no filtering, no bonus; uniform, void, truncated and tool-failed rows all train.",
    options: { filter_uniform_groups: false, filter_tool_failures: false, mask_void_turns: false, mask_truncated: false, entropy_bonus_coef: 0 },
    T: 3, seed: 25,
    rows: [...g2(1, [1, 1, 1]), { group: 2, reward: 1, void: true }, { group: 2, reward: 0, tools: [2, 0], trunc: true }],
  },
  {
    name: "post_tool_window_2",
    description: "g derived from a turn layout with post_tool_window 2: only the first 2 policy tokens of a turn that follows a code turn.",
    options: { post_tool_window: 2 },
    T: 10, seed: 26,
    rows: g2(1, [1, 0, 0]),
    // row 0: prompt, code turn 0 (3 tokens), 2 observation tokens, code turn 1 (3 tokens), answer turn 2 (1 token)
    // row 1: code turn 0 (2), obs (1), answer turn 1 (4), padding
    // row 2: void turn 0 (4), then padding
    turns: {
      turnIndex: [-1, 0, 0, 0, 0, 0, 1, 1, 1, 2, 0, 0, 0, 1, 1, 1, 1, -1, -1, -1, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1],
      kinds: [["code", "code", "answer"], ["code", "answer"], ["void"]],
    },
  },
  {
    name: "post_tool_whole_turn",
    description: "The same layout with post_tool_window 0 (whole turn); observation tokens (response mask 0) never get g.",
    T: 10, seed: 26,
    rows: g2(1, [1, 0, 0]),
    turns: {
      turnIndex: [-1, 0, 0, 0, 0, 0, 1, 1, 1, 2, 0, 0, 0, 1, 1, 1, 1, -1, -1, -1, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1],
      kinds: [["code", "code", "answer"], ["code", "answer"], ["void"]],
    },
  },
  {
    name: "refill_subsample",
    description: "5 groups survive, batch_prompts 3: subsample 3 distinct survivors uniformly (seeded), ids unchanged.",
    options: { batch_prompts: 3 },
    T: 2, seed: 27, refill: { seed: 42 },
    rows: [...g2(1, [1, 0]), ...g2(2, [0, 1]), ...g2(3, [1, 1]), ...g2(4, [1, 0]), ...g2(5, [0, 1]), ...g2(6, [0.5, 0])],
  },
  {
    name: "refill_duplicate",
    description: "2 groups survive, batch_prompts 5: keep both, add 3 copies under fresh ids max(group)+1, +2, +3.",
    options: { batch_prompts: 5 },
    T: 2, seed: 28, refill: { seed: 7 },
    rows: [...g2(1, [1, 0]), ...g2(2, [0, 0]), ...g2(3, [1, 0, 1])],
  },
  {
    name: "refill_skip",
    description: "No group survives: the step is skipped.",
    options: { batch_prompts: 2 },
    T: 2, seed: 29, refill: { seed: 1 },
    rows: [...g2(1, [1, 1]), ...g2(2, [0, 0])],
  },
  {
    name: "refill_regenerate",
    description: "refill = regenerate, round 1 of 3, 1 survivor for batch_prompts 4: ask for 3 more groups.",
    options: { batch_prompts: 4, refill: "regenerate", max_gen_rounds: 3 },
    T: 2, seed: 30, refill: { seed: 3, round: 1 },
    rows: [...g2(1, [1, 0]), ...g2(2, [0, 0])],
  },
];

export function buildAll(): ConformanceFile[] {
  return CASES.map(buildCase);
}

/** The file's text: JSON, 1 space indent, arrays of numbers on one line; doubles in shortest round-trip form. */
export function serialize(c: ConformanceFile): string {
  const text = JSON.stringify(c, (_k, v: unknown) => {
    if (typeof v === "number" && !Number.isFinite(v)) throw new Error(`${c.name}: non-finite number ${v} cannot be written as JSON`);
    return v;
  }, 1);
  // collapse arrays of scalars onto one line
  const out = text.replace(/\[\s*([^\[\]{}]*?)\s*\]/g, (_m, body: string) => `[${body.split(/,\s*/).join(", ")}]`) + "\n";
  if (JSON.stringify(JSON.parse(out)) !== JSON.stringify(c)) throw new Error(`${c.name}: compact layout changed the content`);
  return out;
}

// Tool-aware trajectory filtering (TAO-RL.md §2), in the spec's order:
//   1. criterion 2: drop a group whose reward std < threshold (all correct or all wrong), judged on the raw
//      rewards of all members; a single-member group is never dropped by it (its std is undefined);
//   2. overlong: truncated trajectories get mask 0; a group with fewer than min(minValidPerGroup, size)
//      non-truncated members is dropped;
//   3. criterion 1: a trajectory with ≥ 1 code turn and no valid execution is flagged all_tools_failed;
//      its mask is multiplied by (1 - toolFailStrength); trajectories without code are never flagged;
//   4. void-turn mask: a trajectory with a void turn gets mask 0.
// Masking never removes a trajectory from its group's reward statistics (the advantage uses all members).
import type { TaoBatch, TaoRlOptions } from "../types.js";
import { checkBatch } from "./check.js";
import { groupStats, type GroupStats } from "./groups.js";

/** Why a trajectory lost (part of) its loss mask: bit flags in `FilterResult.reasons`. */
export const Reason = Object.freeze({
  GROUP_ALL_CORRECT: 1,
  GROUP_ALL_WRONG: 2,
  GROUP_OVERLONG: 4,
  TRUNCATED: 8,
  ALL_TOOLS_FAILED: 16,
  VOID: 32,
});

export const REASON_NAMES: ReadonlyArray<readonly [number, string]> = [
  [Reason.GROUP_ALL_CORRECT, "group_all_correct"],
  [Reason.GROUP_ALL_WRONG, "group_all_wrong"],
  [Reason.GROUP_OVERLONG, "group_overlong"],
  [Reason.TRUNCATED, "truncated"],
  [Reason.ALL_TOOLS_FAILED, "all_tools_failed"],
  [Reason.VOID, "void"],
];

/** Names of the bits set in a reason mask, in the order of the spec. */
export function reasonNames(bits: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of REASON_NAMES) if (bits & bit) out.push(name);
  return out;
}

export const GROUP_DROP_MASK = Reason.GROUP_ALL_CORRECT | Reason.GROUP_ALL_WRONG | Reason.GROUP_OVERLONG;

/** Filter counts. Trajectory counts are over the trajectories of surviving groups (where a mask bites). */
export interface FilterCounts {
  groups: number;
  groupsKept: number;
  droppedAllCorrect: number;
  droppedAllWrong: number;
  droppedOverlong: number;
  trajectories: number;
  /** Trajectories of surviving groups with a non-zero weight. */
  trajectoriesKept: number;
  maskedTruncated: number;
  maskedAllToolsFailed: number;
  maskedVoid: number;
  /** Trajectories with ≥ 1 code turn and no valid execution, in any group (the raw criterion-1 rate). */
  flaggedAllToolsFailed: number;
}

export interface FilterResult {
  stats: GroupStats;
  /** 1 if the group survives [G] (dense group index, see stats.index). */
  groupKept: Uint8Array;
  /** Loss weight of each trajectory [B]: 0 when dropped or masked, 1 - strength when all tools failed. */
  weight: Float32Array;
  /** Reason bits of each trajectory [B] (see `Reason`). */
  reasons: Uint8Array;
  /** Final loss mask [B*T] = responseMask × weight. */
  lossMask: Float32Array;
  counts: FilterCounts;
}

export function filterBatch(batch: TaoBatch, opts: TaoRlOptions): FilterResult {
  checkBatch(batch);
  const { B, T, reward, truncated, toolCalls, validToolCalls, isVoid, responseMask } = batch;
  const stats = groupStats(batch.group, reward);
  const G = stats.ids.length;
  const groupReason = new Uint8Array(G);

  // 1. criterion 2, on raw rewards of all members
  if (opts.filterUniformGroups) {
    for (let g = 0; g < G; g++) {
      if (stats.size[g] > 1 && stats.std[g] < opts.groupStdThreshold) {
        groupReason[g] = stats.mean[g] >= opts.correctThreshold ? Reason.GROUP_ALL_CORRECT : Reason.GROUP_ALL_WRONG;
      }
    }
  }
  // 2. overlong: groups left with too few non-truncated members
  if (opts.maskTruncated) {
    const complete = new Int32Array(G);
    for (let b = 0; b < B; b++) if (!truncated[b]) complete[stats.index[b]]++;
    for (let g = 0; g < G; g++) {
      if (groupReason[g] === 0 && complete[g] < Math.min(opts.minValidPerGroup, stats.size[g])) groupReason[g] = Reason.GROUP_OVERLONG;
    }
  }

  const weight = new Float32Array(B);
  const reasons = new Uint8Array(B);
  const counts: FilterCounts = {
    groups: G, groupsKept: 0, droppedAllCorrect: 0, droppedAllWrong: 0, droppedOverlong: 0,
    trajectories: B, trajectoriesKept: 0, maskedTruncated: 0, maskedAllToolsFailed: 0, maskedVoid: 0,
    flaggedAllToolsFailed: 0,
  };
  const groupKept = new Uint8Array(G);
  for (let g = 0; g < G; g++) {
    const r = groupReason[g];
    if (r === 0) { groupKept[g] = 1; counts.groupsKept++; }
    else if (r === Reason.GROUP_ALL_CORRECT) counts.droppedAllCorrect++;
    else if (r === Reason.GROUP_ALL_WRONG) counts.droppedAllWrong++;
    else counts.droppedOverlong++;
  }

  for (let b = 0; b < B; b++) {
    const kept = groupKept[stats.index[b]] === 1;
    let bits = groupReason[stats.index[b]];
    let w = kept ? 1 : 0;
    if (opts.maskTruncated && truncated[b]) { bits |= Reason.TRUNCATED; w = 0; if (kept) counts.maskedTruncated++; }
    // 3. criterion 1: only trajectories that called a tool can be flagged
    if (opts.filterToolFailures && toolCalls[b] > 0 && validToolCalls[b] === 0) {
      bits |= Reason.ALL_TOOLS_FAILED;
      w *= 1 - opts.toolFailStrength;
      counts.flaggedAllToolsFailed++;
      if (kept) counts.maskedAllToolsFailed++;
    }
    // 4. void-turn mask
    if (opts.maskVoidTurns && isVoid[b]) { bits |= Reason.VOID; w = 0; if (kept) counts.maskedVoid++; }
    reasons[b] = bits;
    weight[b] = w;
    if (w > 0) counts.trajectoriesKept++;
  }

  const lossMask = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    const w = weight[b];
    if (w === 0) continue;
    const o = b * T;
    for (let t = 0; t < T; t++) if (responseMask[o + t]) lossMask[o + t] = w;
  }
  return { stats, groupKept, weight, reasons, lossMask, counts };
}

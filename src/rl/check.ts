// Shape checks at the boundary of every rl/ function. Errors name the field, the expected and the actual
// shape (never `instanceof`: typed arrays may come from another realm or across a worker boundary).
import type { TaoBatch } from "../types.js";

/** Thrown when an input record has the wrong shape or a non-finite value where one is not allowed. */
export class ShapeError extends RangeError {
  override name = "ShapeError";
}

type Sized = { readonly length: number };

export function checkLength(field: string, arr: Sized | undefined, expected: number, dims: string): void {
  if (arr === undefined || arr === null) throw new ShapeError(`${field}: missing (expected length ${expected}, ${dims})`);
  if (arr.length !== expected) throw new ShapeError(`${field}: expected length ${expected} (${dims}), got ${arr.length}`);
}

/** Check the structural fields of a batch and the per-token fields named in `need`. */
export function checkBatch(batch: TaoBatch, need: ReadonlyArray<"entropy" | "logp" | "oldLogp" | "refLogp"> = []): void {
  const { B, T } = batch;
  if (!Number.isInteger(B) || B < 0) throw new ShapeError(`TaoBatch.B: expected a non-negative integer, got ${B}`);
  if (!Number.isInteger(T) || T < 0) throw new ShapeError(`TaoBatch.T: expected a non-negative integer, got ${T}`);
  const BT = B * T;
  checkLength("TaoBatch.group", batch.group, B, "[B]");
  checkLength("TaoBatch.reward", batch.reward, B, "[B]");
  checkLength("TaoBatch.toolCalls", batch.toolCalls, B, "[B]");
  checkLength("TaoBatch.validToolCalls", batch.validToolCalls, B, "[B]");
  checkLength("TaoBatch.isVoid", batch.isVoid, B, "[B]");
  checkLength("TaoBatch.truncated", batch.truncated, B, "[B]");
  checkLength("TaoBatch.responseMask", batch.responseMask, BT, "[B*T]");
  checkLength("TaoBatch.postToolMask", batch.postToolMask, BT, "[B*T]");
  for (let b = 0; b < B; b++) {
    if (!Number.isFinite(batch.reward[b])) throw new ShapeError(`TaoBatch.reward[${b}]: not a finite number (${batch.reward[b]})`);
    if (batch.validToolCalls[b] > batch.toolCalls[b] || batch.validToolCalls[b] < 0) {
      throw new ShapeError(`TaoBatch.validToolCalls[${b}]: ${batch.validToolCalls[b]} is outside [0, toolCalls=${batch.toolCalls[b]}]`);
    }
  }
  for (const f of need) checkLength(`TaoBatch.${f}`, batch[f], BT, "[B*T]");
}

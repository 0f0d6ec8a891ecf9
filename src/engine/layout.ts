// The engines' internal weight layout, shared by tfjs-wasm.ts and the ONNX graphs: every rank-2 parameter
// except the embedding is stored transposed from Hugging Face's [out, in] to [in, out], so each projection
// is a plain `x · W` (the fast, transpose-free matMul path on both runtimes).
import type { WeightTensor } from "../model/config.js";

export const EMBED = "model.embed_tokens.weight";

/** True when the engines store this parameter transposed relative to the HF layout. */
export function isTransposed(name: string, shape: readonly number[]): boolean {
  return shape.length === 2 && name !== EMBED;
}

export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/** HF layout → engine layout (a copy or the same array when nothing moves). */
export function toEngineLayout(name: string, w: WeightTensor): WeightTensor {
  if (!isTransposed(name, w.shape)) return w;
  const [rows, cols] = w.shape;
  return { shape: [cols, rows], data: transpose2d(w.data, rows, cols) };
}

/** Engine layout → HF layout. */
export function toHfLayout(name: string, hfShape: readonly number[], data: Float32Array): WeightTensor {
  if (!isTransposed(name, hfShape)) return { shape: [...hfShape], data };
  const [rows, cols] = hfShape;
  return { shape: [...hfShape], data: transpose2d(data, cols, rows) };
}

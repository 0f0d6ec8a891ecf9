// Weights across a worker boundary (src/protocol/engine-messages.ts): HF-named tensors whose buffers are
// transferred, not copied. Shared by the engine worker host and its client; imports no engine runtime.
import type { WireTensor } from "../protocol/engine-messages.js";
import type { Weights } from "../model/config.js";

export function weightsFromWire(list: WireTensor[]): Weights {
  const w: Weights = new Map();
  for (const t of list) w.set(t.name, { shape: t.shape, data: t.data });
  return w;
}

/**
 * Weights as wire tensors plus the buffers to transfer. An array that does not own its whole buffer (a
 * view into a file, or sharing a buffer) is copied first, so a transfer never moves more than its values.
 */
export function weightsToWire(weights: Weights): { tensors: WireTensor[]; transfer: ArrayBuffer[] } {
  const tensors: WireTensor[] = [], transfer: ArrayBuffer[] = [];
  const seen = new Set<ArrayBufferLike>();
  for (const [name, t] of weights) {
    let data = t.data;
    const plain = Object.prototype.toString.call(data.buffer) === "[object ArrayBuffer]"; // not a SharedArrayBuffer (no instanceof across realms)
    const whole = plain && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    if (!whole || seen.has(data.buffer)) data = data.slice();
    seen.add(data.buffer);
    transfer.push(data.buffer as ArrayBuffer);
    tensors.push({ name, shape: [...t.shape], data });
  }
  return { tensors, transfer };
}

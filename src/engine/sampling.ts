// Token choice from a row of temperature-scaled log-probabilities: greedy, top-k, top-p (nucleus).
// Engine-independent and pure apart from the uniform draw it is handed.

/** Index of the largest value (the first one on ties). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/**
 * Draw a token from logprobs [V] restricted to the top-k (k > 0) and then to the smallest prefix of the
 * sorted distribution whose mass reaches topP (the most likely token always stays). `u` is uniform in [0, 1).
 */
export function sampleFrom(logprobs: ArrayLike<number>, topK: number, topP: number, u: number): number {
  const V = logprobs.length;
  const full = (topK <= 0 || topK >= V) && topP >= 1;
  if (full) {
    // Inverse CDF over the full distribution, in index order.
    let acc = 0;
    for (let i = 0; i < V; i++) {
      acc += Math.exp(logprobs[i]);
      if (u * 1 < acc) return i;
    }
    return argmax(logprobs);
  }
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logprobs[b] - logprobs[a] || a - b);
  let keep = topK > 0 ? Math.min(topK, V) : V;
  const probs = order.slice(0, keep).map((i) => Math.exp(logprobs[i]));
  if (topP < 1) {
    let acc = 0, n = 0;
    for (; n < keep; n++) {
      acc += probs[n];
      if (acc >= topP) { n++; break; }
    }
    keep = Math.max(1, Math.min(n, keep));
  }
  let total = 0;
  for (let i = 0; i < keep; i++) total += probs[i];
  let target = u * total;
  for (let i = 0; i < keep; i++) {
    target -= probs[i];
    if (target < 0) return order[i];
  }
  return order[keep - 1];
}

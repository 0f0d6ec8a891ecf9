// Group statistics over rewards: the basis of criterion 2 and of the GRPO advantage.

/** Per-group reward statistics; `index[b]` maps trajectory b to its dense group index. */
export interface GroupStats {
  /** Group ids in order of first appearance [G]. */
  ids: Int32Array;
  /** Dense group index of each trajectory [B]. */
  index: Int32Array;
  /** Members per group [G]. */
  size: Int32Array;
  /** Mean reward [G]. */
  mean: Float64Array;
  /** Unbiased std of the rewards (divide by G-1) [G]; NaN for a single member (undefined). */
  std: Float64Array;
}

/** Group rewards by id. Two passes (mean, then squared deviations) for numerical stability. */
export function groupStats(group: Int32Array, reward: Float64Array): GroupStats {
  const B = group.length;
  const dense = new Map<number, number>();
  const index = new Int32Array(B);
  const ids: number[] = [];
  for (let b = 0; b < B; b++) {
    let g = dense.get(group[b]);
    if (g === undefined) {
      g = ids.length;
      dense.set(group[b], g);
      ids.push(group[b]);
    }
    index[b] = g;
  }
  const G = ids.length;
  const size = new Int32Array(G);
  const mean = new Float64Array(G);
  const std = new Float64Array(G);
  for (let b = 0; b < B; b++) {
    size[index[b]]++;
    mean[index[b]] += reward[b];
  }
  for (let g = 0; g < G; g++) mean[g] /= size[g];
  for (let b = 0; b < B; b++) {
    const d = reward[b] - mean[index[b]];
    std[index[b]] += d * d;
  }
  for (let g = 0; g < G; g++) std[g] = size[g] > 1 ? Math.sqrt(std[g] / (size[g] - 1)) : NaN;
  return { ids: Int32Array.from(ids), index, size, mean, std };
}

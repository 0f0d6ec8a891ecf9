// Seeded randomness for filters and refill, so a run reproduces from its seed. SplitMix32-style mixing:
// small, fast, and good enough for sampling; not for cryptography.

/** Mix integers into one 32-bit seed, e.g. mixSeed(runSeed, step, prompt, sample). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9 | 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    // fold in the high bits of values beyond 32 bits (e.g. a Date.now() seed)
    const hi = Math.floor(p / 4294967296) | 0;
    if (hi !== 0) h = Math.imul(h ^ hi, 0x27d4eb2f);
  }
  return h >>> 0;
}

/** A generator of uniform floats in [0, 1) from a 32-bit seed (mulberry32). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [0, n). */
export function randomInt(rand: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(rand() * n));
}

/** A seeded permutation of 0..n-1 (Fisher-Yates). */
export function permutation(rand: () => number, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(rand, i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

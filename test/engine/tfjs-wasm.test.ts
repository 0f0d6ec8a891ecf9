import { describe, expect, it } from "vitest";
import { TfjsWasmEngine } from "../../src/engine/tfjs-wasm.js";
import { parameterSpecs } from "../../src/model/config.js";
import { naiveLogits, naiveSurrogate, randomTokens, randomWeights, tinyConfig, TINY_VARIANTS, mulberry } from "./naive.js";

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe("tfjs-wasm engine: logits against the naive float64 reference", () => {
  for (const [label, over] of TINY_VARIANTS) {
    it(label, async () => {
      const cfg = tinyConfig(over);
      const weights = randomWeights(cfg, 7);
      const e = await TfjsWasmEngine.create(cfg, { weights });
      const B = 3, T = 12;
      const tokens = randomTokens(B, T, cfg.vocabSize, 11);
      const logits = await e.forwardLogits({ B, T, tokens });
      const ref = Array.from({ length: B }, (_, b) => naiveLogits(cfg, weights, tokens.subarray(b * T, b * T + T))).flat();
      const flat = new Float64Array(B * T * cfg.vocabSize);
      ref.forEach((row, i) => flat.set(row, i * cfg.vocabSize));
      expect(maxAbs(logits, flat)).toBeLessThan(2e-5);
      e.dispose();
    });
  }
});

describe("tfjs-wasm engine: training", () => {
  it("gradient of Σ(w·logπ + v·H) matches float64 central differences", async () => {
    for (const [, over] of [TINY_VARIANTS[1], TINY_VARIANTS[2]]) {
      const cfg = tinyConfig({ ...over, hidden_size: 16, intermediate_size: 24, vocab_size: 20 });
      const weights = randomWeights(cfg, 3, 0.4);
      const e = await TfjsWasmEngine.create(cfg, { weights });
      const B = 2, T = 6, temperature = 0.8;
      const tokens = randomTokens(B, T, cfg.vocabSize, 5);
      const r = mulberry(9);
      const w = Float32Array.from({ length: B * T }, () => r() * 2 - 1);
      const v = Float32Array.from({ length: B * T }, () => r() - 0.5);
      const { grads } = await e.surrogateGradient({ B, T, tokens }, { w, v }, { temperature });
      let worst = 0, scale = 0;
      for (const g of grads.values()) for (const x of g.data) scale = Math.max(scale, Math.abs(x));
      const h = 1e-5;
      for (const s of parameterSpecs(cfg)) {
        const p = weights.get(s.name)!.data;
        // Two entries per tensor, plus the rows of used tokens for the embedding.
        const idx = [Math.floor(r() * p.length), Math.floor(r() * p.length)];
        if (s.name === "model.embed_tokens.weight") idx.push(tokens[0] * cfg.hiddenSize + 3, tokens[1] * cfg.hiddenSize + 1);
        for (const i of idx) {
          const keep = p[i];
          p[i] = keep + h; const up = naiveSurrogate(cfg, weights, tokens, B, T, w, v, temperature);
          p[i] = keep - h; const dn = naiveSurrogate(cfg, weights, tokens, B, T, w, v, temperature);
          p[i] = keep;
          // float32 storage of the perturbed weight: use the actually stored step.
          const fd = (up - dn) / (Math.fround(keep + h) - Math.fround(keep - h));
          worst = Math.max(worst, Math.abs(fd - grads.get(s.name)!.data[i]));
        }
      }
      expect(scale).toBeGreaterThan(0.05);
      expect(worst / scale).toBeLessThan(1e-5); // measured ≈ 6e-7: float32 rounding of the tfjs gradient
      console.log(`gradient check: max |tfjs - fd| = ${worst.toExponential(2)}, max |grad| = ${scale.toFixed(3)}`);
      e.dispose();
    }
  });

  it("micro-batching gives the same gradient; steps are deterministic from a seed", async () => {
    const cfg = tinyConfig(TINY_VARIANTS[2][1]);
    const B = 4, T = 10;
    const tokens = randomTokens(B, T, cfg.vocabSize, 1);
    const w = new Float32Array(B * T).fill(-1 / (B * T)), v = new Float32Array(B * T).fill(0.01);
    const a = await TfjsWasmEngine.create(cfg, { seed: 42, initStd: 0.2 });
    const b = await TfjsWasmEngine.create(cfg, { seed: 42, initStd: 0.2 });
    const c = await TfjsWasmEngine.create(cfg, { seed: 43, initStd: 0.2 });
    const wa = await a.weights(), wc = await c.weights();
    expect(maxAbs(wa.get("model.layers.1.mlp.up_proj.weight")!.data, wc.get("model.layers.1.mlp.up_proj.weight")!.data)).toBeGreaterThan(0.1);
    const ga = await a.surrogateGradient({ B, T, tokens }, { w, v });
    const gb = await b.surrogateGradient({ B, T, tokens }, { w, v }, { microBatch: 1 });
    expect(Math.abs(ga.surrogate - gb.surrogate)).toBeLessThan(1e-5);
    for (const [name, g] of ga.grads) expect([name, maxAbs(g.data, gb.grads.get(name)!.data) < 1e-6]).toEqual([name, true]);
    const ra = await a.step({ B, T, tokens }, { w, v }, { microBatch: 2 });
    const rb = await b.step({ B, T, tokens }, { w, v }, { microBatch: 2 });
    expect(rb.gradNorm).toBe(ra.gradNorm);
    const [wa2, wb2] = [await a.weights(), await b.weights()];
    for (const [name, t] of wa2) expect([name, maxAbs(t.data, wb2.get(name)!.data)]).toEqual([name, 0]);
    // A large surrogate: its gradient norm exceeds grad_clip = 1 and is scaled as torch's clip_grad_norm_.
    const big = await c.step({ B, T, tokens }, { w: new Float32Array(B * T).fill(-5), v });
    expect(big.gradNorm).toBeGreaterThan(1);
    expect(big.clipScale).toBeCloseTo(1 / (big.gradNorm + 1e-6), 12);
    await expect(a.step({ B: 1, T: 3, tokens: Int32Array.of(1, 2, 3) }, { w: new Float32Array(3), v: new Float32Array(2) })).rejects.toThrow(/coefficients.v: expected \[B\*T\] = \[1\*3\] = 3 values, got 2/);
    await expect(a.step({ B: 1, T: 2, tokens: Int32Array.of(1, 2) }, { w: Float32Array.of(0, NaN), v: new Float32Array(2) })).rejects.toThrow(/coefficients.w \[1, 2\]: non-finite value NaN at row 0, slot 1/);
    for (const e of [a, b, c]) e.dispose();
  });

  it("overfits a tiny task: log-likelihood of fixed sequences rises", async () => {
    const cfg = tinyConfig({ num_key_value_heads: 2, tie_word_embeddings: true });
    const e = await TfjsWasmEngine.create(cfg, { seed: 1, optim: { lr: 3e-3 } });
    const B = 4, T = 12;
    const tokens = randomTokens(B, T, cfg.vocabSize, 21);
    const w = new Float32Array(B * T).fill(-1 / (B * (T - 1))), v = new Float32Array(B * T);
    const before = await e.score({ B, T, tokens });
    const mean = (x: Float32Array) => x.reduce((a, b) => a + b, 0) / (B * (T - 1));
    let last;
    const times: number[] = [];
    for (let i = 0; i < 40; i++) { last = await e.step({ B, T, tokens }, { w, v }); times.push(last.timings.totalMs); }
    const after = await e.score({ B, T, tokens });
    console.log(`overfit: mean logp ${mean(before.logp).toFixed(3)} → ${mean(after.logp).toFixed(3)}; step median ${times.sort((a, b) => a - b)[20].toFixed(1)} ms (B${B}×T${T}, ${e.info().parameters} params)`);
    expect(mean(before.logp)).toBeLessThan(-3.5); // ≈ -ln 48 at init
    expect(mean(after.logp)).toBeGreaterThan(-1.5);
    expect(last!.step).toBe(40);
    e.dispose();
  });
});

describe("tfjs-wasm batched matMul (one XNNPACK product per slice)", () => {
  it("equals a naive product, sliced and through the shipped kernel's cases (transposes, broadcasting)", async () => {
    const { initTfjsWasm } = await import("../../src/engine/tfjs-wasm.js");
    await initTfjsWasm();
    const tf = await import("@tensorflow/tfjs-core");
    const r = mulberry(5);
    const rand = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() - 0.5), shape);
    /** Naive a [n,M,K] · b [n|1,K,N] after the flags' transposes. */
    const naive = (a: Float32Array, b: Float32Array, n: number, M: number, K: number, N: number, bBatch: number) => {
      const out = new Float32Array(n * M * N);
      for (let i = 0; i < n; i++) for (let m = 0; m < M; m++) for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[i * M * K + m * K + k] * b[(bBatch === 1 ? 0 : i) * K * N + k * N + j];
        out[i * M * N + m * N + j] = s;
      }
      return out;
    };
    const a = rand([3, 2, 5, 7]), b = rand([3, 2, 7, 4]), b1 = rand([1, 7, 4]);
    const big = rand([2, 40, 33]), bigB = rand([2, 33, 30]); // 39600 multiply-adds per slice: the sliced path
    const cases: Array<[string, () => import("@tensorflow/tfjs-core").Tensor, Float32Array]> = [
      ["small slices [3,2,5,7]·[3,2,7,4] (the shipped loop)", () => tf.matMul(a, b), naive(a.dataSync() as Float32Array, b.dataSync() as Float32Array, 6, 5, 7, 4, 6)],
      ["sliced, large slices", () => tf.matMul(big, bigB), naive(big.dataSync() as Float32Array, bigB.dataSync() as Float32Array, 2, 40, 33, 30, 2)],
      ["transposeB", () => tf.matMul(a, tf.transpose(b, [0, 1, 3, 2]), false, true), naive(a.dataSync() as Float32Array, b.dataSync() as Float32Array, 6, 5, 7, 4, 6)],
      ["transposeA", () => tf.matMul(tf.transpose(a, [0, 1, 3, 2]), b, true, false), naive(a.dataSync() as Float32Array, b.dataSync() as Float32Array, 6, 5, 7, 4, 6)],
      ["broadcast b", () => tf.matMul(a.reshape([6, 5, 7]), b1), naive(a.dataSync() as Float32Array, b1.dataSync() as Float32Array, 6, 5, 7, 4, 1)],
    ];
    for (const [label, f, want] of cases) {
      const got = f();
      expect([label, got.shape.slice(-2)]).toEqual([label, label.includes("large") ? [40, 30] : [5, 4]]);
      expect([label, maxAbs(got.dataSync(), want) < 1e-5]).toEqual([label, true]);
    }
  });
});

// Decode with a KV cache (ORT) against the full forward pass (tfjs), sampling and stop conditions.
import { describe, expect, it } from "vitest";
import { TfjsWasmEngine } from "../../src/engine/tfjs-wasm.js";
import { OrtWebEngine } from "../../src/engine/ort-web.js";
import { sampleFrom } from "../../src/engine/sampling.js";
import type { Generation } from "../../src/engine/engine.js";
import { randomTokens, randomWeights, tinyConfig, TINY_VARIANTS } from "./naive.js";

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Score prompt + generation of every row with the full (uncached) forward pass, right-padded. */
async function fullPass(tj: TfjsWasmEngine, prompts: Int32Array[], gens: Generation[], temperature: number) {
  const T = Math.max(...prompts.map((p, r) => p.length + gens[r].tokens.length));
  const tokens = new Int32Array(prompts.length * T);
  prompts.forEach((p, r) => { tokens.set(p, r * T); tokens.set(gens[r].tokens, r * T + p.length); });
  const s = await tj.score({ B: prompts.length, T, tokens }, { temperature });
  let err = 0;
  prompts.forEach((p, r) => {
    const n = gens[r].tokens.length;
    err = Math.max(err, maxAbs(s.logp.subarray(r * T + p.length, r * T + p.length + n), gens[r].logp));
    err = Math.max(err, maxAbs(s.entropy.subarray(r * T + p.length, r * T + p.length + n), gens[r].entropy));
  });
  return err;
}

describe("ORT decode with KV cache", () => {
  for (const [label, over] of [TINY_VARIANTS[1], TINY_VARIANTS[2]]) {
    it(`equals the full forward pass over prompts of different lengths (${label})`, async () => {
      const cfg = tinyConfig(over);
      const weights = randomWeights(cfg, 8);
      const tj = await TfjsWasmEngine.create(cfg, { weights });
      const ox = await OrtWebEngine.create(cfg, { weights, maxPositions: 32 });
      const prompts = [randomTokens(1, 3, cfg.vocabSize, 1), randomTokens(1, 7, cfg.vocabSize, 2), randomTokens(1, 1, cfg.vocabSize, 3)];
      for (const temperature of [0, 0.8]) {
        const gens = await ox.generate(prompts, { temperature, topP: 0.95, seed: 5, maxNewTokens: 9 });
        for (const g of gens) { expect(g.tokens.length).toBe(9); expect(g.finishReason).toBe("length"); }
        const err = await fullPass(tj, prompts, gens, temperature === 0 ? 1 : temperature);
        console.log(`cached decode vs full pass (${label}, T=${temperature}): ${err.toExponential(1)}`);
        expect(err).toBeLessThan(1e-4);
      }
      tj.dispose(); ox.dispose();
    });
  }

  it("tfjs KV decode generates what ORT generates (same tokens, logp and entropy within 1e-4), prompts of different lengths", async () => {
    const cfg = tinyConfig(TINY_VARIANTS[2][1]);
    const weights = randomWeights(cfg, 12, 0.5);
    const tj = await TfjsWasmEngine.create(cfg, { weights });
    const ox = await OrtWebEngine.create(cfg, { weights, maxPositions: 64 });
    const prompts = [randomTokens(1, 5, cfg.vocabSize, 1), randomTokens(1, 2, cfg.vocabSize, 2), randomTokens(1, 9, cfg.vocabSize, 3)];
    for (const sampling of [{ temperature: 0, maxNewTokens: 10 }, { temperature: 0.9, topK: 20, seed: 3, maxNewTokens: 10 }]) {
      const [a, b] = [await tj.generate(prompts, sampling), await ox.generate(prompts, sampling)];
      expect(a.map((g) => [...g.tokens])).toEqual(b.map((g) => [...g.tokens]));
      const err = Math.max(...a.map((g, r) => Math.max(maxAbs(g.logp, b[r].logp), maxAbs(g.entropy, b[r].entropy))));
      expect(err).toBeLessThan(1e-4);
      expect(await fullPass(tj, prompts, a, sampling.temperature || 1)).toBeLessThan(1e-4);
    }
    tj.dispose(); ox.dispose();
  });

  it("sampling is seeded per row; top-k 1 is greedy; stop at EOS, at stop strings, at the budget", async () => {
    const cfg = tinyConfig(TINY_VARIANTS[1][1]);
    const ox = await OrtWebEngine.create(cfg, { weights: randomWeights(cfg, 2, 0.6), maxPositions: 64 });
    const prompts = [randomTokens(1, 4, cfg.vocabSize, 7), randomTokens(1, 2, cfg.vocabSize, 8)];
    const opts = { temperature: 1, topP: 0.9, seed: 11, maxNewTokens: 12 };
    const a = await ox.generate(prompts, opts), b = await ox.generate(prompts, opts);
    const c = await ox.generate(prompts, { ...opts, seed: 12 });
    expect(a.map((g) => [...g.tokens])).toEqual(b.map((g) => [...g.tokens]));
    expect(a.map((g) => [...g.tokens])).not.toEqual(c.map((g) => [...g.tokens]));
    const solo = await ox.generate([prompts[1]], opts); // row seeds are (seed, row): row 1 alone differs only by its index
    expect(solo[0].tokens.length).toBe(12);
    const greedy = await ox.generate(prompts, { temperature: 0, maxNewTokens: 6 });
    const top1 = await ox.generate(prompts, { temperature: 0.7, topK: 1, seed: 3, maxNewTokens: 6 });
    expect(top1.map((g) => [...g.tokens])).toEqual(greedy.map((g) => [...g.tokens]));
    // EOS: the token row 0 produced third becomes the end token; row 0 stops there, token kept.
    const eosTok = a[0].tokens[2];
    const firstEos = [...a[0].tokens].indexOf(eosTok);
    const e = await ox.generate(prompts, opts, { eosTokenIds: [eosTok] });
    expect(e[0].finishReason).toBe("eos");
    expect([...e[0].tokens]).toEqual([...a[0].tokens.subarray(0, firstEos + 1)]);
    // Stop string spanning two tokens (a closing fence split over tokens in real tokenizers).
    const decode = (ids: number[]) => ids.map((i) => (i === a[1].tokens[3] ? "`" : i === a[1].tokens[4] ? "``" : `<${i}>`)).join("");
    const s = await ox.generate(prompts, opts, { stopStrings: ["```"], decode });
    expect(s[1].finishReason).toBe("stop");
    expect(s[1].tokens.length).toBeLessThanOrEqual(5);
    expect(decode([...s[1].tokens])).toContain("```");
    const short = await ox.generate(prompts, { ...opts, maxNewTokens: 3 });
    expect(short.map((g) => [g.tokens.length, g.finishReason])).toEqual([[3, "length"], [3, "length"]]);
    await expect(ox.generate([new Int32Array(0)], opts)).rejects.toThrow(/prompts\[0\]: empty prompt/);
    await expect(ox.generate([Int32Array.of(1, 500)], opts)).rejects.toThrow(/prompts\[0\].*id 500/);
    ox.dispose();
  });

  it("measures decode throughput (tiny config), weights as inputs and as initializers", async () => {
    const cfg = tinyConfig({ num_key_value_heads: 2, tie_word_embeddings: true, hidden_size: 64, intermediate_size: 128, vocab_size: 64 });
    const weights = randomWeights(cfg, 1);
    const rates: string[] = [];
    let reference: number[][] | null = null;
    for (const weightsMode of ["inputs", "initializers"] as const) {
      const ox = await OrtWebEngine.create(cfg, { weights, maxPositions: 160, weightsMode });
      for (const B of [1, 8]) {
        const prompts = Array.from({ length: B }, (_, r) => randomTokens(1, 8, cfg.vocabSize, r));
        await ox.generate(prompts, { seed: 1, maxNewTokens: 8 }); // warm-up
        const t0 = performance.now();
        const gens = await ox.generate(prompts, { seed: 1, maxNewTokens: 128 });
        const n = gens.reduce((a, g) => a + g.tokens.length, 0);
        rates.push(`${weightsMode} batch ${B}: ${Math.round(n / ((performance.now() - t0) / 1000))} tok/s`);
        expect(n).toBe(128 * B);
        if (B === 8) {
          const toks = gens.map((g) => [...g.tokens]);
          if (reference) expect(toks).toEqual(reference); // both modes sample the same tokens
          reference = toks;
        }
      }
      ox.dispose();
    }
    console.log(`decode (${cfg.hiddenSize}-wide, 128 new tokens): ${rates.join(", ")}`);
  });
});

describe("sampleFrom", () => {
  it("respects top-k and top-p and inverts the CDF", () => {
    const lp = [0.5, 0.3, 0.15, 0.05].map(Math.log);
    expect(sampleFrom(lp, 0, 1, 0.49)).toBe(0);
    expect(sampleFrom(lp, 0, 1, 0.51)).toBe(1);
    expect(sampleFrom(lp, 0, 1, 0.97)).toBe(3);
    expect(sampleFrom(lp, 2, 1, 0.99)).toBe(1); // top-2 renormalised
    expect(sampleFrom(lp, 0, 0.79, 0.99)).toBe(1); // 0.5 + 0.3 reaches 0.79
    expect(sampleFrom(lp, 0, 0.81, 0.99)).toBe(2);
    expect(sampleFrom(lp, 0, 0.1, 0.99)).toBe(0); // the top token always stays
  });
});

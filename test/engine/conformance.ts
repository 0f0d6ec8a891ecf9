// The shared conformance suite every Engine implementation runs (STYLE.md: one interface, one suite):
// per-token logp and entropy against the naive float64 reference on every tiny variant and two
// temperatures, the slot-0 convention, weight exchange, and errors that name the offending tensor.
import { describe, expect, it } from "vitest";
import type { Engine } from "../../src/engine/engine.js";
import type { ArchConfig, Weights } from "../../src/model/config.js";
import { naiveScore, randomTokens, randomWeights, tinyConfig, TINY_VARIANTS } from "./naive.js";

export type EngineFactory = (cfg: ArchConfig, weights: Weights) => Promise<Engine>;

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

export function engineConformance(label: string, create: EngineFactory): void {
  describe(`Engine conformance: ${label}`, () => {
    for (const [variant, over] of TINY_VARIANTS) {
      it(`score matches the float64 reference (${variant})`, async () => {
        const cfg = tinyConfig(over);
        const weights = randomWeights(cfg, 7);
        const e = await create(cfg, weights);
        expect(e.info().config).toEqual(cfg);
        const B = 3, T = 12;
        const tokens = randomTokens(B, T, cfg.vocabSize, 11);
        for (const temperature of [1, 0.7]) {
          const s = await e.score({ B, T, tokens }, { temperature });
          const n = naiveScore(cfg, weights, tokens, B, T, temperature);
          expect(maxAbs(s.logp, n.logp)).toBeLessThan(2e-5);
          expect(maxAbs(s.entropy, n.entropy)).toBeLessThan(2e-5);
          for (let b = 0; b < B; b++) expect([s.logp[b * T], s.entropy[b * T]]).toEqual([0, 0]);
        }
        e.dispose();
      });
    }

    it("setWeights replaces the policy; bad weights and batches are named with their shapes", async () => {
      const cfg = tinyConfig();
      const e = await create(cfg, randomWeights(cfg, 1));
      const B = 2, T = 6;
      const tokens = randomTokens(B, T, cfg.vocabSize, 3);
      const w2 = randomWeights(cfg, 2);
      await e.setWeights(w2);
      expect(maxAbs((await e.score({ B, T, tokens })).logp, naiveScore(cfg, w2, tokens, B, T).logp)).toBeLessThan(2e-5);
      await expect(e.score({ B: 2, T: 3, tokens: new Int32Array(5) })).rejects.toThrow(/tokens: expected \[B\*T\] = \[2\*3\] = 6 ids, got 5/);
      await expect(e.score({ B: 1, T: 3, tokens: Int32Array.of(1, 99, 2) })).rejects.toThrow(/id 99 at row 0, slot 1 is outside the vocabulary \[0, 48\)/);
      await expect(e.score({ B: 1, T: 2, tokens: Int32Array.of(1, 2) }, { temperature: 0 })).rejects.toThrow(/temperature/);
      const bad = randomWeights(cfg, 1);
      bad.set("model.norm.weight", { shape: [31], data: new Float32Array(31) });
      await expect(e.setWeights(bad)).rejects.toThrow(/"model.norm.weight" has shape \[31\], expected \[32\]/);
      bad.delete("model.norm.weight");
      await expect(e.setWeights(bad)).rejects.toThrow(/missing tensor "model.norm.weight"/);
      e.dispose();
    });
  });
}

// Two onnxruntime-web engines in one realm share one wasm instance: their calls, interleaved by callers,
// must give what each gives alone (they once broke each other's runs: "output name cannot be empty").
import { describe, expect, it } from "vitest";
import { OrtWebEngine } from "../../src/engine/ort-web.js";
import { randomWeights, tinyConfig } from "./naive.js";

describe("onnxruntime-web engines sharing a realm", () => {
  it("concurrent generate and score on two engines equal the calls made one at a time", async () => {
    const cfg = tinyConfig({ vocab_size: 64, hidden_size: 32, intermediate_size: 64, max_position_embeddings: 64 });
    const a = await OrtWebEngine.create(cfg, { weights: randomWeights(cfg, 1, 0.5), maxPositions: 64, weightsMode: "initializers" });
    const b = await OrtWebEngine.create(cfg, { weights: randomWeights(cfg, 2, 0.5), maxPositions: 64 });
    try {
      const prompts = [Int32Array.of(1, 2, 3), Int32Array.of(4, 5)];
      const batch = { B: 2, T: 6, tokens: Int32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12) };
      const gen = (e: OrtWebEngine, seed: number) => e.generate(prompts, { temperature: 1, seed, maxNewTokens: 12 });
      const alone = { ga: await gen(a, 5), gb: await gen(b, 6), sa: await a.score(batch), sb: await b.score(batch) };
      const together = await Promise.all([gen(a, 5), b.score(batch), gen(b, 6), a.score(batch), gen(a, 5), gen(b, 6)]);
      for (const [g, ref] of [[together[0], alone.ga], [together[4], alone.ga], [together[2], alone.gb], [together[5], alone.gb]] as const) {
        expect(g.map((x) => Array.from(x.tokens))).toEqual(ref.map((x) => Array.from(x.tokens)));
      }
      expect(Array.from(together[1].logp)).toEqual(Array.from(alone.sb.logp));
      expect(Array.from(together[3].logp)).toEqual(Array.from(alone.sa.logp));
      expect(alone.ga.map((x) => Array.from(x.tokens))).not.toEqual(alone.gb.map((x) => Array.from(x.tokens)));
    } finally {
      a.dispose();
      b.dispose();
    }
  }, 60_000);
});

import { describe, expect, it, afterAll } from "vitest";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TfjsWasmEngine } from "../../src/engine/tfjs-wasm.js";
import { saveTrainer, loadTrainer } from "../../src/engine/checkpoint.js";
import { loadCheckpoint } from "../../src/model/checkpoint.js";
import { randomTokens, tinyConfig, TINY_VARIANTS } from "./naive.js";

const dir = mkdtempSync(join(tmpdir(), "taorl-ck-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("trainer checkpoints", () => {
  it("resume exactly: weights, AdamW moments and step count", async () => {
    const cfg = tinyConfig(TINY_VARIANTS[2][1]);
    const B = 3, T = 8;
    const batches = [1, 2, 3, 4].map((s) => ({ B, T, tokens: randomTokens(B, T, cfg.vocabSize, s) }));
    const w = new Float32Array(B * T).fill(-0.1), v = new Float32Array(B * T).fill(0.01);
    const optim = { lr: 5e-3 };
    const a = await TfjsWasmEngine.create(cfg, { seed: 9, optim });
    for (const b of batches.slice(0, 2)) await a.step(b, { w, v });
    const ck = join(dir, "step2");
    await saveTrainer(ck, a);
    await saveTrainer(ck, a); // overwriting an existing checkpoint goes through the same rename
    expect(existsSync(join(ck, "optimizer.safetensors"))).toBe(true);
    const b = await loadTrainer(ck, { optim });
    for (const x of batches.slice(2)) {
      const [ra, rb] = [await a.step(x, { w, v }), await b.step(x, { w, v })];
      expect(rb.step).toBe(ra.step);
      expect(rb.gradNorm).toBe(ra.gradNorm);
    }
    const [wa, wb] = [await a.weights(), await b.weights()];
    for (const [name, t] of wa) expect([name, [...t.data]]).toEqual([name, [...wb.get(name)!.data]]);
    // The folder is a plain HF checkpoint too.
    expect((await loadCheckpoint(ck)).config).toEqual(cfg);
    a.dispose(); b.dispose();
  });
});

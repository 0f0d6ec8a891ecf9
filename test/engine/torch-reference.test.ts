// ORT against an independent PyTorch Llama (reference_llama.py, float64) fed the same model.safetensors by
// Hugging Face names: logits within 1e-4 max-abs on GQA, Qwen2 bias, tied and untied heads, and every
// rope scaling kind the config supports. Where no Python has torch, the test asserts and prints why.
import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { OrtWebEngine } from "../../src/engine/ort-web.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/model/checkpoint.js";
import { randomTokens, randomWeights, tinyConfig } from "./naive.js";
import { findTorchPython, TORCH_INSTALL_HINT } from "./torch-python.js";

const script = fileURLToPath(new URL("./reference_llama.py", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "taorl-torch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VARIANTS: Array<[string, Record<string, unknown>, "F32" | "BF16"]> = [
  ["llama GQA 4/2 untied, llama3 rope scaling", {
    num_key_value_heads: 2, head_dim: 8,
    rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 },
  }, "F32"],
  ["qwen2 q/k/v bias GQA 4/1 tied, rope_theta 1e6", { model_type: "qwen2", num_key_value_heads: 1, rope_theta: 1e6, tie_word_embeddings: true }, "F32"],
  ["llama MHA tied, linear rope scaling, BF16 file", { tie_word_embeddings: true, rope_scaling: { type: "linear", factor: 2 } }, "BF16"],
  ["llama attention_bias untied, head_dim 16", { attention_bias: true, num_key_value_heads: 2, head_dim: 16, vocab_size: 64 }, "F32"],
];

const torch = findTorchPython();

describe("ORT vs an independent PyTorch Llama (1e-4 max abs)", () => {
  if (!torch.python) {
    it("cannot compare here: no Python imports torch (the reason is asserted and printed)", () => {
      console.log(`torch reference: NOT RUN, no python with torch (${TORCH_INSTALL_HINT}):\n  ${torch.reasons.join("\n  ")}`);
      expect(torch.reasons.length).toBeGreaterThan(0);
      for (const r of torch.reasons) expect(r).toMatch(/torch|ENOENT|not found/i);
    });
    return;
  }

  for (const [label, over, dtype] of VARIANTS) {
    it(label, async () => {
      const cfg = tinyConfig(over);
      const folder = join(dir, label.replace(/[^a-z0-9]+/gi, "-"));
      await saveCheckpoint(folder, cfg, randomWeights(cfg, 23), { dtype });
      const { config, weights } = await loadCheckpoint(folder);
      const B = 2, T = 12;
      const tokens = randomTokens(B, T, cfg.vocabSize, 5);
      const rows = [0, 1].map((b) => [...tokens.subarray(b * T, b * T + T)]);
      const r = spawnSync(torch.python!, [script, folder, JSON.stringify(rows)], { encoding: "utf8", maxBuffer: 64 << 20 });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const ref = (JSON.parse(r.stdout) as { logits: number[][][] }).logits.flat(2);
      const ox = await OrtWebEngine.create(config, { weights, maxPositions: 32 });
      const got = await ox.forwardLogits({ B, T, tokens });
      ox.dispose();
      expect(got.length).toBe(ref.length);
      let err = 0, spread = 0;
      for (let i = 0; i < ref.length; i++) { err = Math.max(err, Math.abs(got[i] - ref[i])); spread = Math.max(spread, Math.abs(ref[i])); }
      console.log(`torch ${torch.torchVersion} reference, ${label}: max |ORT - torch| = ${err.toExponential(1)} (max |logit| ${spread.toFixed(2)})`);
      expect(spread).toBeGreaterThan(0.5); // logits far from zero: the comparison has something to compare
      expect(err).toBeLessThan(1e-4);
    });
  }
});

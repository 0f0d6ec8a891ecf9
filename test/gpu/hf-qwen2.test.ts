// A Qwen2-architecture checkpoint written by taorl, for the paper's model family: grouped-query attention
// (4 query heads, 2 key/value heads), q/k/v bias, untied embeddings, rope_theta 1e6, BF16 safetensors.
// test/fixtures/hf-qwen2/ holds the folder and what both of taorl's engines compute on three token rows;
// gpu/tests/test_hf_qwen2.py loads the folder with transformers' Qwen2ForCausalLM and must agree.
//
// The folder is deterministic (seeded init): this test rebuilds it and requires the committed bytes, then
// recomputes the expected values with onnxruntime-web and tfjs-wasm. TAORL_WRITE_HF_QWEN2=1 rewrites it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { OrtWebEngine } from "../../src/engine/ort-web.js";
import { TfjsWasmEngine } from "../../src/engine/tfjs-wasm.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/model/checkpoint.js";
import { parseHfConfig } from "../../src/model/config.js";
import { seededRandom } from "../../src/rl/index.js";

const dir = fileURLToPath(new URL("../fixtures/hf-qwen2", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "taorl-qwen2-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HF_CONFIG = {
  architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", vocab_size: 300, hidden_size: 64, intermediate_size: 160,
  num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, hidden_act: "silu", rms_norm_eps: 1e-6,
  rope_theta: 1_000_000, max_position_embeddings: 256, tie_word_embeddings: false, use_sliding_window: false,
  torch_dtype: "bfloat16",
};
const ROWS = 3, T = 48;

interface Expected { B: number; T: number; tokens: number[]; ort: { logp: number[]; entropy: number[] }; tfjs: { logp: number[]; entropy: number[] } }

async function build(out: string): Promise<void> {
  const config = parseHfConfig(HF_CONFIG);
  // std 0.2 (not HF's 0.02), so the next-token distributions are far from uniform and differences show
  const engine = await TfjsWasmEngine.create(config, { seed: 7, initStd: 0.2 });
  try {
    await saveCheckpoint(out, config, await engine.weights(), { dtype: "BF16" });
  } finally {
    engine.dispose();
  }
}

async function expected(folder: string): Promise<Expected> {
  const { config, weights } = await loadCheckpoint(folder); // the BF16 weights, as everyone reads them
  const rand = seededRandom(0x9e2);
  const tokens = Int32Array.from({ length: ROWS * T }, () => Math.floor(rand() * config.vocabSize));
  const batch = { B: ROWS, T, tokens };
  const ort = await OrtWebEngine.create(config, { weights, maxPositions: T, weightsMode: "initializers" });
  const tf = await TfjsWasmEngine.create(config, { weights });
  try {
    const a = await ort.score(batch), b = await tf.score(batch);
    const r = (x: Float32Array) => Array.from(x, (v) => Number(v.toPrecision(8)));
    return { B: ROWS, T, tokens: Array.from(tokens), ort: { logp: r(a.logp), entropy: r(a.entropy) }, tfjs: { logp: r(b.logp), entropy: r(b.entropy) } };
  } finally {
    ort.dispose();
    tf.dispose();
  }
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe("the Qwen2 fixture (GQA, q/k/v bias, untied, BF16), redone by gpu/tests/test_hf_qwen2.py", () => {
  it("is rebuilt byte for byte from its seed, and both engines still compute the committed values", async () => {
    if (process.env.TAORL_WRITE_HF_QWEN2 === "1" || !existsSync(join(dir, "expected.json"))) {
      mkdirSync(dir, { recursive: true });
      await build(dir);
      writeFileSync(join(dir, "expected.json"), JSON.stringify(await expected(dir)) + "\n");
    }
    const fresh = join(tmp, "qwen2");
    await build(fresh);
    for (const f of ["config.json", "model.safetensors"]) {
      expect(Buffer.compare(readFileSync(join(fresh, f)), readFileSync(join(dir, f))), f).toBe(0);
    }
    const want = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as Expected;
    const got = await expected(dir);
    expect(got.tokens).toEqual(want.tokens);
    expect(maxDiff(got.ort.logp, want.ort.logp)).toBeLessThan(1e-5);
    expect(maxDiff(got.tfjs.logp, want.tfjs.logp)).toBeLessThan(1e-5);
    // the two engines agree with each other, and the distributions are far from uniform
    expect(maxDiff(got.ort.logp, got.tfjs.logp)).toBeLessThan(1e-4);
    expect(maxDiff(got.ort.entropy, got.tfjs.entropy)).toBeLessThan(1e-4);
    const meanH = got.ort.entropy.reduce((s, x) => s + x, 0) / got.ort.entropy.length;
    expect(meanH).toBeLessThan(0.8 * Math.log(300));
  }, 120_000);
});

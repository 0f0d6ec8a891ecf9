// ORT (inference) against tfjs-wasm (training) on the same weights: logits, per-token logp and entropy
// within 1e-4 max-abs, before and after training updates fed to ORT without rebuilding its sessions.
import { describe, expect, it } from "vitest";
import { TfjsWasmEngine } from "../../src/engine/tfjs-wasm.js";
import { OrtWebEngine } from "../../src/engine/ort-web.js";
import { randomTokens, randomWeights, tinyConfig, TINY_VARIANTS } from "./naive.js";

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe("ORT vs tfjs parity (1e-4 max abs)", () => {
  for (const [label, over] of TINY_VARIANTS) {
    it(label, async () => {
      const cfg = tinyConfig(over);
      const weights = randomWeights(cfg, 17);
      const tj = await TfjsWasmEngine.create(cfg, { weights, optim: { lr: 1e-2 } });
      const ox = await OrtWebEngine.create(cfg, { weights, maxPositions: 32 });
      const B = 3, T = 16;
      const batch = { B, T, tokens: randomTokens(B, T, cfg.vocabSize, 99) };
      const logitsErr = maxAbs(await tj.forwardLogits(batch), await ox.forwardLogits(batch));
      const [a, b] = [await tj.score(batch, { temperature: 0.7 }), await ox.score(batch, { temperature: 0.7 })];
      const logpErr = maxAbs(a.logp, b.logp), entErr = maxAbs(a.entropy, b.entropy);
      expect(logitsErr).toBeLessThan(1e-4);
      expect(logpErr).toBeLessThan(1e-4);
      expect(entErr).toBeLessThan(1e-4);
      // Three training updates, weights fed to the same ORT sessions.
      const w = new Float32Array(B * T).fill(-0.05), v = new Float32Array(B * T).fill(0.02);
      for (let i = 0; i < 3; i++) await tj.step(batch, { w, v }, { temperature: 0.7, microBatch: 2 });
      await ox.setWeights(await tj.weights());
      const baked = await OrtWebEngine.create(cfg, { weights, maxPositions: 32, weightsMode: "initializers" });
      await baked.setWeights(await tj.weights()); // rebuilds its sessions
      const [c, d, f] = [await tj.score(batch, { temperature: 0.7 }), await ox.score(batch, { temperature: 0.7 }), await baked.score(batch, { temperature: 0.7 })];
      expect(maxAbs(a.logp, c.logp)).toBeGreaterThan(1e-2); // the updates did move the policy
      const afterErr = Math.max(maxAbs(c.logp, d.logp), maxAbs(c.entropy, d.entropy), maxAbs(c.logp, f.logp), maxAbs(c.entropy, f.entropy));
      baked.dispose();
      expect(afterErr).toBeLessThan(1e-4);
      console.log(`parity ${label}: logits ${logitsErr.toExponential(1)}, logp ${logpErr.toExponential(1)}, entropy ${entErr.toExponential(1)}, after updates ${afterErr.toExponential(1)}`);
      tj.dispose(); ox.dispose();
    });
  }
});

describe("standalone .onnx export", () => {
  it("runs in a fresh ORT session with the weights as initializers and matches tfjs", async () => {
    const ort = await import("onnxruntime-web");
    const { exportOnnx } = await import("../../src/engine/onnx-graph.js");
    const cfg = tinyConfig(TINY_VARIANTS[2][1]);
    const weights = randomWeights(cfg, 5);
    const bytes = exportOnnx(cfg, weights, "score", 32);
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
    expect([...session.inputNames].sort()).toEqual(["input_ids", "targets", "temperature"]);
    const B = 2, T = 8;
    const tokens = randomTokens(B, T, cfg.vocabSize, 4);
    const out = await session.run({
      input_ids: new ort.Tensor("int64", BigInt64Array.from(tokens, BigInt), [B, T]),
      targets: new ort.Tensor("int64", new BigInt64Array(B * T), [B, T]),
      temperature: new ort.Tensor("float32", Float32Array.of(1), [1]),
    }, ["logits"]);
    const tj = await TfjsWasmEngine.create(cfg, { weights });
    expect(maxAbs(out.logits.data as Float32Array, await tj.forwardLogits({ B, T, tokens }))).toBeLessThan(1e-4);
    tj.dispose();
    await session.release();
  });

  it("uses standard ONNX ops only (no onnxruntime contrib op), in the score and the decode graph", async () => {
    const { exportOnnx } = await import("../../src/engine/onnx-graph.js");
    const cfg = tinyConfig(TINY_VARIANTS[2][1]);
    for (const kind of ["score", "decode"] as const) {
      const text = Buffer.from(exportOnnx(cfg, randomWeights(cfg, 5), kind, 32)).toString("latin1");
      for (const op of ["com.microsoft", "SimplifiedLayerNormalization", "RotaryEmbedding"]) expect(text.includes(op), `${kind}: ${op}`).toBe(false);
      // the engines' own graphs do use them
      expect(Buffer.from(exportOnnx(cfg, randomWeights(cfg, 5), kind, 32, false)).toString("latin1")).toContain("RotaryEmbedding");
    }
  });

  it("decodes like the engines' graph: the portable decode graph gives the same log-probs at offset positions", async () => {
    const ort = await import("onnxruntime-web");
    const { exportOnnx } = await import("../../src/engine/onnx-graph.js");
    const cfg = tinyConfig(TINY_VARIANTS[2][1]);
    const weights = randomWeights(cfg, 6);
    const B = 2, P = 3, S = 2, { numKvHeads: KV, headDim: dh } = cfg;
    const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7919 + i * 1.7) * 0.5);
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from([5n, 9n, 11n, 2n]), [B, S]),
      position_ids: new ort.Tensor("int64", BigInt64Array.from([3n, 4n, 1n, 2n]), [B, S]),
      key_mask: new ort.Tensor("float32", new Float32Array(B * (P + S)), [B, P + S]),
      temperature: new ort.Tensor("float32", Float32Array.of(0.8), [1]),
    };
    for (let l = 0; l < cfg.numLayers; l++) {
      feeds[`past_key_${l}`] = new ort.Tensor("float32", rand(P * B * KV * dh, 2 * l + 1), [P, B, KV, dh]);
      feeds[`past_value_${l}`] = new ort.Tensor("float32", rand(P * B * KV * dh, 2 * l + 2), [P, B, KV, dh]);
    }
    const outs = [];
    for (const portable of [true, false]) {
      const session = await ort.InferenceSession.create(exportOnnx(cfg, weights, "decode", 32, portable), { executionProviders: ["wasm"] });
      outs.push(await session.run(feeds));
      await session.release();
    }
    for (const name of ["logprobs", "entropy", "new_key_0", "new_value_1"]) {
      expect(maxAbs(outs[0][name].data as Float32Array, outs[1][name].data as Float32Array), name).toBeLessThan(1e-5);
    }
  });
});

import { describe, expect, it } from "vitest";
import { parseHfConfig, toHfConfig, parameterSpecs, ropeInvFreq, checkWeights, ModelConfigError, type Weights } from "../../src/model/config.js";

// Abridged from the public config.json files of SmolLM2-135M and Qwen2.5-0.5B (fields as published).
const smollm2 = {
  architectures: ["LlamaForCausalLM"], attention_bias: false, attention_dropout: 0.0, bos_token_id: 0, eos_token_id: 0,
  hidden_act: "silu", hidden_size: 576, initializer_range: 0.041666666666666664, intermediate_size: 1536,
  max_position_embeddings: 8192, mlp_bias: false, model_type: "llama", num_attention_heads: 9, num_hidden_layers: 30,
  num_key_value_heads: 3, pretraining_tp: 1, rms_norm_eps: 1e-5, rope_scaling: null, rope_theta: 100000,
  tie_word_embeddings: true, torch_dtype: "bfloat16", transformers_version: "4.40.1", use_cache: true, vocab_size: 49152,
};
const qwen25 = {
  architectures: ["Qwen2ForCausalLM"], attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151645, hidden_act: "silu",
  hidden_size: 896, initializer_range: 0.02, intermediate_size: 4864, max_position_embeddings: 32768, max_window_layers: 21,
  model_type: "qwen2", num_attention_heads: 14, num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-6,
  rope_theta: 1000000.0, sliding_window: 32768, tie_word_embeddings: true, torch_dtype: "bfloat16", use_cache: true,
  use_sliding_window: false, vocab_size: 151936,
};

describe("parseHfConfig", () => {
  it("reads SmolLM2-135M: GQA 9/3, tied, theta 1e5, no bias", () => {
    const c = parseHfConfig(smollm2);
    expect(c).toMatchObject({ modelType: "llama", hiddenSize: 576, numHeads: 9, numKvHeads: 3, headDim: 64, numLayers: 30,
      tieWordEmbeddings: true, qkvBias: false, oBias: false, ropeTheta: 100000, rmsNormEps: 1e-5, eosTokenIds: [0], bosTokenId: 0 });
    expect(parameterSpecs(c).some((s) => s.name === "lm_head.weight")).toBe(false);
  });

  it("reads Qwen2.5-0.5B: q/k/v bias, no o bias, sliding window off", () => {
    const c = parseHfConfig(qwen25);
    expect(c).toMatchObject({ modelType: "qwen2", qkvBias: true, oBias: false, numKvHeads: 2, headDim: 64, ropeTheta: 1e6 });
    const names = parameterSpecs(c).map((s) => s.name);
    expect(names).toContain("model.layers.23.self_attn.k_proj.bias");
    expect(names).not.toContain("model.layers.0.self_attn.o_proj.bias");
    const k = parameterSpecs(c).find((s) => s.name === "model.layers.0.self_attn.k_proj.weight")!;
    expect(k.shape).toEqual([128, 896]);
  });

  it("refuses unsupported features by name", () => {
    expect(() => parseHfConfig({ ...smollm2, model_type: "gpt2" })).toThrow(/model_type "gpt2" is not supported/);
    expect(() => parseHfConfig({ ...qwen25, use_sliding_window: true })).toThrow(/sliding-window/);
    expect(() => parseHfConfig({ ...smollm2, model_type: "mistral", sliding_window: 4096 })).toThrow(/sliding_window: 4096/);
    expect(() => parseHfConfig({ ...smollm2, rope_scaling: { rope_type: "yarn", factor: 4 } })).toThrow(/rope_scaling type "yarn" is not implemented/);
    expect(() => parseHfConfig({ ...smollm2, hidden_act: "gelu" })).toThrow(/hidden_act "gelu"/);
    expect(() => parseHfConfig({ ...smollm2, mlp_bias: true })).toThrow(/mlp_bias/);
    expect(() => parseHfConfig({ ...smollm2, num_key_value_heads: 4 })).toThrow(/multiple of num_key_value_heads/);
    expect(() => parseHfConfig({ ...smollm2, hidden_size: -3 })).toThrow(ModelConfigError);
    expect(() => parseHfConfig([])).toThrow(/JSON object/);
  });

  it("round-trips through toHfConfig", () => {
    for (const raw of [smollm2, qwen25, { ...smollm2, attention_bias: true, rope_scaling: { rope_type: "linear", factor: 2 } }]) {
      const c = parseHfConfig(raw);
      expect(parseHfConfig(toHfConfig(c))).toEqual(c);
    }
  });

  it("rope scaling changes the inverse frequencies as specified", () => {
    const base = ropeInvFreq(parseHfConfig(smollm2));
    const lin = ropeInvFreq(parseHfConfig({ ...smollm2, rope_scaling: { type: "linear", factor: 4 } }));
    expect(lin[5]).toBeCloseTo(base[5] / 4, 12);
    expect(base[0]).toBe(1);
    expect(base[1]).toBeCloseTo(Math.pow(100000, -2 / 64), 12);
    const l3 = ropeInvFreq(parseHfConfig({ ...smollm2, rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } }));
    expect(l3[0]).toBe(base[0]); // high frequency: unchanged
    expect(l3[31]).toBeCloseTo(base[31] / 8, 12); // wavelength > 8192: divided by the factor
  });

  it("checkWeights names missing and misshapen tensors", () => {
    const c = parseHfConfig({ ...smollm2, hidden_size: 8, num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 16, num_hidden_layers: 1, vocab_size: 10 });
    const w: Weights = new Map(parameterSpecs(c).map((s) => [s.name, { shape: s.shape, data: new Float32Array(s.shape.reduce((a, b) => a * b, 1)) }]));
    expect(() => checkWeights(c, w)).not.toThrow();
    w.set("model.layers.0.mlp.up_proj.weight", { shape: [8, 16], data: new Float32Array(128) });
    expect(() => checkWeights(c, w)).toThrow(/"model.layers.0.mlp.up_proj.weight" has shape \[8, 16\], expected \[16, 8\]/);
    w.set("model.layers.0.mlp.up_proj.weight", { shape: [16, 8], data: new Float32Array(128) });
    w.delete("model.norm.weight");
    expect(() => checkWeights(c, w)).toThrow(/missing tensor "model.norm.weight"/);
  });
});

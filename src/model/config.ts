// The one policy architecture (Llama family) as a resolved record, read from a Hugging Face `config.json`.
// Supported: model_type llama, qwen2, mistral (no sliding window); RMSNorm, rotary positions with
// rope_theta and rope scaling "default" | "linear" | "llama3", SwiGLU (hidden_act silu), grouped-query
// attention, q/k/v bias (Qwen2) or q/k/v/o bias (Llama `attention_bias`), tied or untied embeddings.
// Anything else the architecture would need is refused by name; fields that do not change the function
// (torch_dtype, architectures, use_cache, …) are ignored.

/** Thrown for a config.json that asks for something this architecture does not implement. */
export class ModelConfigError extends Error {
  override name = "ModelConfigError";
}

export type RopeScaling =
  | { type: "default" }
  | { type: "linear"; factor: number }
  | { type: "llama3"; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface ArchConfig {
  modelType: "llama" | "qwen2" | "mistral";
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads; numHeads is a multiple of it (GQA). */
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  /** Bias on q_proj, k_proj, v_proj (Qwen2; Llama with attention_bias). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama with attention_bias). */
  oBias: boolean;
  /** lm_head shares model.embed_tokens.weight. */
  tieWordEmbeddings: boolean;
  maxPositionEmbeddings: number;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

const SUPPORTED_TYPES = ["llama", "qwen2", "mistral"] as const;

function posInt(raw: Record<string, unknown>, key: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new ModelConfigError(`config.json: "${key}" must be a positive integer, got ${JSON.stringify(raw[key])}`);
  }
  return v;
}

function posNum(raw: Record<string, unknown>, key: string, fallback: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new ModelConfigError(`config.json: "${key}" must be a positive number, got ${JSON.stringify(raw[key])}`);
  }
  return v;
}

function bool(raw: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = raw[key] ?? fallback;
  if (typeof v !== "boolean") throw new ModelConfigError(`config.json: "${key}" must be a boolean, got ${JSON.stringify(raw[key])}`);
  return v;
}

function tokenIds(raw: Record<string, unknown>, key: string): number[] {
  const v = raw[key];
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const id of list) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) {
      throw new ModelConfigError(`config.json: "${key}" must be a token id or a list of ids, got ${JSON.stringify(v)}`);
    }
  }
  return list as number[];
}

function ropeScaling(raw: Record<string, unknown>): RopeScaling {
  const rs = raw.rope_scaling;
  if (rs === undefined || rs === null) return { type: "default" };
  if (typeof rs !== "object") throw new ModelConfigError(`config.json: "rope_scaling" must be an object or null`);
  const r = rs as Record<string, unknown>;
  const kind = (r.rope_type ?? r.type ?? "default") as string;
  const factor = (): number => posNum(r, "factor", NaN);
  switch (kind) {
    case "default":
      return { type: "default" };
    case "linear":
      return { type: "linear", factor: factor() };
    case "llama3":
      return {
        type: "llama3",
        factor: factor(),
        lowFreqFactor: posNum(r, "low_freq_factor", 1),
        highFreqFactor: posNum(r, "high_freq_factor", 4),
        originalMaxPositions: posInt(r, "original_max_position_embeddings", 8192),
      };
    default:
      throw new ModelConfigError(`config.json: rope_scaling type "${kind}" is not implemented (supported: default, linear, llama3)`);
  }
}

/** Resolve a parsed Hugging Face config.json; throws ModelConfigError naming the unsupported field. */
export function parseHfConfig(json: unknown): ArchConfig {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new ModelConfigError("config.json: expected a JSON object");
  const raw = json as Record<string, unknown>;
  const modelType = raw.model_type;
  if (typeof modelType !== "string" || !(SUPPORTED_TYPES as readonly string[]).includes(modelType)) {
    throw new ModelConfigError(`config.json: model_type ${JSON.stringify(modelType)} is not supported (supported: ${SUPPORTED_TYPES.join(", ")})`);
  }
  const act = raw.hidden_act ?? "silu";
  if (act !== "silu") throw new ModelConfigError(`config.json: hidden_act "${String(act)}" is not implemented (supported: silu)`);
  if (modelType === "qwen2" && raw.use_sliding_window === true) {
    throw new ModelConfigError(`config.json: sliding-window attention (use_sliding_window: true) is not implemented`);
  }
  if (modelType === "mistral" && raw.sliding_window !== undefined && raw.sliding_window !== null) {
    throw new ModelConfigError(`config.json: sliding-window attention (sliding_window: ${JSON.stringify(raw.sliding_window)}) is not implemented`);
  }
  if (raw.mlp_bias === true) throw new ModelConfigError(`config.json: mlp_bias is not implemented`);
  if (raw.partial_rotary_factor !== undefined && raw.partial_rotary_factor !== 1) {
    throw new ModelConfigError(`config.json: partial_rotary_factor ${JSON.stringify(raw.partial_rotary_factor)} is not implemented (only 1)`);
  }
  const hiddenSize = posInt(raw, "hidden_size");
  const numHeads = posInt(raw, "num_attention_heads");
  const numKvHeads = posInt(raw, "num_key_value_heads", numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ModelConfigError(`config.json: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  }
  const headDim = raw.head_dim === undefined || raw.head_dim === null ? hiddenSize / numHeads : posInt(raw, "head_dim");
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new ModelConfigError(`config.json: head dimension ${headDim} must be an even integer (hidden_size / num_attention_heads or head_dim)`);
  }
  const attentionBias = modelType === "qwen2" ? true : bool(raw, "attention_bias", false);
  const cfg: ArchConfig = {
    modelType: modelType as ArchConfig["modelType"],
    vocabSize: posInt(raw, "vocab_size"),
    hiddenSize,
    intermediateSize: posInt(raw, "intermediate_size"),
    numLayers: posInt(raw, "num_hidden_layers"),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: posNum(raw, "rms_norm_eps", 1e-6),
    ropeTheta: posNum(raw, "rope_theta", 10000),
    ropeScaling: ropeScaling(raw),
    qkvBias: attentionBias,
    oBias: modelType === "qwen2" ? false : attentionBias,
    tieWordEmbeddings: bool(raw, "tie_word_embeddings", false),
    maxPositionEmbeddings: posInt(raw, "max_position_embeddings", 2048),
    bosTokenId: tokenIds(raw, "bos_token_id")[0] ?? null,
    eosTokenIds: tokenIds(raw, "eos_token_id"),
  };
  return cfg;
}

/** The config.json that `parseHfConfig` maps back to `cfg` (for checkpoints this project writes). */
export function toHfConfig(cfg: ArchConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    architectures: [cfg.modelType === "qwen2" ? "Qwen2ForCausalLM" : cfg.modelType === "mistral" ? "MistralForCausalLM" : "LlamaForCausalLM"],
    model_type: cfg.modelType,
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    num_key_value_heads: cfg.numKvHeads,
    head_dim: cfg.headDim,
    hidden_act: "silu",
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: null as unknown,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenIds.length === 1 ? cfg.eosTokenIds[0] : cfg.eosTokenIds,
    torch_dtype: "float32",
  };
  if (cfg.modelType === "qwen2") {
    if (!cfg.qkvBias || cfg.oBias) throw new ModelConfigError("qwen2 always has q/k/v bias and no o_proj bias");
    out.use_sliding_window = false;
  } else {
    if (cfg.qkvBias !== cfg.oBias) throw new ModelConfigError(`${cfg.modelType}: attention_bias sets q/k/v and o bias together`);
    out.attention_bias = cfg.qkvBias;
  }
  const rs = cfg.ropeScaling;
  if (rs.type === "linear") out.rope_scaling = { rope_type: "linear", factor: rs.factor };
  if (rs.type === "llama3") {
    out.rope_scaling = {
      rope_type: "llama3", factor: rs.factor, low_freq_factor: rs.lowFreqFactor,
      high_freq_factor: rs.highFreqFactor, original_max_position_embeddings: rs.originalMaxPositions,
    };
  }
  return out;
}

/** Rotary inverse frequencies [headDim/2], with the configured scaling (shared by both engines). */
export function ropeInvFreq(cfg: ArchConfig): Float64Array {
  const half = cfg.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(cfg.ropeTheta, (2 * i) / cfg.headDim);
  const rs = cfg.ropeScaling;
  if (rs.type === "linear") for (let i = 0; i < half; i++) inv[i] /= rs.factor;
  if (rs.type === "llama3") {
    const lowWavelen = rs.originalMaxPositions / rs.lowFreqFactor;
    const highWavelen = rs.originalMaxPositions / rs.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) inv[i] /= rs.factor;
      else if (wavelen >= highWavelen) {
        const smooth = (rs.originalMaxPositions / wavelen - rs.lowFreqFactor) / (rs.highFreqFactor - rs.lowFreqFactor);
        inv[i] = (1 - smooth) * (inv[i] / rs.factor) + smooth * inv[i];
      }
    }
  }
  return inv;
}

/**
 * Rotary tables for positions 0..n-1: cos and sin [n, headDim], each frequency repeated over both halves
 * (HF's rotate_half layout: x·cos + rotate_half(x)·sin, rotate_half(x) = [-x2, x1]).
 */
export function ropeTables(cfg: ArchConfig, n: number): { cos: Float32Array; sin: Float32Array } {
  const inv = ropeInvFreq(cfg);
  const d = cfg.headDim, half = d / 2;
  const cos = new Float32Array(n * d), sin = new Float32Array(n * d);
  for (let p = 0; p < n; p++) {
    for (let i = 0; i < half; i++) {
      // HF computes the angle in float32 (positions × inv_freq); float64 here differs by ≤ 1 ulp of the angle.
      const a = Math.fround(p * Math.fround(inv[i]));
      const c = Math.cos(a), s = Math.sin(a);
      cos[p * d + i] = c; cos[p * d + half + i] = c;
      sin[p * d + i] = s; sin[p * d + half + i] = s;
    }
  }
  return { cos, sin };
}

/** One parameter tensor: its Hugging Face name and shape (Linear weights are [out, in], as in PyTorch). */
export interface ParamSpec {
  name: string;
  shape: number[];
  /** What initialisation it gets: "norm" = ones, "bias" = zeros, "matrix" = N(0, initStd). */
  kind: "norm" | "bias" | "matrix";
}

/** Every parameter of the architecture, in a fixed order, with Hugging Face names. */
export function parameterSpecs(cfg: ArchConfig): ParamSpec[] {
  const { hiddenSize: D, intermediateSize: F, numHeads: H, numKvHeads: KV, headDim: dh, vocabSize: V } = cfg;
  const specs: ParamSpec[] = [{ name: "model.embed_tokens.weight", shape: [V, D], kind: "matrix" }];
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `model.layers.${l}.`;
    specs.push({ name: `${p}input_layernorm.weight`, shape: [D], kind: "norm" });
    specs.push({ name: `${p}self_attn.q_proj.weight`, shape: [H * dh, D], kind: "matrix" });
    specs.push({ name: `${p}self_attn.k_proj.weight`, shape: [KV * dh, D], kind: "matrix" });
    specs.push({ name: `${p}self_attn.v_proj.weight`, shape: [KV * dh, D], kind: "matrix" });
    if (cfg.qkvBias) {
      specs.push({ name: `${p}self_attn.q_proj.bias`, shape: [H * dh], kind: "bias" });
      specs.push({ name: `${p}self_attn.k_proj.bias`, shape: [KV * dh], kind: "bias" });
      specs.push({ name: `${p}self_attn.v_proj.bias`, shape: [KV * dh], kind: "bias" });
    }
    specs.push({ name: `${p}self_attn.o_proj.weight`, shape: [D, H * dh], kind: "matrix" });
    if (cfg.oBias) specs.push({ name: `${p}self_attn.o_proj.bias`, shape: [D], kind: "bias" });
    specs.push({ name: `${p}post_attention_layernorm.weight`, shape: [D], kind: "norm" });
    specs.push({ name: `${p}mlp.gate_proj.weight`, shape: [F, D], kind: "matrix" });
    specs.push({ name: `${p}mlp.up_proj.weight`, shape: [F, D], kind: "matrix" });
    specs.push({ name: `${p}mlp.down_proj.weight`, shape: [D, F], kind: "matrix" });
  }
  specs.push({ name: "model.norm.weight", shape: [D], kind: "norm" });
  if (!cfg.tieWordEmbeddings) specs.push({ name: "lm_head.weight", shape: [V, D], kind: "matrix" });
  return specs;
}

/** A tensor of weights in Hugging Face layout, float32 (the format engines exchange). */
export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

/** Named weights, Hugging Face names and layout. */
export type Weights = Map<string, WeightTensor>;

/**
 * Check that `weights` holds exactly the parameters of `cfg` with the right shapes; throws naming the
 * first missing, extra or misshapen tensor. A tied model may carry a redundant lm_head.weight: it is ignored.
 */
export function checkWeights(cfg: ArchConfig, weights: Weights): void {
  const specs = parameterSpecs(cfg);
  const known = new Set(specs.map((s) => s.name));
  for (const s of specs) {
    const w = weights.get(s.name);
    if (!w) throw new ModelConfigError(`weights: missing tensor "${s.name}" (expected shape [${s.shape.join(", ")}])`);
    if (w.shape.length !== s.shape.length || w.shape.some((d, i) => d !== s.shape[i])) {
      throw new ModelConfigError(`weights: tensor "${s.name}" has shape [${w.shape.join(", ")}], expected [${s.shape.join(", ")}]`);
    }
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (w.data.length !== n) throw new ModelConfigError(`weights: tensor "${s.name}" holds ${w.data.length} values, shape [${s.shape.join(", ")}] needs ${n}`);
  }
  for (const name of weights.keys()) {
    if (!known.has(name) && !(cfg.tieWordEmbeddings && name === "lm_head.weight") && !name.endsWith("rotary_emb.inv_freq")) {
      throw new ModelConfigError(`weights: unexpected tensor "${name}" for this config`);
    }
  }
}

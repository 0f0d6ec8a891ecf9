// Deliberately naive float64 Llama reference, written from the Hugging Face modeling code's semantics
// (LlamaRMSNorm, rotate_half RoPE, repeat_kv GQA, SwiGLU, causal softmax attention), loops only.
// Weights in HF names and layout ([out, in] Linear weights).
import { parameterSpecs, ropeInvFreq, parseHfConfig, type ArchConfig, type Weights } from "../../src/model/config.js";

type Vec = Float64Array;

function linear(x: Vec, w: Float32Array, out: number, inn: number, b?: Float32Array): Vec {
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b ? b[o] : 0;
    for (let i = 0; i < inn; i++) s += w[o * inn + i] * x[i];
    y[o] = s;
  }
  return y;
}

function rmsNorm(x: Vec, g: Float32Array, eps: number): Vec {
  let ms = 0;
  for (const v of x) ms += v * v;
  const r = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * r * g[i]);
}

function rope(x: Vec, heads: number, dh: number, pos: number, inv: Float64Array): Vec {
  const y = new Float64Array(x.length), half = dh / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const a = pos * inv[i], c = Math.cos(a), s = Math.sin(a);
      const x1 = x[h * dh + i], x2 = x[h * dh + half + i];
      y[h * dh + i] = x1 * c - x2 * s;
      y[h * dh + half + i] = x2 * c + x1 * s;
    }
  }
  return y;
}

/** Logits [S][V] of one sequence; positions[t] defaults to t. */
export function naiveLogits(cfg: ArchConfig, w: Weights, ids: ArrayLike<number>): Vec[] {
  const { hiddenSize: D, intermediateSize: F, numHeads: H, numKvHeads: KV, headDim: dh, vocabSize: V } = cfg;
  const g = (n: string) => w.get(n)!.data;
  const inv = ropeInvFreq(cfg);
  const S = ids.length, rep = H / KV;
  let xs: Vec[] = [];
  for (let t = 0; t < S; t++) xs.push(Float64Array.from(g("model.embed_tokens.weight").subarray(ids[t] * D, ids[t] * D + D)));
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const b = (n: string) => (cfg.qkvBias ? g(`${p}self_attn.${n}.bias`) : undefined);
    const hs = xs.map((x) => rmsNorm(x, g(`${p}input_layernorm.weight`), cfg.rmsNormEps));
    const qs = hs.map((h, t) => rope(linear(h, g(`${p}self_attn.q_proj.weight`), H * dh, D, b("q_proj")), H, dh, t, inv));
    const ks = hs.map((h, t) => rope(linear(h, g(`${p}self_attn.k_proj.weight`), KV * dh, D, b("k_proj")), KV, dh, t, inv));
    const vs = hs.map((h) => linear(h, g(`${p}self_attn.v_proj.weight`), KV * dh, D, b("v_proj")));
    xs = xs.map((x, t) => {
      const ctx = new Float64Array(H * dh);
      for (let h = 0; h < H; h++) {
        const kh = Math.floor(h / rep);
        const sc: number[] = [];
        for (let u = 0; u <= t; u++) {
          let s = 0;
          for (let i = 0; i < dh; i++) s += qs[t][h * dh + i] * ks[u][kh * dh + i];
          sc.push(s / Math.sqrt(dh));
        }
        const mx = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, c) => a + c, 0);
        for (let u = 0; u <= t; u++) for (let i = 0; i < dh; i++) ctx[h * dh + i] += (e[u] / z) * vs[u][kh * dh + i];
      }
      const o = linear(ctx, g(`${p}self_attn.o_proj.weight`), D, H * dh, cfg.oBias ? g(`${p}self_attn.o_proj.bias`) : undefined);
      const x1 = x.map((v, i) => v + o[i]);
      const h2 = rmsNorm(x1, g(`${p}post_attention_layernorm.weight`), cfg.rmsNormEps);
      const gate = linear(h2, g(`${p}mlp.gate_proj.weight`), F, D), up = linear(h2, g(`${p}mlp.up_proj.weight`), F, D);
      const act = gate.map((a, i) => (a / (1 + Math.exp(-a))) * up[i]);
      const down = linear(act, g(`${p}mlp.down_proj.weight`), D, F);
      return x1.map((v, i) => v + down[i]);
    });
  }
  const head = cfg.tieWordEmbeddings ? g("model.embed_tokens.weight") : g("lm_head.weight");
  return xs.map((x) => linear(rmsNorm(x, g("model.norm.weight"), cfg.rmsNormEps), head, V, D));
}

/** Per-token logp and entropy [B*T] (slot 0 = 0) with logits / temperature, float64. */
export function naiveScore(cfg: ArchConfig, w: Weights, tokens: Int32Array, B: number, T: number, temperature = 1): { logp: Float64Array; entropy: Float64Array } {
  const logp = new Float64Array(B * T), entropy = new Float64Array(B * T);
  for (let b = 0; b < B; b++) {
    const row = tokens.subarray(b * T, b * T + T);
    const lg = naiveLogits(cfg, w, row.subarray(0, T - 1));
    for (let t = 1; t < T; t++) {
      const z = Array.from(lg[t - 1], (v) => v / temperature);
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0));
      logp[b * T + t] = z[row[t]] - lse;
      entropy[b * T + t] = -z.reduce((a, v) => a + Math.exp(v - lse) * (v - lse), 0);
    }
  }
  return { logp, entropy };
}

export function naiveSurrogate(cfg: ArchConfig, w: Weights, tokens: Int32Array, B: number, T: number, cw: Float32Array, cv: Float32Array, temperature = 1): number {
  const { logp, entropy } = naiveScore(cfg, w, tokens, B, T, temperature);
  let s = 0;
  for (let b = 0; b < B; b++) for (let t = 1; t < T; t++) s += cw[b * T + t] * logp[b * T + t] + cv[b * T + t] * entropy[b * T + t];
  return s;
}

// --- tiny configs and random data ------------------------------------------------------------------------

export function tinyConfig(over: Record<string, unknown> = {}): ArchConfig {
  return parseHfConfig({
    model_type: "llama", vocab_size: 48, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 4, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false,
    max_position_embeddings: 64, ...over,
  });
}

/** The configs every parity test runs: MHA untied, GQA tied, Qwen2-style bias + GQA, Llama bias. */
export const TINY_VARIANTS: Array<[string, Record<string, unknown>]> = [
  ["llama MHA untied", {}],
  ["llama GQA 4/2 tied", { num_key_value_heads: 2, tie_word_embeddings: true }],
  ["qwen2 bias GQA 4/1", { model_type: "qwen2", num_key_value_heads: 1, rope_theta: 1e6 }],
  ["llama attention_bias GQA, head_dim 16", { attention_bias: true, num_key_value_heads: 2, head_dim: 16, vocab_size: 64 }],
];

export function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Weights with enough spread that logits are far from uniform; biases and norms non-trivial. */
export function randomWeights(cfg: ArchConfig, seed: number, scale = 0.25): Weights {
  const r = mulberry(seed);
  const out: Weights = new Map();
  for (const s of parameterSpecs(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = (r() + r() + r() - 1.5) * 2; // roughly N(0, 1)
      d[i] = s.kind === "norm" ? 1 + 0.2 * u : s.kind === "bias" ? 0.2 * u : scale * u;
    }
    out.set(s.name, { shape: [...s.shape], data: d });
  }
  return out;
}

export function randomTokens(B: number, T: number, V: number, seed: number): Int32Array {
  const r = mulberry(seed);
  return Int32Array.from({ length: B * T }, () => Math.floor(r() * V));
}

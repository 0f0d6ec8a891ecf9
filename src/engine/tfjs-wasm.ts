// The training engine on @tensorflow/tfjs-backend-wasm: the only module that imports tfjs.
// Loading (notes/wasm-stack-probe.md §1): chained ops and gradients register only under esbuild with
// mainFields module-first, or under vitest. Two wasm gaps are handled here:
// - `UnsortedSegmentSum` (the gradient of gather, i.e. of the embedding) is registered as a JS kernel;
// - matMul gradients use transpose flags, which miss XNNPACK's fast path: `mm` transposes explicitly.
// The step descends the surrogate Σ_t (w_t·logπ_t + v_t·H_t) (TAO-RL.md §5) with AdamW as torch defines
// it (decoupled decay p ← p·(1 - lr·wd), bias-corrected moments) after global-norm clipping
// (scale = min(1, clip / (‖g‖ + 1e-6)), as torch.nn.utils.clip_grad_norm_).
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { checkWeights, parameterSpecs, ropeTables, type ArchConfig, type ParamSpec, type Weights } from "../model/config.js";
import type { OptimOptions } from "../config.js";
import {
  checkCoefficient, checkTokenBatch, EngineInputError, initWeights,
  type EngineInfo, type Generation, type SamplingOptions, type StopOptions, type ScoreOptions, type ScoreResult, type StepCoefficients, type StepOptions, type StepResult,
  type TokenBatch, type TrainableEngine,
} from "./engine.js";
import { EMBED, toEngineLayout, toHfLayout } from "./layout.js";
import { decodeLoop } from "./decode.js";

/** Additive causal-mask value; exp(-1e9 - max) is exactly 0 in float32 (the ONNX graphs use the same). */
export const MASK_VALUE = -1e9;

let ready: Promise<void> | null = null;

/** Select the wasm backend once per process; `wasmPaths` is the folder of the .wasm files (default: the package's). */
export function initTfjsWasm(opts: { wasmPaths?: string } = {}): Promise<void> {
  ready ??= (async () => {
    let prefix = opts.wasmPaths;
    if (!prefix && typeof process !== "undefined" && process.versions?.node) {
      const { createRequire } = await import("node:module");
      const main = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm");
      prefix = main.slice(0, main.lastIndexOf("/dist/") + 6);
    }
    if (prefix) setWasmPaths(prefix);
    registerSegmentSum();
    registerSlicedBatchMatMul();
    if (!(await tf.setBackend("wasm"))) throw new Error("tfjs: the wasm backend failed to initialise");
    await tf.ready();
  })();
  return ready;
}

/** The gradient of gather on wasm: out[ids[i]] += x[i] (a JS kernel; wasm does not ship one). */
function registerSegmentSum(): void {
  if (tf.getKernel("UnsortedSegmentSum", "wasm")) return;
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = attrs!.numSegments as number;
      const be = backend as unknown as {
        readSync(id: unknown): ArrayLike<number>;
        makeOutput(shape: number[], dtype: tf.DataType, offset?: number, values?: Float32Array): tf.TensorInfo;
      };
      const xv = be.readSync(x.dataId), ids = be.readSync(segmentIds.dataId);
      const inner = ids.length === 0 ? 0 : xv.length / ids.length;
      const out = new Float32Array(numSegments * inner);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue;
        for (let j = 0, o = s * inner, p = i * inner; j < inner; j++) out[o + j] += xv[p + j];
      }
      return be.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype, undefined, out);
    },
  });
}

/** The wasm backend's internals that the sliced BatchMatMul uses (tfjs-backend-wasm 4.x). */
interface WasmBackendInternals {
  wasm: {
    cwrap(name: string, ret: null, args: string[]): (...a: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
  };
  dataIdMap: { get(dataId: unknown): { memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/**
 * BatchMatMul on wasm without transpose flags, as one rank-2 product per batch slice: the shipped kernel
 * takes XNNPACK only for a single slice and a plain loop otherwise (~3 vs ~16 GFLOP/s at attention sizes).
 * Each slice is a temporary tensor id over the operands' own wasm memory (no copies). Everything else
 * (transposes, broadcasting, one slice) goes to the shipped kernel.
 */
/** Multiply-adds per slice below which the shipped loop is faster than a call per slice (measured: ~2.5k vs ~500k). */
const SLICE_MIN_MACS = 32_768;

function registerSlicedBatchMatMul(): void {
  const shipped = tf.getKernel("BatchMatMul", "wasm");
  if (!shipped || (shipped as { taorlSliced?: boolean }).taorlSliced) return;
  let call: ((...a: unknown[]) => void) | null = null;
  const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    kernelName: "BatchMatMul",
    backendName: "wasm",
    setupFunc: shipped.setupFunc,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const batch = (t: tf.TensorInfo) => t.shape.slice(0, -2).reduce((x, y) => x * y, 1);
      const n = batch(a);
      const [M, K] = a.shape.slice(-2), N = b.shape[b.shape.length - 1];
      // Small slices (decode: one query row per head) cost more in per-call overhead than the loop does.
      if (transposeA || transposeB || n < 2 || M * K * N < SLICE_MIN_MACS || batch(b) !== n || a.shape.length !== b.shape.length || a.dtype !== "float32" || b.dtype !== "float32") {
        return shipped.kernelFunc(args) as tf.TensorInfo;
      }
      const be = args.backend as unknown as WasmBackendInternals;
      call ??= be.wasm.cwrap("BatchMatMul", null, ["number", "array", "number", "number", "array", "number", "number", "number", "number"]);
      const out = be.makeOutput([...a.shape.slice(0, -2), M, N], "float32");
      const [oa, ob, oo] = [a, b, out].map((t) => be.dataIdMap.get(t.dataId).memoryOffset);
      const sa = shapeBytes([1, M, K]), sb = shapeBytes([1, K, N]);
      const { registerTensor, disposeData } = be.wasm.tfjs;
      for (let i = 0; i < n; i++) {
        const ia = be.dataIdNextNumber++, ib = be.dataIdNextNumber++, io = be.dataIdNextNumber++;
        registerTensor(ia, M * K, oa + 4 * i * M * K);
        registerTensor(ib, K * N, ob + 4 * i * K * N);
        registerTensor(io, M * N, oo + 4 * i * M * N);
        call(ia, sa, 3, ib, sb, 3, 0, 0, io);
        disposeData(ia); disposeData(ib); disposeData(io);
      }
      return out;
    },
  });
  (tf.getKernel("BatchMatMul", "wasm") as { taorlSliced?: boolean }).taorlSliced = true;
}

/** a [n,M,K] · b [n,K,N] whose gradients are transpose-free (sliced) batched matMuls. */
const bmm = tf.customGrad(((a: tf.Tensor3D, b: tf.Tensor3D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
      return [tf.matMul(dy as tf.Tensor3D, tf.transpose(sb, [0, 2, 1])), tf.matMul(tf.transpose(sa, [0, 2, 1]), dy as tf.Tensor3D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/** x [M,K] · w [K,N] whose gradients are transpose-free matMuls (wasm's fast path). */
const mm = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as tf.Tensor2D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

export interface TfjsEngineOptions {
  /** Seed of the initial weights when `weights` is not given. */
  seed?: number;
  weights?: Weights;
  /** Std of the seeded normal init of matrices (HF's initializer_range). Default 0.02. */
  initStd?: number;
  optim?: Partial<Pick<OptimOptions, "lr" | "adam_beta1" | "adam_beta2" | "adam_eps" | "weight_decay" | "grad_clip">>;
  wasmPaths?: string;
}

let instances = 0;

export class TfjsWasmEngine implements TrainableEngine {
  readonly config: ArchConfig;
  private readonly specs: ParamSpec[];
  private readonly vars = new Map<string, tf.Variable>();
  private readonly m = new Map<string, tf.Tensor>();
  private readonly v = new Map<string, tf.Tensor>();
  private steps = 0;
  private readonly optim: Required<NonNullable<TfjsEngineOptions["optim"]>>;
  private rope: { cos: tf.Tensor2D; sin: tf.Tensor2D; n: number } | null = null;
  private readonly masks = new Map<string, tf.Tensor2D>();

  private constructor(config: ArchConfig, weights: Weights, optim: TfjsEngineOptions["optim"]) {
    this.config = config;
    this.specs = parameterSpecs(config);
    this.optim = { lr: 1e-3, adam_beta1: 0.9, adam_beta2: 0.99, adam_eps: 1e-8, weight_decay: 0.01, grad_clip: 1, ...optim };
    const id = instances++;
    for (const s of this.specs) {
      const w = toEngineLayout(s.name, weights.get(s.name)!);
      this.vars.set(s.name, tf.variable(tf.tensor(w.data, w.shape, "float32"), true, `taorl${id}/${s.name}`));
    }
  }

  static async create(config: ArchConfig, opts: TfjsEngineOptions = {}): Promise<TfjsWasmEngine> {
    await initTfjsWasm({ wasmPaths: opts.wasmPaths });
    const weights = opts.weights ?? initWeights(config, opts.seed ?? 0, opts.initStd);
    checkWeights(config, weights);
    return new TfjsWasmEngine(config, weights, opts.optim);
  }

  info(): EngineInfo {
    const parameters = this.specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
    return { name: "tfjs-wasm", config: this.config, parameters, trainable: true };
  }

  /** Rotary tables for the first n positions, [n, headDim]. */
  private ropeFor(n: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
    if (!this.rope || this.rope.n < n) {
      this.rope?.cos.dispose(); this.rope?.sin.dispose();
      const cap = Math.max(n, 64);
      const t = ropeTables(this.config, cap);
      const d = this.config.headDim;
      this.rope = { cos: tf.keep(tf.tensor2d(t.cos, [cap, d])), sin: tf.keep(tf.tensor2d(t.sin, [cap, d])), n: cap };
    }
    return { cos: this.rope.cos.slice([0, 0], [n, -1]), sin: this.rope.sin.slice([0, 0], [n, -1]) };
  }

  /** Additive causal mask for grouped queries: [rep*S, S], row r is query position r % S. */
  private maskFor(rep: number, S: number): tf.Tensor2D {
    const key = `${rep}x${S}`;
    let m = this.masks.get(key);
    if (!m) {
      const data = new Float32Array(rep * S * S);
      for (let r = 0; r < rep * S; r++) for (let k = 0; k < S; k++) if (k > r % S) data[r * S + k] = MASK_VALUE;
      m = tf.keep(tf.tensor2d(data, [rep * S, S]));
      this.masks.set(key, m);
    }
    return m;
  }

  private p(name: string): tf.Tensor {
    const v = this.vars.get(name);
    if (!v) throw new EngineInputError(`tfjs-wasm: no parameter "${name}"`);
    return v;
  }

  private rmsNorm(x: tf.Tensor2D, g: tf.Tensor): tf.Tensor2D {
    return x.mul(x.square().mean(-1, true).add(this.config.rmsNormEps).rsqrt()).mul(g);
  }

  private linear(x: tf.Tensor2D, prefix: string, bias: boolean): tf.Tensor2D {
    const y = mm(x, this.p(`${prefix}.weight`) as tf.Tensor2D);
    return bias ? y.add(this.p(`${prefix}.bias`)) : y;
  }

  /** x [B,h,S,dh] rotated: x·cos + rotate_half(x)·sin. */
  private applyRope(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor4D {
    const half = this.config.headDim / 2;
    const x1 = x.slice([0, 0, 0, 0], [-1, -1, -1, half]);
    const x2 = x.slice([0, 0, 0, half], [-1, -1, -1, half]);
    return x.mul(cos).add(tf.concat([x2.neg(), x1], 3).mul(sin));
  }

  /**
   * The decoder layers over x [B*S, D]. cos/sin broadcast against [B,h,S,dh]; mask against the scores
   * [B,KV,rep*S,P+S] (grouped query row r is position r % S). With `past`, each layer's keys/values
   * [B,KV,P,dh] come first and `present` receives the extended ones. Call inside tidy.
   */
  private layers(x: tf.Tensor2D, B: number, S: number, cos: tf.Tensor, sin: tf.Tensor, mask: tf.Tensor,
    past?: Array<{ k: tf.Tensor4D; v: tf.Tensor4D }>, present?: Array<{ k: tf.Tensor4D; v: tf.Tensor4D }>): tf.Tensor2D {
    const c = this.config;
    const N = B * S, H = c.numHeads, KV = c.numKvHeads, dh = c.headDim, rep = H / KV;
    const scale = 1 / Math.sqrt(dh);
    for (let l = 0; l < c.numLayers; l++) {
      const pre = `model.layers.${l}.`;
      const h = this.rmsNorm(x, this.p(`${pre}input_layernorm.weight`));
      const q = this.linear(h, `${pre}self_attn.q_proj`, c.qkvBias).reshape([B, S, H, dh]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
      const k = this.linear(h, `${pre}self_attn.k_proj`, c.qkvBias).reshape([B, S, KV, dh]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
      let v = this.linear(h, `${pre}self_attn.v_proj`, c.qkvBias).reshape([B, S, KV, dh]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
      // Grouped queries share a key/value head: q [B,H,S,dh] → [B,KV,rep*S,dh], no key/value copies.
      const qg = this.applyRope(q, cos, sin).reshape([B, KV, rep * S, dh]);
      let kr = this.applyRope(k, cos, sin);
      if (past?.[l]) { kr = tf.concat([past[l].k, kr], 2); v = tf.concat([past[l].v, v], 2); }
      present?.push({ k: kr, v });
      const total = kr.shape[2];
      const kt = kr.reshape([B * KV, total, dh]).transpose([0, 2, 1]) as tf.Tensor3D;
      const att = tf.softmax(bmm(qg.reshape([B * KV, rep * S, dh]), kt).reshape([B, KV, rep * S, total]).mul(scale).add(mask));
      const ctx = bmm(att.reshape([B * KV, rep * S, total]) as tf.Tensor3D, v.reshape([B * KV, total, dh]))
        .reshape([B, H, S, dh]).transpose([0, 2, 1, 3]).reshape([N, H * dh]) as tf.Tensor2D;
      x = x.add(this.linear(ctx, `${pre}self_attn.o_proj`, c.oBias));
      const h2 = this.rmsNorm(x, this.p(`${pre}post_attention_layernorm.weight`));
      const gate = mm(h2, this.p(`${pre}mlp.gate_proj.weight`) as tf.Tensor2D);
      const up = mm(h2, this.p(`${pre}mlp.up_proj.weight`) as tf.Tensor2D);
      x = x.add(mm(gate.mul(gate.sigmoid()).mul(up), this.p(`${pre}mlp.down_proj.weight`) as tf.Tensor2D));
    }
    return x;
  }

  /** Final norm and head: logits [rows, V]. Call inside tidy. */
  private head(x: tf.Tensor2D): tf.Tensor2D {
    const hf = this.rmsNorm(x, this.p("model.norm.weight"));
    const head = this.config.tieWordEmbeddings ? tf.transpose(this.p(EMBED)) : this.p("lm_head.weight");
    return mm(hf, head as tf.Tensor2D);
  }

  /** Logits [B*S, V] of ids [B, S] (positions 0..S-1). Call inside tidy. */
  logits(ids: tf.Tensor2D): tf.Tensor2D {
    const [B, S] = ids.shape;
    const { cos, sin } = this.ropeFor(S);
    const x = tf.gather(this.p(EMBED), ids.reshape([B * S])) as tf.Tensor2D;
    return this.head(this.layers(x, B, S, cos, sin, this.maskFor(this.config.numHeads / this.config.numKvHeads, S)));
  }

  /**
   * Batched generation with a KV cache (decode.ts: left padding, seeded sampling, stop conditions): the
   * tfjs peer of OrtWebEngine.generate, same tokens for the same seed up to float rounding.
   */
  async generate(prompts: Int32Array[], sampling: SamplingOptions, stop: StopOptions = {}): Promise<Generation[]> {
    const c = this.config;
    const rep = c.numHeads / c.numKvHeads, dh = c.headDim, V = c.vocabSize;
    let cache: Array<{ k: tf.Tensor4D; v: tf.Tensor4D }> | undefined;
    try {
      return await decodeLoop(prompts, sampling, stop, V, c.maxPositionEmbeddings, (temperature) => async (ids, positions, keyMask, B, S, total) => {
        const P = total - S;
        const causal = new Float32Array(rep * S * total);
        for (let r = 0; r < rep * S; r++) for (let k = P + (r % S) + 1; k < total; k++) causal[r * total + k] = MASK_VALUE;
        const present: Array<{ k: tf.Tensor4D; v: tf.Tensor4D }> = [];
        const [lp, ent] = tf.tidy(() => {
          const rope = this.ropeFor(total);
          const posT = tf.tensor1d(positions, "int32");
          const cos = tf.gather(rope.cos, posT).reshape([B, 1, S, dh]), sin = tf.gather(rope.sin, posT).reshape([B, 1, S, dh]);
          const mask = tf.tensor2d(causal, [rep * S, total]).add(tf.tensor2d(keyMask, [B, total]).reshape([B, 1, 1, total]));
          const x = this.layers(tf.gather(this.p(EMBED), tf.tensor1d(ids, "int32")) as tf.Tensor2D, B, S, cos, sin, mask, cache, present);
          const last = x.reshape([B, S, c.hiddenSize]).slice([0, S - 1, 0], [-1, 1, -1]).reshape([B, c.hiddenSize]) as tf.Tensor2D;
          const z = this.head(last);
          const logprobs = tf.logSoftmax(temperature === 1 ? z : z.div(temperature));
          for (const kv of present) { tf.keep(kv.k); tf.keep(kv.v); }
          return [logprobs, logprobs.exp().mul(logprobs).sum(-1).neg()];
        });
        for (const kv of cache ?? []) { kv.k.dispose(); kv.v.dispose(); }
        cache = present;
        const [lv, ev] = [(await lp.data()) as Float32Array, (await ent.data()) as Float32Array];
        lp.dispose(); ent.dispose();
        return { logprobs: lv, entropy: ev };
      });
    } finally {
      for (const kv of cache ?? []) { kv.k.dispose(); kv.v.dispose(); }
    }
  }

  /** Logits of every position [B, T, V] (for parity checks and tests). */
  async forwardLogits(batch: TokenBatch): Promise<Float32Array> {
    checkTokenBatch(batch, this.config.vocabSize);
    const out = tf.tidy(() => this.logits(tf.tensor2d(batch.tokens, [batch.B, batch.T], "int32")));
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  }

  /** logp and entropy [B, T-1] of tokens[:, 1:] given tokens[:, :-1]. Call inside tidy. */
  private perToken(tokens: Int32Array, B: number, T: number, temperature: number): { logp: tf.Tensor2D; entropy: tf.Tensor2D } {
    const S = T - 1;
    const inp = new Int32Array(B * S), tgt = new Int32Array(B * S);
    for (let b = 0; b < B; b++) {
      inp.set(tokens.subarray(b * T, b * T + S), b * S);
      tgt.set(tokens.subarray(b * T + 1, b * T + T), b * S);
    }
    const z = this.logits(tf.tensor2d(inp, [B, S], "int32"));
    const lp = tf.logSoftmax(temperature === 1 ? z : z.div(temperature));
    const logp = lp.mul(tf.oneHot(tf.tensor1d(tgt, "int32"), this.config.vocabSize)).sum(-1).reshape([B, S]) as tf.Tensor2D;
    const entropy = lp.exp().mul(lp).sum(-1).neg().reshape([B, S]) as tf.Tensor2D;
    return { logp, entropy };
  }

  async score(batch: TokenBatch, opts: ScoreOptions = {}): Promise<ScoreResult> {
    checkTokenBatch(batch, this.config.vocabSize);
    const { B, T } = batch;
    const temperature = opts.temperature ?? 1;
    if (!(temperature > 0)) throw new EngineInputError(`temperature: must be > 0, got ${temperature}`);
    const logp = new Float32Array(B * T), entropy = new Float32Array(B * T);
    if (T < 2) return { logp, entropy };
    const [lt, et] = tf.tidy(() => {
      const r = this.perToken(batch.tokens, B, T, temperature);
      return [r.logp, r.entropy];
    });
    const [lv, ev] = [(await lt.data()) as Float32Array, (await et.data()) as Float32Array];
    lt.dispose(); et.dispose();
    for (let b = 0; b < B; b++) {
      logp.set(lv.subarray(b * (T - 1), (b + 1) * (T - 1)), b * T + 1);
      entropy.set(ev.subarray(b * (T - 1), (b + 1) * (T - 1)), b * T + 1);
    }
    return { logp, entropy };
  }

  /** Gradient of the surrogate over all rows (micro-batched), summed; values in engine layout. */
  private gradients(batch: TokenBatch, coef: StepCoefficients, temperature: number, micro: number): { surrogate: number; grads: Map<string, tf.Tensor> } {
    const { B, T, tokens } = batch;
    const S = T - 1;
    const varList = this.specs.map((s) => this.vars.get(s.name)!);
    const acc = new Map<string, tf.Tensor>();
    let surrogate = 0;
    for (let r0 = 0; r0 < B; r0 += micro) {
      const r1 = Math.min(B, r0 + micro), nb = r1 - r0;
      const w = new Float32Array(nb * S), v = new Float32Array(nb * S);
      for (let b = 0; b < nb; b++) {
        w.set(coef.w.subarray((r0 + b) * T + 1, (r0 + b + 1) * T), b * S);
        v.set(coef.v.subarray((r0 + b) * T + 1, (r0 + b + 1) * T), b * S);
      }
      const { value, grads } = tf.variableGrads(() => {
        const { logp, entropy } = this.perToken(tokens.subarray(r0 * T, r1 * T), nb, T, temperature);
        return logp.mul(tf.tensor2d(w, [nb, S])).add(entropy.mul(tf.tensor2d(v, [nb, S]))).sum() as tf.Scalar;
      }, varList);
      surrogate += value.dataSync()[0];
      value.dispose();
      for (const s of this.specs) {
        const g = grads[this.vars.get(s.name)!.name];
        const prev = acc.get(s.name);
        if (prev) { acc.set(s.name, prev.add(g)); prev.dispose(); g.dispose(); } else acc.set(s.name, g);
      }
    }
    return { surrogate, grads: acc };
  }

  async step(batch: TokenBatch, coefficients: StepCoefficients, opts: StepOptions = {}): Promise<StepResult> {
    const t0 = performance.now();
    checkTokenBatch(batch, this.config.vocabSize);
    const { B, T } = batch;
    checkCoefficient("coefficients.w", coefficients.w, B, T);
    checkCoefficient("coefficients.v", coefficients.v, B, T);
    if (T < 2) throw new EngineInputError(`tokens [${B}, ${T}]: a step needs T ≥ 2 (slot 0 has no prediction)`);
    const micro = Math.max(1, Math.min(B, opts.microBatch ?? B));
    const { surrogate, grads } = this.gradients(batch, coefficients, opts.temperature ?? 1, micro);
    const norm2 = tf.tidy(() => tf.addN([...grads.values()].map((g) => g.square().sum())));
    const gradNorm = Math.sqrt(norm2.dataSync()[0]);
    norm2.dispose();
    const t1 = performance.now();
    const o = this.optim;
    const clipScale = Math.min(1, o.grad_clip / (gradNorm + 1e-6));
    this.steps++;
    const bc1 = 1 - Math.pow(o.adam_beta1, this.steps), bc2 = 1 - Math.pow(o.adam_beta2, this.steps);
    for (const s of this.specs) {
      const p = this.vars.get(s.name)!;
      const g0 = grads.get(s.name)!;
      const m0 = this.m.get(s.name), v0 = this.v.get(s.name);
      const [m1, v1] = tf.tidy(() => {
        const g = clipScale === 1 ? g0 : g0.mul(clipScale);
        const m = (m0 ? m0.mul(o.adam_beta1) : tf.zerosLike(g)).add(g.mul(1 - o.adam_beta1));
        const v = (v0 ? v0.mul(o.adam_beta2) : tf.zerosLike(g)).add(g.square().mul(1 - o.adam_beta2));
        const denom = v.sqrt().div(Math.sqrt(bc2)).add(o.adam_eps);
        p.assign(p.mul(1 - o.lr * o.weight_decay).sub(m.div(denom).mul(o.lr / bc1)));
        return [m, v];
      });
      m0?.dispose(); v0?.dispose(); g0.dispose();
      this.m.set(s.name, m1); this.v.set(s.name, v1);
    }
    const t2 = performance.now();
    return { surrogate, gradNorm, clipScale, step: this.steps, timings: { forwardBackwardMs: t1 - t0, optimizerMs: t2 - t1, totalMs: t2 - t0 } };
  }

  /** Gradient of the surrogate in HF names and layout, without updating (for gradient checks). */
  async surrogateGradient(batch: TokenBatch, coefficients: StepCoefficients, opts: StepOptions = {}): Promise<{ surrogate: number; grads: Weights }> {
    checkTokenBatch(batch, this.config.vocabSize);
    checkCoefficient("coefficients.w", coefficients.w, batch.B, batch.T);
    checkCoefficient("coefficients.v", coefficients.v, batch.B, batch.T);
    const { surrogate, grads } = this.gradients(batch, coefficients, opts.temperature ?? 1, Math.max(1, opts.microBatch ?? batch.B));
    const out: Weights = new Map();
    for (const s of this.specs) {
      const g = grads.get(s.name)!;
      out.set(s.name, toHfLayout(s.name, s.shape, g.dataSync() as Float32Array));
      g.dispose();
    }
    return { surrogate, grads: out };
  }

  async weights(): Promise<Weights> {
    const out: Weights = new Map();
    for (const s of this.specs) out.set(s.name, toHfLayout(s.name, s.shape, (await this.vars.get(s.name)!.data()) as Float32Array));
    return out;
  }

  async setWeights(weights: Weights): Promise<void> {
    checkWeights(this.config, weights);
    for (const s of this.specs) {
      const w = toEngineLayout(s.name, weights.get(s.name)!);
      tf.tidy(() => this.vars.get(s.name)!.assign(tf.tensor(w.data, w.shape, "float32")));
    }
  }

  /** Optimizer state in HF layout: first and second moments per parameter, and the step count. */
  async optimizerState(): Promise<{ step: number; m: Weights; v: Weights }> {
    const m: Weights = new Map(), v: Weights = new Map();
    for (const s of this.specs) {
      const mt = this.m.get(s.name), vt = this.v.get(s.name);
      const n = s.shape.reduce((a, b) => a * b, 1);
      m.set(s.name, toHfLayout(s.name, s.shape, mt ? ((await mt.data()) as Float32Array) : new Float32Array(n)));
      v.set(s.name, toHfLayout(s.name, s.shape, vt ? ((await vt.data()) as Float32Array) : new Float32Array(n)));
    }
    return { step: this.steps, m, v };
  }

  async setOptimizerState(state: { step: number; m: Weights; v: Weights }): Promise<void> {
    if (!Number.isInteger(state.step) || state.step < 0) throw new EngineInputError(`optimizer step: expected a non-negative integer, got ${state.step}`);
    checkWeights(this.config, state.m);
    checkWeights(this.config, state.v);
    for (const s of this.specs) {
      this.m.get(s.name)?.dispose(); this.v.get(s.name)?.dispose();
      const m = toEngineLayout(s.name, state.m.get(s.name)!), v = toEngineLayout(s.name, state.v.get(s.name)!);
      this.m.set(s.name, tf.tensor(m.data, m.shape, "float32"));
      this.v.set(s.name, tf.tensor(v.data, v.shape, "float32"));
    }
    this.steps = state.step;
  }

  dispose(): void {
    for (const t of [...this.vars.values(), ...this.m.values(), ...this.v.values(), ...this.masks.values()]) t.dispose();
    this.rope?.cos.dispose(); this.rope?.sin.dispose();
    this.vars.clear(); this.m.clear(); this.v.clear(); this.masks.clear(); this.rope = null;
  }
}

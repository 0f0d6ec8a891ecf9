// ONNX graphs of the architecture, built in TypeScript (onnx-proto for the protobuf encoding), opset 17
// plus onnxruntime's own ops for RMSNorm (SimplifiedLayerNormalization, and com.microsoft
// SkipSimplifiedLayerNormalization with the residual add) and rotary positions (com.microsoft
// RotaryEmbedding): onnxruntime-web's wasm build and onnxruntime-node both have them, and they replace
// ~15 small nodes per layer (+13-17% batch-1 decode on onnxruntime-web, bench/engine).
// Two graphs from one layer function, in the engines' internal weight layout (layout.ts):
// - "score": input_ids, targets [B,S] int64, temperature [1] → logp, entropy [B,S] (in-graph
//   LogSoftmax(logits / temperature), GatherElements, -Σ p·log p), and logits [B,S,V]; positions 0..S-1.
// - "decode": input_ids, position_ids [B,S] int64, key_mask [B,P+S] float (0 = attend, MASK_VALUE = not),
//   temperature [1], past_key_l / past_value_l [P,B,KV,dh] → logprobs [B,V] and entropy [B] of the LAST
//   position (temperature-scaled), new_key_l / new_value_l [S,B,KV,dh]: the keys and values of the new
//   positions only. The cache is time-major so that the caller appends each step's new rows at its end
//   and feeds a prefix of one growing buffer: no run copies the whole cache out of the runtime, and no
//   caller copies it to append. Prefill is the same graph with an empty past [0,B,KV,dh].
// Weights are graph inputs named by their HF names (fed after every update, no session rebuild), or
// initializers for a standalone .onnx file. `portable` graphs (what exportOnnx writes by default) use
// standard opset-17 nodes for RMSNorm and rotary positions instead, so any ONNX runtime loads them.
import onnxProto from "onnx-proto";
import { parameterSpecs, ropeTables, type ArchConfig, type Weights } from "../model/config.js";
import { EMBED, toEngineLayout, transpose2d } from "./layout.js";

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
/** onnxruntime's contrib-op domain. */
const MS = "com.microsoft";

/** Additive mask value for masked keys (the tfjs engine uses the same). */
export const GRAPH_MASK_VALUE = -1e9;

type Attr = { i: number } | { f: number } | { ints: number[] } | { s: string };
type Dim = number | string;

class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly inits: onnxProto.onnx.ITensorProto[] = [];
  private n = 0;
  private contribOps = false;

  private valueInfo(name: string, elemType: number, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
    return {
      name,
      type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } },
    };
  }

  input(name: string, elemType: number, dims: Dim[]): string {
    this.inputs.push(this.valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, from: string, elemType: number, dims: Dim[]): void {
    this.op("Identity", [from], {}, name);
    this.outputs.push(this.valueInfo(name, elemType, dims));
  }

  initializer(name: string, data: Float32Array, dims: number[]): string {
    this.inits.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  constF(data: Float32Array | number[], dims: number[]): string {
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    return this.initializer(`c${this.n++}`, f, dims);
  }

  constI(values: number[], dims: number[] = [values.length]): string {
    const name = `c${this.n++}`;
    const b = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.inits.push({ name, dims, dataType: INT64, rawData: new Uint8Array(b.buffer) });
    return name;
  }

  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string): string {
    return this.opN(type, inputs, attrs, [out ?? `t${this.n++}`])[0];
  }

  /** A node with several outputs ("" leaves an optional one out), in the default domain or `domain`. */
  opN(type: string, inputs: string[], attrs: Record<string, Attr>, outputs: string[], domain = ""): string[] {
    const attribute = Object.entries(attrs).map(([k, a]): onnxProto.onnx.IAttributeProto => {
      if ("i" in a) return { name: k, type: onnx.AttributeProto.AttributeType.INT, i: a.i };
      if ("f" in a) return { name: k, type: onnx.AttributeProto.AttributeType.FLOAT, f: a.f };
      if ("ints" in a) return { name: k, type: onnx.AttributeProto.AttributeType.INTS, ints: a.ints };
      return { name: k, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(a.s) };
    });
    this.nodes.push({ opType: type, domain, input: inputs, output: outputs, name: `n${this.n++}_${type}`, attribute });
    if (domain === MS) this.contribOps = true;
    return outputs;
  }

  /** A fresh value name. */
  value(): string {
    return `t${this.n++}`;
  }

  toBytes(graphName: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 17 }, ...(this.contribOps ? [{ domain: MS, version: 1 }] : [])],
      producerName: "taorl",
      graph: { name: graphName, node: this.nodes, input: this.inputs, output: this.outputs, initializer: this.inits },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

export interface GraphOptions {
  kind: "score" | "decode";
  /** Embed these weights as initializers (a standalone model) instead of declaring them as inputs. */
  weights?: Weights;
  /** Rows of the rotary and causal tables: the longest sequence (past + new) the graph accepts. */
  maxPositions?: number;
  /**
   * Standard ONNX ops only (opset 17): RMSNorm and rotary positions as plain nodes instead of onnxruntime's
   * SimplifiedLayerNormalization / SkipSimplifiedLayerNormalization / RotaryEmbedding, so any ONNX runtime
   * loads the model. The engines use the faster onnxruntime ops; `exportOnnx` writes the portable form.
   */
  portable?: boolean;
}

/** The graphs' weight tensors, in order, with their shapes in the engine layout. */
export function weightInputs(cfg: ArchConfig): Array<{ name: string; shape: number[] }> {
  const list = parameterSpecs(cfg).map((s) => ({ name: s.name, shape: s.shape.length === 2 && s.name !== EMBED ? [s.shape[1], s.shape[0]] : [...s.shape] }));
  // A tied head still gets its own [D, V] tensor: the transposed embedding, made once per weight update
  // rather than by a Transpose node on every run.
  if (cfg.tieWordEmbeddings) list.push({ name: "lm_head.weight", shape: [cfg.hiddenSize, cfg.vocabSize] });
  return list;
}

/** The graphs' weight tensors from HF-layout weights (see `weightInputs`). */
export function graphWeights(cfg: ArchConfig, weights: Weights): Array<{ name: string; shape: number[]; data: Float32Array }> {
  return weightInputs(cfg).map((w) => {
    if (cfg.tieWordEmbeddings && w.name === "lm_head.weight") {
      const e = weights.get(EMBED);
      if (!e) throw new Error(`onnx-graph: weights lack tensor "${EMBED}"`);
      return { ...w, data: transpose2d(e.data, cfg.vocabSize, cfg.hiddenSize) };
    }
    const hf = weights.get(w.name);
    if (!hf) throw new Error(`onnx-graph: weights lack tensor "${w.name}"`);
    return { ...w, data: toEngineLayout(w.name, hf).data };
  });
}

export function buildGraph(cfg: ArchConfig, opts: GraphOptions): Uint8Array {
  const g = new GraphBuilder();
  const { numHeads: H, numKvHeads: KV, headDim: dh, vocabSize: V } = cfg;
  const rep = H / KV, half = dh / 2;
  const maxPos = opts.maxPositions ?? cfg.maxPositionEmbeddings;
  const decode = opts.kind === "decode";

  if (opts.weights) for (const w of graphWeights(cfg, opts.weights)) g.initializer(w.name, w.data, w.shape);
  else for (const w of weightInputs(cfg)) g.input(w.name, FLOAT, w.shape);
  const ids = g.input("input_ids", INT64, ["batch", "seq"]);
  const targets = decode ? "" : g.input("targets", INT64, ["batch", "seq"]);
  const positions = decode ? g.input("position_ids", INT64, ["batch", "seq"]) : "";
  const keyMask = decode ? g.input("key_mask", FLOAT, ["batch", "total"]) : "";
  const temperature = g.input("temperature", FLOAT, [1]);
  const past = decode
    ? Array.from({ length: cfg.numLayers }, (_, l) => ({
        k: g.input(`past_key_${l}`, FLOAT, ["past", "batch", KV, dh]),
        v: g.input(`past_value_${l}`, FLOAT, ["past", "batch", KV, dh]),
      }))
    : [];

  const portable = opts.portable ?? false;
  const rope = ropeTables(cfg, maxPos);
  // RotaryEmbedding's caches [maxPos, dh/2] (ropeTables repeats each half); the portable form uses the
  // full tables [maxPos, dh].
  const cosHalf = new Float32Array(maxPos * half), sinHalf = new Float32Array(maxPos * half);
  for (let p = 0; p < maxPos; p++) {
    cosHalf.set(rope.cos.subarray(p * dh, p * dh + half), p * half);
    sinHalf.set(rope.sin.subarray(p * dh, p * dh + half), p * half);
  }
  const [cosT, sinT] = portable
    ? [g.constF(rope.cos, [maxPos, dh]), g.constF(rope.sin, [maxPos, dh])]
    : [g.constF(cosHalf, [maxPos, half]), g.constF(sinHalf, [maxPos, half])];
  const causalData = new Float32Array(maxPos * maxPos);
  for (let r = 0; r < maxPos; r++) for (let c = r + 1; c < maxPos; c++) causalData[r * maxPos + c] = GRAPH_MASK_VALUE;
  const causalT = g.constF(causalData, [maxPos, maxPos]);

  const i0 = g.constI([0]), i1 = g.constI([1]);
  const shapeIds = g.op("Shape", [ids]);
  const S = g.op("Gather", [shapeIds, i1]); // [1]
  // Past length P (0 for the score graph) and total T = P + S.
  const P = decode ? g.op("Gather", [g.op("Shape", [past[0].k]), i0]) : i0;
  const T = decode ? g.op("Add", [P, S]) : S;

  // The causal mask for grouped query rows [rep*S, T].
  const causal = g.op("Slice", [causalT, g.op("Concat", [P, i0], { axis: { i: 0 } }), g.op("Concat", [T, T], { axis: { i: 0 } }), g.constI([0, 1])]); // [S,T]
  let mask = g.op("Tile", [causal, g.constI([rep, 1])]); // [rep*S, T]
  if (decode) mask = g.op("Add", [mask, g.op("Unsqueeze", [keyMask, g.constI([1, 2])])]); // [B,1,rep*S,T]

  const epsilon = { f: cfg.rmsNormEps };
  const rmsNorm = (x: string, w: string): string => {
    if (!portable) return g.op("SimplifiedLayerNormalization", [x, w], { axis: { i: -1 }, epsilon });
    const ms = g.op("ReduceMean", [g.op("Mul", [x, x])], { axes: { ints: [-1] }, keepdims: { i: 1 } });
    const r = g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [ms, g.constF([cfg.rmsNormEps], [1])])])]);
    return g.op("Mul", [g.op("Mul", [x, r]), w]);
  };
  /** The residual sum x + y and its RMS norm: [normed, sum]. */
  const addNorm = (x: string, y: string, w: string): [string, string] => {
    if (portable) {
      const sum = g.op("Add", [x, y]);
      return [rmsNorm(sum, w), sum];
    }
    const [normed, , , sum] = g.opN("SkipSimplifiedLayerNormalization", [x, y, w], { epsilon }, [g.value(), "", "", g.value()], MS);
    return [normed, sum];
  };
  const linear = (x: string, prefix: string, bias: boolean): string => {
    const y = g.op("MatMul", [x, `${prefix}.weight`]);
    return bias ? g.op("Add", [y, `${prefix}.bias`]) : y;
  };
  const heads = (x: string, n: number): string => g.op("Transpose", [g.op("Reshape", [x, g.constI([0, 0, n, dh])])], { perm: { ints: [0, 2, 1, 3] } });
  // Rotary positions on [B,S,n*dh], HF's rotate-half form (interleaved 0); the score graph's rows all
  // start at position 0 (a [1] position_ids is that offset).
  // The portable form: x·cos + rotate_half(x)·sin on [B,S,n,dh], the tables gathered at the positions
  // ([B,S,1,dh] in decode) or sliced to 0..S-1 ([S,1,dh] when scoring).
  const cos4 = portable ? (decode ? g.op("Unsqueeze", [g.op("Gather", [cosT, positions]), g.constI([2])]) : g.op("Unsqueeze", [g.op("Slice", [cosT, i0, S, i0]), i1])) : "";
  const sin4 = portable ? (decode ? g.op("Unsqueeze", [g.op("Gather", [sinT, positions]), g.constI([2])]) : g.op("Unsqueeze", [g.op("Slice", [sinT, i0, S, i0]), i1])) : "";
  const rotate = (x: string, n: number): string => {
    if (!portable) return g.opN("RotaryEmbedding", [x, decode ? positions : i0, cosT, sinT], { num_heads: { i: n }, interleaved: { i: 0 } }, [g.value()], MS)[0];
    const x4 = g.op("Reshape", [x, g.constI([0, 0, n, dh])]);
    const x1 = g.op("Slice", [x4, g.constI([0]), g.constI([half]), g.constI([3])]);
    const x2 = g.op("Slice", [x4, g.constI([half]), g.constI([dh]), g.constI([3])]);
    const rot = g.op("Add", [g.op("Mul", [x4, cos4]), g.op("Mul", [g.op("Concat", [g.op("Neg", [x2]), x1], { axis: { i: 3 } }), sin4])]);
    return g.op("Reshape", [rot, g.constI([0, 0, n * dh])]);
  };
  const scale = g.constF([1 / Math.sqrt(dh)], [1]);

  let x = g.op("Gather", [EMBED, ids]); // [B,S,D]
  let mlpOut = ""; // the previous layer's MLP output, added to x by the next norm
  let h = "";
  for (let l = 0; l < cfg.numLayers; l++) {
    const pre = `model.layers.${l}.`;
    if (l === 0) h = rmsNorm(x, `${pre}input_layernorm.weight`);
    else [h, x] = addNorm(x, mlpOut, `${pre}input_layernorm.weight`);
    const q = heads(rotate(linear(h, `${pre}self_attn.q_proj`, cfg.qkvBias), H), H); // [B,H,S,dh]
    let k = heads(rotate(linear(h, `${pre}self_attn.k_proj`, cfg.qkvBias), KV), KV); // [B,KV,S,dh]
    let v = heads(linear(h, `${pre}self_attn.v_proj`, cfg.qkvBias), KV);
    if (decode) {
      const timeMajor = (bhsd: string): string => g.op("Transpose", [bhsd], { perm: { ints: [2, 0, 1, 3] } });
      const batchMajor = (sbhd: string): string => g.op("Transpose", [sbhd], { perm: { ints: [1, 2, 0, 3] } });
      g.output(`new_key_${l}`, timeMajor(k), FLOAT, ["seq", "batch", KV, dh]);
      g.output(`new_value_${l}`, timeMajor(v), FLOAT, ["seq", "batch", KV, dh]);
      k = g.op("Concat", [batchMajor(past[l].k), k], { axis: { i: 2 } });
      v = g.op("Concat", [batchMajor(past[l].v), v], { axis: { i: 2 } });
    }
    const qg = g.op("Reshape", [q, g.constI([0, KV, -1, dh])]); // [B,KV,rep*S,dh]
    const kt = g.op("Transpose", [k], { perm: { ints: [0, 1, 3, 2] } });
    const scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [qg, kt]), scale]), mask]);
    const ctx = g.op("MatMul", [g.op("Softmax", [scores], { axis: { i: -1 } }), v]); // [B,KV,rep*S,dh]
    const merged = g.op("Reshape", [g.op("Transpose", [g.op("Reshape", [ctx, g.constI([0, H, -1, dh])])], { perm: { ints: [0, 2, 1, 3] } }), g.constI([0, 0, H * dh])]);
    let h2: string;
    [h2, x] = addNorm(x, linear(merged, `${pre}self_attn.o_proj`, cfg.oBias), `${pre}post_attention_layernorm.weight`);
    const gate = g.op("MatMul", [h2, `${pre}mlp.gate_proj.weight`]);
    const up = g.op("MatMul", [h2, `${pre}mlp.up_proj.weight`]);
    const act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up]);
    mlpOut = g.op("MatMul", [act, `${pre}mlp.down_proj.weight`]);
  }
  let [hf] = addNorm(x, mlpOut, "model.norm.weight");
  if (decode) hf = g.op("Slice", [hf, g.op("Sub", [S, i1]), S, i1]); // last position only: [B,1,D]
  const logits = g.op("MatMul", [hf, "lm_head.weight"]); // [B,S|1,V]
  const lp = g.op("LogSoftmax", [g.op("Div", [logits, temperature])], { axis: { i: -1 } });
  const ent = g.op("Neg", [g.op("ReduceSum", [g.op("Mul", [g.op("Exp", [lp]), lp]), g.constI([-1])], { keepdims: { i: 0 } })]);
  if (decode) {
    g.output("logprobs", g.op("Squeeze", [lp, i1]), FLOAT, ["batch", V]);
    g.output("entropy", g.op("Squeeze", [ent, i1]), FLOAT, ["batch"]);
  } else {
    g.output("logits", logits, FLOAT, ["batch", "seq", V]);
    const picked = g.op("GatherElements", [lp, g.op("Unsqueeze", [targets, g.constI([-1])])], { axis: { i: -1 } });
    g.output("logp", g.op("Squeeze", [picked, g.constI([-1])]), FLOAT, ["batch", "seq"]);
    g.output("entropy", ent, FLOAT, ["batch", "seq"]);
  }
  return g.toBytes(`taorl_${cfg.modelType}_${opts.kind}`);
}

/**
 * A standalone .onnx model (weights as initializers) of the given graph kind, for other runtimes: standard
 * ops only unless `portable` is false (then onnxruntime's own RMSNorm and rotary ops, as the engines run).
 */
export function exportOnnx(cfg: ArchConfig, weights: Weights, kind: GraphOptions["kind"] = "score", maxPositions?: number, portable = true): Uint8Array {
  return buildGraph(cfg, { kind, weights, maxPositions, portable });
}

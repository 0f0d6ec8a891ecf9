// The inference engine on onnxruntime-web (wasm EP): the only module that imports onnxruntime.
// Sessions run the graphs of onnx-graph.ts with the weights as inputs, so `setWeights` after a training
// step swaps feeds and never rebuilds a session. numThreads is always set explicitly (it resolves to 1 in
// Node 20 otherwise; 1 is also the fastest for decode, notes/wasm-stack-probe.md §2). Calls are serialised
// on a promise chain: one wasm instance runs one thing at a time.
import * as ort from "onnxruntime-web";
import { checkWeights, type ArchConfig, type Weights } from "../model/config.js";
import { buildGraph, weightInputs, GRAPH_MASK_VALUE } from "./onnx-graph.js";
import { checkTokenBatch, EngineInputError, type Engine, type EngineInfo, type ScoreOptions, type ScoreResult, type TokenBatch } from "./engine.js";
import { toEngineLayout } from "./layout.js";

export interface OrtEngineOptions {
  weights: Weights;
  /** Threads of the wasm EP; set once per process by the first engine. Default 1. */
  numThreads?: number;
  /** Folder (or URL prefix) of the ORT .wasm/.mjs files; by default ORT finds its own dist folder. */
  wasmPaths?: string;
  /** Longest sequence (prompt + generated) the graphs accept. Default min(maxPositionEmbeddings, 1024). */
  maxPositions?: number;
}

let envSet = false;

function describeFeeds(feeds: Record<string, ort.Tensor>): string {
  return Object.entries(feeds).map(([k, t]) => `${k}: ${t.type} [${t.dims.join(", ")}]`).join("; ");
}

export class OrtWebEngine implements Engine {
  readonly config: ArchConfig;
  readonly maxPositions: number;
  private weightFeeds: Record<string, ort.Tensor> = {};
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(config: ArchConfig, private readonly scoreSession: ort.InferenceSession, private readonly decodeSession: ort.InferenceSession, maxPositions: number) {
    this.config = config;
    this.maxPositions = maxPositions;
  }

  static async create(config: ArchConfig, opts: OrtEngineOptions): Promise<OrtWebEngine> {
    if (!envSet) {
      ort.env.wasm.numThreads = opts.numThreads ?? 1;
      if (opts.wasmPaths) ort.env.wasm.wasmPaths = opts.wasmPaths;
      envSet = true;
    }
    const maxPositions = opts.maxPositions ?? Math.min(config.maxPositionEmbeddings, 1024);
    const so: ort.InferenceSession.SessionOptions = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    const scoreSession = await ort.InferenceSession.create(buildGraph(config, { kind: "score", maxPositions }), so);
    const decodeSession = await ort.InferenceSession.create(buildGraph(config, { kind: "decode", maxPositions }), so);
    const e = new OrtWebEngine(config, scoreSession, decodeSession, maxPositions);
    await e.setWeights(opts.weights);
    return e;
  }

  info(): EngineInfo {
    const parameters = weightInputs(this.config).reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
    return { name: "onnxruntime-web", config: this.config, parameters, trainable: false };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Run a session, reporting every input's name, type and shape when it fails. */
  protected async run(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, fetches: string[]): Promise<Record<string, ort.Tensor>> {
    try {
      return await session.run({ ...this.weightFeeds, ...feeds }, fetches);
    } catch (e) {
      throw new EngineInputError(`onnxruntime-web: run failed (${(e as Error).message}); inputs: ${describeFeeds(feeds)}`);
    }
  }

  async setWeights(weights: Weights): Promise<void> {
    checkWeights(this.config, weights);
    const feeds: Record<string, ort.Tensor> = {};
    for (const w of weightInputs(this.config)) {
      const t = toEngineLayout(w.name, weights.get(w.name)!);
      // ORT may keep a reference to the array: give it a copy the caller cannot mutate afterwards.
      feeds[w.name] = new ort.Tensor("float32", t.data === weights.get(w.name)!.data ? t.data.slice() : t.data, w.shape);
    }
    await this.serial(async () => { this.weightFeeds = feeds; });
  }

  private checkLength(batch: TokenBatch, total: number): void {
    if (total > this.maxPositions) {
      throw new EngineInputError(`tokens [${batch.B}, ${batch.T}]: ${total} positions exceed the graph's maxPositions ${this.maxPositions}`);
    }
  }

  /** Per-token logp and entropy of tokens[:, 1:] given tokens[:, :-1], in-graph (see engine.ts). */
  async score(batch: TokenBatch, opts: ScoreOptions = {}): Promise<ScoreResult> {
    checkTokenBatch(batch, this.config.vocabSize);
    const { B, T, tokens } = batch;
    this.checkLength(batch, T);
    const temperature = opts.temperature ?? 1;
    if (!(temperature > 0)) throw new EngineInputError(`temperature: must be > 0, got ${temperature}`);
    const logp = new Float32Array(B * T), entropy = new Float32Array(B * T);
    if (T < 2) return { logp, entropy };
    const S = T - 1;
    const ids = new BigInt64Array(B * S), tgt = new BigInt64Array(B * S);
    for (let b = 0; b < B; b++) for (let t = 0; t < S; t++) { ids[b * S + t] = BigInt(tokens[b * T + t]); tgt[b * S + t] = BigInt(tokens[b * T + t + 1]); }
    const out = await this.serial(() => this.run(this.scoreSession, {
      input_ids: new ort.Tensor("int64", ids, [B, S]),
      targets: new ort.Tensor("int64", tgt, [B, S]),
      temperature: new ort.Tensor("float32", Float32Array.of(temperature), [1]),
    }, ["logp", "entropy"]));
    const lv = out.logp.data as Float32Array, ev = out.entropy.data as Float32Array;
    for (let b = 0; b < B; b++) {
      logp.set(lv.subarray(b * S, b * S + S), b * T + 1);
      entropy.set(ev.subarray(b * S, b * S + S), b * T + 1);
    }
    return { logp, entropy };
  }

  /** Logits of every position [B, T, V] (parity checks). */
  async forwardLogits(batch: TokenBatch): Promise<Float32Array> {
    checkTokenBatch(batch, this.config.vocabSize);
    const { B, T, tokens } = batch;
    this.checkLength(batch, T);
    const ids = BigInt64Array.from(tokens, (x) => BigInt(x));
    const out = await this.serial(() => this.run(this.scoreSession, {
      input_ids: new ort.Tensor("int64", ids, [B, T]),
      targets: new ort.Tensor("int64", new BigInt64Array(B * T), [B, T]),
      temperature: new ort.Tensor("float32", Float32Array.of(1), [1]),
    }, ["logits"]));
    return out.logits.data as Float32Array;
  }

  dispose(): void {
    void this.scoreSession.release();
    void this.decodeSession.release();
    this.weightFeeds = {};
  }
}

export { GRAPH_MASK_VALUE };

// The inference engine on onnxruntime-web (wasm EP): the only module that imports onnxruntime.
// Sessions run the graphs of onnx-graph.ts with the weights as inputs, so `setWeights` after a training
// step swaps feeds and never rebuilds a session. numThreads is always set explicitly (it resolves to 1 in
// Node 20 otherwise; 1 is also the fastest for decode, bench/engine). Calls are serialised
// on one promise chain per JavaScript realm, shared by every engine in it: they all run on the same wasm
// instance, which runs one thing at a time (two engines interleaving runs broke each other's outputs).
//
// Runtimes that compile no WebAssembly from bytes (workerd: the wasm must be a module of the worker) pass
// the precompiled module as `wasmModule`: see `supplyCompiledWasm` for how it reaches ORT.
import * as ort from "onnxruntime-web";
import { checkWeights, parameterSpecs, type ArchConfig, type Weights } from "../model/config.js";
import { buildGraph, graphWeights, GRAPH_MASK_VALUE } from "./onnx-graph.js";
import {
  checkTokenBatch, EngineInputError,
  type Engine, type EngineInfo, type Generation, type SamplingOptions, type ScoreOptions, type ScoreResult,
  type StopOptions, type TokenBatch,
} from "./engine.js";
import { decodeLoop } from "./decode.js";

export interface OrtEngineOptions {
  weights: Weights;
  /** Threads of the wasm EP; set once per process by the first engine. Default 1. */
  numThreads?: number;
  /** Folder (or URL prefix) of the ORT .wasm/.mjs files; by default ORT finds its own dist folder. */
  wasmPaths?: string;
  /**
   * ORT's ort-wasm-simd-threaded.wasm, already compiled (workerd imports it as a module); wins over
   * `wasmPaths`. Only the first engine of a realm sets it, as numThreads.
   */
  wasmModule?: WebAssembly.Module;
  /** Longest sequence (prompt + generated) the graphs accept. Default min(maxPositionEmbeddings, 1024). */
  maxPositions?: number;
  /**
   * "inputs" (default): weights are graph inputs; setWeights swaps feeds, no session rebuild, but every
   * run copies all weights into the wasm heap. "initializers": weights are baked into the sessions;
   * setWeights rebuilds them (tens of ms), runs copy nothing: the choice for large models and long decodes.
   */
  weightsMode?: "inputs" | "initializers";
}

let envSet = false;

function describeFeeds(feeds: Record<string, ort.Tensor>): string {
  return Object.entries(feeds).map(([k, t]) => `${k}: ${t.type} [${t.dims.join(", ")}]`).join("; ");
}

/**
 * Hands ORT a precompiled WebAssembly.Module. onnxruntime-web has no option for one: it takes the wasm
 * as a URL (`env.wasm.wasmPaths`) or as bytes (`env.wasm.wasmBinary`, added in microsoft/onnxruntime#21534),
 * and its emscripten loader compiles those with `WebAssembly.instantiate(bytes, imports)`, which workerd
 * refuses ("Wasm code generation disallowed by embedder"). ORT does not forward emscripten's
 * `instantiateWasm` hook (a user-land loader, microsoft/onnxruntime#21430, was closed unmerged). So: give
 * ORT a marker buffer as `wasmBinary` and, until ORT's loader asks for it, wrap `WebAssembly.instantiate`
 * so that this one call (its bytes are a view of the marker) instantiates the module instead; every other
 * call goes to the original, and the wrapper removes itself after that call. Checked against
 * onnxruntime-web 1.30's wasm bundle, which reads `wasmBinary` as `new Uint8Array(wasmBinary)`.
 */
function supplyCompiledWasm(module: WebAssembly.Module): ArrayBuffer {
  const marker = new ArrayBuffer(8);
  const wasm = WebAssembly as { instantiate: (...args: unknown[]) => Promise<unknown> };
  const original = wasm.instantiate;
  wasm.instantiate = function instantiate(this: unknown, ...args: unknown[]): Promise<unknown> {
    const source = args[0] as { buffer?: unknown } | undefined;
    if (source !== marker && source?.buffer !== marker) return original.apply(WebAssembly, args);
    wasm.instantiate = original;
    return (original.call(WebAssembly, module, args[1]) as Promise<WebAssembly.Instance>).then((instance) => ({ instance, module }));
  };
  return marker;
}

/** The one queue of onnxruntime-web work in this realm (see the header). */
let realmChain: Promise<unknown> = Promise.resolve();

export class OrtWebEngine implements Engine {
  readonly config: ArchConfig;
  readonly maxPositions: number;
  private weightFeeds: Record<string, ort.Tensor> = {};

  private scoreSession!: ort.InferenceSession;
  private decodeSession!: ort.InferenceSession;

  private constructor(config: ArchConfig, maxPositions: number, private readonly weightsMode: "inputs" | "initializers") {
    this.config = config;
    this.maxPositions = maxPositions;
  }

  static async create(config: ArchConfig, opts: OrtEngineOptions): Promise<OrtWebEngine> {
    if (!envSet) {
      ort.env.wasm.numThreads = opts.numThreads ?? 1;
      let prefix = opts.wasmPaths;
      if (opts.wasmModule) {
        ort.env.wasm.wasmBinary = supplyCompiledWasm(opts.wasmModule);
        prefix = undefined;
      } else if (!prefix && typeof process !== "undefined" && process.versions?.node) {
        // Bundled, ORT would look for its .mjs/.wasm next to the bundle: point it at the package's dist folder.
        // (getBuiltinModule, or an import whose name esbuild cannot follow before Node 20.16: the edge bundle
        // must not reference Node builtins.)
        const { createRequire } = (typeof process.getBuiltinModule === "function"
          ? process.getBuiltinModule("node:module")
          : await import(["node", "module"].join(":"))) as typeof import("node:module");
        const wasm = createRequire(import.meta.url).resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm");
        prefix = wasm.slice(0, wasm.lastIndexOf("/") + 1);
      }
      if (prefix) ort.env.wasm.wasmPaths = prefix;
      envSet = true;
    }
    const maxPositions = opts.maxPositions ?? Math.min(config.maxPositionEmbeddings, 1024);
    const e = new OrtWebEngine(config, maxPositions, opts.weightsMode ?? "inputs");
    if (e.weightsMode === "inputs") await e.serial(() => e.buildSessions());
    await e.setWeights(opts.weights);
    return e;
  }

  /** (Re)create both sessions; with `weights` they are baked in as initializers. */
  private async buildSessions(weights?: Weights): Promise<void> {
    const so: ort.InferenceSession.SessionOptions = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    const score = await ort.InferenceSession.create(buildGraph(this.config, { kind: "score", maxPositions: this.maxPositions, weights }), so);
    const decode = await ort.InferenceSession.create(buildGraph(this.config, { kind: "decode", maxPositions: this.maxPositions, weights }), so);
    const old = [this.scoreSession, this.decodeSession];
    this.scoreSession = score;
    this.decodeSession = decode;
    for (const s of old) if (s) await s.release();
  }

  info(): EngineInfo {
    const parameters = parameterSpecs(this.config).reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
    return { name: "onnxruntime-web", config: this.config, parameters, trainable: false };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = realmChain.then(fn, fn);
    realmChain = next.catch(() => undefined);
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
    if (this.weightsMode === "initializers") {
      await this.serial(() => this.buildSessions(weights));
      return;
    }
    const feeds: Record<string, ort.Tensor> = {};
    for (const w of graphWeights(this.config, weights)) {
      // ORT may keep a reference to the array: give it one the caller cannot mutate afterwards.
      const owned = weights.get(w.name)?.data === w.data ? w.data.slice() : w.data;
      feeds[w.name] = new ort.Tensor("float32", owned, w.shape);
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

  /**
   * Batched generation with a KV cache (decode.ts: left padding, seeded sampling, stop conditions). The
   * cache of each layer is one time-major buffer [maxTotal, B, KV, dh] per keys and values: a run reads its
   * filled prefix and returns only the new positions, appended here (onnx-graph.ts).
   */
  async generate(prompts: Int32Array[], sampling: SamplingOptions, stop: StopOptions = {}): Promise<Generation[]> {
    const { numKvHeads: KV, headDim: dh, numLayers } = this.config;
    const names = Array.from({ length: numLayers }, (_, l) => [`key_${l}`, `value_${l}`]).flat();
    const fetches = ["logprobs", "entropy", ...names.map((n) => `new_${n}`)];
    return decodeLoop(prompts, sampling, stop, this.config.vocabSize, this.maxPositions, (temperature, maxTotal) => {
      const temp = new ort.Tensor("float32", Float32Array.of(temperature), [1]);
      let cache: Float32Array[] = [];
      return async (ids, positions, keyMask, B, S, total) => {
        const row = B * KV * dh, P = total - S;
        if (cache.length === 0) cache = names.map(() => new Float32Array(maxTotal * row));
        const feeds: Record<string, ort.Tensor> = {
          input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [B, S]),
          position_ids: new ort.Tensor("int64", BigInt64Array.from(positions, BigInt), [B, S]),
          key_mask: new ort.Tensor("float32", keyMask, [B, total]), temperature: temp,
        };
        names.forEach((n, i) => { feeds[`past_${n}`] = new ort.Tensor("float32", cache[i].subarray(0, P * row), [P, B, KV, dh]); });
        const res = await this.serial(() => this.run(this.decodeSession, feeds, fetches));
        names.forEach((n, i) => cache[i].set(res[`new_${n}`].data as Float32Array, P * row));
        return { logprobs: res.logprobs.data as Float32Array, entropy: res.entropy.data as Float32Array };
      };
    });
  }

  dispose(): void {
    void this.scoreSession.release();
    void this.decodeSession.release();
    this.weightFeeds = {};
  }
}

export { GRAPH_MASK_VALUE };

// A typed client of an engine worker (worker-host.ts), itself a TrainableEngine: a trainer or rollout
// running on its own thread, with its own wasm instance, behaves like a local engine. Every request waits
// for its one reply; a worker that crashes or exits rejects every pending call, and all later ones, with
// an EngineWorkerError naming the worker and the request. Remote errors keep their name and stack.
import type { EngineReply, EngineRequest, EngineRole, EngineWireError } from "../protocol/engine-messages.js";
import { parameterSpecs, toHfConfig, type ArchConfig, type Weights } from "../model/config.js";
import type {
  EngineInfo, Generation, SamplingOptions, ScoreOptions, ScoreResult, StepCoefficients, StepOptions, StepResult, StopOptions,
  TokenBatch, TrainableEngine,
} from "./engine.js";
import { EngineInputError } from "./engine.js";
import { weightsFromWire, weightsToWire } from "./wire.js";

/** The worker, structurally: Node's worker_threads.Worker. */
export interface EngineWorkerLike {
  postMessage(m: unknown, transfer?: ArrayBuffer[]): void;
  on(event: "message", f: (m: EngineReply) => void): unknown;
  on(event: "error", f: (e: Error) => void): unknown;
  on(event: "exit", f: (code: number) => void): unknown;
  terminate(): Promise<number> | void;
}

/** The worker is gone (crashed, exited or closed): the call cannot be answered. */
export class EngineWorkerError extends Error {
  override name = "EngineWorkerError";
}

type Request = EngineRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;
type ReplyOf<K extends EngineReply["type"]> = Extract<EngineReply, { type: K }>;

function fromWire(e: EngineWireError, where: string): Error {
  const err = new Error(e.message);
  err.name = e.name;
  err.stack = `${e.stack ?? `${e.name}: ${e.message}`}\n    (thrown in the ${where})`;
  return err;
}

export interface LoadOptions {
  /** Initial weights (HF names and layout); their buffers are transferred. Required by a rollout worker. */
  weights?: Weights;
  /** Seed of the initial weights when a trainer gets none. */
  seed?: number;
  maxPositions?: number;
  optim?: Extract<EngineRequest, { type: "load" }>["optim"];
  /** Rollout worker: "initializers" decodes faster (bench/engine), "inputs" (default) updates weights cheaper. */
  weightsMode?: "inputs" | "initializers";
}

export class EngineWorkerClient implements TrainableEngine {
  private readonly pending = new Map<number, { type: string; resolve: (r: EngineReply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private gone: EngineWorkerError | null = null;
  private closing = false;
  private readonly ready: Promise<EngineRole>;
  private loaded: { config: ArchConfig; info: EngineInfo } | null = null;

  /** Wraps a started worker; `label` names it in errors ("rollout worker"). Await `whenReady()` or any call. */
  constructor(private readonly worker: EngineWorkerLike, readonly label: string) {
    let readyResolve!: (r: EngineRole) => void, readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => { readyResolve = res; readyReject = rej; });
    this.ready.catch(() => undefined);
    worker.on("message", (m: EngineReply) => {
      if (m.type === "ready") { readyResolve(m.role); return; }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === "error") p.reject(fromWire(m.error, label));
      else p.resolve(m);
    });
    const fail = (why: string) => {
      if (this.gone) return;
      this.gone = new EngineWorkerError(`${label} ${why}`);
      readyReject(this.gone);
      for (const [id, p] of this.pending) p.reject(new EngineWorkerError(`${this.gone.message}; its "${p.type}" request #${id} got no reply`));
      this.pending.clear();
    };
    worker.on("error", (e) => fail(`crashed: ${e?.message ?? String(e)}`));
    worker.on("exit", (code) => fail(this.closing ? "was closed" : `exited unexpectedly (code ${code})`));
  }

  /** The role the worker announced once it accepts requests. */
  whenReady(): Promise<EngineRole> {
    return this.ready;
  }

  private async call<K extends EngineReply["type"]>(req: Request, expect: K, transfer: ArrayBuffer[] = []): Promise<ReplyOf<K>> {
    await this.ready;
    if (this.gone) throw new EngineWorkerError(`${this.gone.message}; "${req.type}" not sent`);
    const id = this.nextId++;
    const reply = new Promise<EngineReply>((resolve, reject) => this.pending.set(id, { type: req.type, resolve, reject }));
    this.worker.postMessage({ ...req, id }, transfer);
    const r = await reply;
    if (r.type !== expect) throw new EngineWorkerError(`${this.label}: "${req.type}" got a "${r.type}" reply, expected "${expect}"`);
    return r as ReplyOf<K>;
  }

  /** Build the worker's engine for `config`. */
  async load(config: ArchConfig, opts: LoadOptions = {}): Promise<EngineInfo> {
    const wire = opts.weights ? weightsToWire(opts.weights) : undefined;
    const r = await this.call({ type: "load", config: toHfConfig(config), weights: wire?.tensors, seed: opts.seed, maxPositions: opts.maxPositions, optim: opts.optim, weightsMode: opts.weightsMode }, "loaded", wire?.transfer);
    const info: EngineInfo = { ...r.info, config };
    this.loaded = { config, info };
    return info;
  }

  info(): EngineInfo {
    if (!this.loaded) throw new EngineInputError(`${this.label}: no engine loaded yet (call load first)`);
    return { ...this.loaded.info, name: `${this.loaded.info.name} (${this.label})` };
  }

  async score(batch: TokenBatch, opts: ScoreOptions = {}): Promise<ScoreResult> {
    const r = await this.call({ type: "score", B: batch.B, T: batch.T, tokens: batch.tokens, temperature: opts.temperature }, "scored");
    return { logp: r.logp, entropy: r.entropy };
  }

  /** Generation in the worker; only EOS stops cross the thread (stop strings need a detokenizer there). */
  async generate(prompts: Int32Array[], sampling: SamplingOptions, stop: StopOptions = {}): Promise<Generation[]> {
    if (stop.stopStrings?.length || stop.stopWhen) throw new EngineInputError(`${this.label}: stopStrings and stopWhen cannot cross a worker boundary (only eosTokenIds)`);
    const r = await this.call({ type: "generate", prompts, sampling: { ...sampling, rowSeeds: sampling.rowSeeds && Array.from(sampling.rowSeeds) }, eosTokenIds: stop.eosTokenIds }, "generated");
    return r.generations;
  }

  async step(batch: TokenBatch, c: StepCoefficients, opts: StepOptions = {}): Promise<StepResult> {
    const r = await this.call({ type: "step", B: batch.B, T: batch.T, tokens: batch.tokens, w: c.w, v: c.v, temperature: opts.temperature, microBatch: opts.microBatch }, "stepped");
    return r.result;
  }

  /** The trainer's weights; their buffers were transferred to this thread (no copy). */
  async weights(): Promise<Weights> {
    return weightsFromWire((await this.call({ type: "get_weights" }, "weights")).weights);
  }

  /**
   * Replace the worker's weights. The arrays' buffers are transferred, so `weights` is detached afterwards
   * (each of its arrays has length 0): pass copies to keep using them.
   */
  async setWeights(weights: Weights): Promise<void> {
    if (this.loaded) {
      const names = new Set(parameterSpecs(this.loaded.config).map((s) => s.name));
      for (const n of names) if (!weights.has(n)) throw new EngineInputError(`${this.label}: weights lack tensor "${n}"`);
    }
    const { tensors, transfer } = weightsToWire(weights);
    await this.call({ type: "set_weights", weights: tensors }, "done", transfer);
  }

  /** Free the engine and end the worker; pending calls are rejected. */
  async close(): Promise<void> {
    if (this.gone) return;
    this.closing = true;
    await this.worker.terminate();
  }

  dispose(): void {
    void this.close();
  }
}

/** Start a Node worker thread from a bundled entry (dist/node/rollout.worker.mjs or trainer.worker.mjs). */
export async function startEngineWorker(file: string | URL, label: string): Promise<EngineWorkerClient> {
  const { Worker } = await import("node:worker_threads");
  const client = new EngineWorkerClient(new Worker(file) as unknown as EngineWorkerLike, label);
  await client.whenReady();
  return client;
}

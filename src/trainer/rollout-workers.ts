// Rollout workers: each worker thread holds its own inference engine (onnxruntime-web), tokenizer and
// sandbox pool, and runs whole multi-turn rollouts (generation and tool calls) for a share of a step's
// prompt groups. The main thread keeps the trainer. Groups are split into contiguous shards; since every
// row samples from its own stream (seeded by run seed, step, group, sample and turn), the trajectories
// are the ones a single in-process rollout would produce, whatever the number of workers.
//
// Host side: `serveRolloutWorker(port)` (worker/agent.worker.ts). Client side: `RolloutWorkers`.
import type { RolloutOptions } from "../config.js";
import { OrtWebEngine } from "../engine/ort-web.js";
import { weightsFromWire, weightsToWire } from "../engine/wire.js";
import { parseHfConfig, toHfConfig, type ArchConfig, type Weights } from "../model/config.js";
import { TextTokenizer } from "../model/tokenizer.js";
import { rollout, type RolloutOutput, type RolloutRequest } from "../agent/rollout.js";
import { SandboxPool, type PoolOptions } from "../sandbox/node.js";

type Json = Record<string, unknown>;
type WireTensor = ReturnType<typeof weightsToWire>["tensors"][number];

export type RolloutWorkerRequest =
  | { type: "load"; id: number; config: Json; weights: WireTensor[]; tokenizerJson: Json; tokenizerConfig: Json; maxPositions: number; sandbox: PoolOptions }
  | { type: "set_weights"; id: number; weights: WireTensor[] }
  | { type: "rollout"; id: number; req: RolloutRequest; opts: RolloutOptions }
  | { type: "close"; id: number };

export type RolloutWorkerReply =
  | { type: "ready" }
  | { type: "ok"; id: number }
  | { type: "rollout"; id: number; out: RolloutOutput }
  | { type: "error"; id: number; error: { name: string; message: string; stack?: string } };

/** A message port, structurally (worker_threads' parentPort). */
export interface PortLike {
  postMessage(m: unknown, transfer?: ArrayBuffer[]): void;
  on(event: "message", f: (m: RolloutWorkerRequest) => void): unknown;
}

/** The worker side: load, set weights, run rollouts; every request gets exactly one reply. */
export function serveRolloutWorker(port: PortLike): void {
  let engine: OrtWebEngine | null = null;
  let tokenizer: TextTokenizer | null = null;
  let pool: SandboxPool | null = null;
  const handle = async (m: RolloutWorkerRequest): Promise<RolloutWorkerReply> => {
    switch (m.type) {
      case "load": {
        engine?.dispose();
        await pool?.close();
        tokenizer = new TextTokenizer(m.tokenizerJson as never, m.tokenizerConfig as never);
        engine = await OrtWebEngine.create(parseHfConfig(m.config), { weights: weightsFromWire(m.weights), maxPositions: m.maxPositions, weightsMode: "initializers" });
        pool = new SandboxPool(m.sandbox);
        return { type: "ok", id: m.id };
      }
      case "set_weights":
        if (!engine) throw new Error("rollout worker: no engine loaded (send \"load\" first)");
        await engine.setWeights(weightsFromWire(m.weights));
        return { type: "ok", id: m.id };
      case "rollout": {
        if (!engine || !tokenizer || !pool) throw new Error("rollout worker: no engine loaded (send \"load\" first)");
        const out = await rollout({ engine, tokenizer, runTool: pool.run.bind(pool) }, m.req, m.opts);
        return { type: "rollout", id: m.id, out };
      }
      case "close":
        engine?.dispose();
        await pool?.close();
        engine = null;
        pool = null;
        return { type: "ok", id: m.id };
    }
  };
  port.on("message", (m) => {
    handle(m).then(
      (r) => port.postMessage(r),
      (e: Error) => port.postMessage({ type: "error", id: m.id, error: { name: e?.name ?? "Error", message: e?.message ?? String(e), stack: e?.stack } }),
    );
  });
  port.postMessage({ type: "ready" });
}

interface WorkerLike {
  postMessage(m: unknown, transfer?: ArrayBuffer[]): void;
  on(event: "message", f: (m: RolloutWorkerReply) => void): unknown;
  on(event: "error", f: (e: Error) => void): unknown;
  on(event: "exit", f: (code: number) => void): unknown;
  terminate(): Promise<number> | void;
}

class Conn {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: RolloutWorkerReply) => void; reject: (e: Error) => void }>();
  private gone: Error | null = null;
  readonly ready: Promise<void>;

  constructor(readonly worker: WorkerLike, readonly label: string) {
    let ok!: () => void, fail!: (e: Error) => void;
    this.ready = new Promise((res, rej) => { ok = res; fail = rej; });
    const die = (e: Error) => {
      this.gone ??= e;
      fail(e);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on("message", (r) => {
      if (r.type === "ready") return ok();
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.type === "error") {
        const err = new Error(r.error.message);
        err.name = r.error.name;
        err.stack = `${r.error.stack ?? `${r.error.name}: ${r.error.message}`}\n    (thrown in ${this.label})`;
        p.reject(err);
      } else p.resolve(r);
    });
    worker.on("error", (e) => die(new Error(`${this.label} crashed: ${e.message}`)));
    worker.on("exit", (code) => die(new Error(`${this.label} exited (code ${code})`)));
  }

  call(m: RolloutWorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never): Promise<RolloutWorkerReply> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...m, id });
    });
  }
}

export interface RolloutWorkersOptions {
  config: ArchConfig;
  weights: Weights;
  tokenizer: TextTokenizer;
  maxPositions: number;
  /** Each worker's own sandbox pool (default: one JavaScript worker, one Python process). */
  sandbox?: PoolOptions;
}

/** Contiguous shards of `count` items over `parts` workers: [start, end) per worker (empty ones dropped). */
export function shards(count: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const size = Math.ceil(count / Math.max(1, parts));
  for (let s = 0; s < count; s += size) out.push([s, Math.min(count, s + size)]);
  return out;
}

/** A pool of rollout workers that runs a step's rollouts in parallel, group-sharded. */
export class RolloutWorkers {
  private constructor(private readonly conns: Conn[]) {}

  get size(): number {
    return this.conns.length;
  }

  /** Start `count` workers from the bundled entry (dist/node/agent.worker.mjs) and load the policy into each. */
  static async start(file: string | URL, count: number, o: RolloutWorkersOptions): Promise<RolloutWorkers> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`rollout workers: expected a positive integer count, got ${count}`);
    const { Worker } = await import("node:worker_threads");
    const conns = Array.from({ length: count }, (_, i) => new Conn(new Worker(file) as unknown as WorkerLike, `rollout worker ${i + 1}/${count}`));
    const pool = new RolloutWorkers(conns);
    try {
      await Promise.all(conns.map((c) => c.ready));
      const config = toHfConfig(o.config) as Json;
      await Promise.all(conns.map((c) => c.call({
        type: "load", config, weights: weightsToWire(o.weights).tensors, maxPositions: o.maxPositions,
        tokenizerJson: o.tokenizer.tokenizerJson as Json, tokenizerConfig: o.tokenizer.tokenizerConfig as Json,
        sandbox: o.sandbox ?? { javascriptWorkers: 1 },
      })));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Run the request's groups across the workers; trajectories come back in group order. */
  readonly rollout = async (req: RolloutRequest, opts: RolloutOptions): Promise<RolloutOutput> => {
    const t0 = performance.now();
    const parts = shards(req.problems.length, this.conns.length);
    const outs = await Promise.all(parts.map(([a, b], i) => this.conns[i].call({
      type: "rollout", opts, req: { ...req, problems: req.problems.slice(a, b), firstGroup: (req.firstGroup ?? 0) + a },
    }).then((r) => (r as Extract<RolloutWorkerReply, { type: "rollout" }>).out)));
    // per-stage times: the slowest worker's (the critical path); counts add up
    const max = (k: "generateMs" | "toolMs") => Math.max(0, ...outs.map((o) => o.timings[k]));
    return {
      trajectories: outs.flatMap((o) => o.trajectories),
      timings: {
        generateMs: max("generateMs"), toolMs: max("toolMs"), totalMs: performance.now() - t0,
        toolCalls: outs.reduce((n, o) => n + o.timings.toolCalls, 0), generatedTokens: outs.reduce((n, o) => n + o.timings.generatedTokens, 0),
      },
    };
  };

  /** New policy weights to every worker (copied: the caller keeps its arrays). */
  async setWeights(weights: Weights): Promise<void> {
    const tensors = [...weights].map(([name, t]) => ({ name, shape: [...t.shape], data: t.data }));
    await Promise.all(this.conns.map((c) => c.call({ type: "set_weights", weights: tensors })));
  }

  async close(): Promise<void> {
    await Promise.all(this.conns.map(async (c) => {
      await c.call({ type: "close" }).catch(() => undefined);
      await c.worker.terminate();
    }));
  }
}

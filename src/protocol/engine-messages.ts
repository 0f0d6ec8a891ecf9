// Messages between an engine client and an engine worker (the rollout worker hosting the inference
// engine, the trainer worker hosting the training engine). Types only, plain data and typed arrays.
// Rules: the worker posts `ready` once it accepts requests; every request gets exactly one reply with its
// id, in request order; errors cross as {name, message, stack} and never end the worker. Shapes follow
// src/engine/engine.ts: token rows are right-padded [B*T], per-token outputs [B*T] with slot 0 = 0.

export type EngineRole = "rollout" | "trainer";

export interface EngineWireError {
  name: string;
  message: string;
  stack?: string;
}

/** One parameter in Hugging Face name and layout ([out, in] for Linear weights), float32. */
export interface WireTensor {
  name: string;
  shape: number[];
  /**
   * The values. Transferred, not copied: the sender lists `data.buffer` in postMessage's transfer list,
   * so its own array is detached (length 0) once the message is posted.
   */
  data: Float32Array;
}

export interface WireSampling {
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  rowSeeds?: number[];
  maxNewTokens: number;
}

export interface WireOptim {
  lr?: number;
  adam_beta1?: number;
  adam_beta2?: number;
  adam_eps?: number;
  weight_decay?: number;
  grad_clip?: number;
}

export type EngineRequest =
  /**
   * Build the worker's engine. `config` is a Hugging Face config.json object. Without `weights` a trainer
   * starts from seeded initial weights (`seed`); a rollout engine needs weights.
   */
  | {
    type: "load"; id: number; config: Record<string, unknown>; weights?: WireTensor[]; seed?: number; maxPositions?: number; optim?: WireOptim;
    /** Rollout engine: weights as graph inputs (cheap updates) or baked into the sessions (faster decode). */
    weightsMode?: "inputs" | "initializers";
  }
  | { type: "score"; id: number; B: number; T: number; tokens: Int32Array; temperature?: number }
  | { type: "generate"; id: number; prompts: Int32Array[]; sampling: WireSampling; eosTokenIds?: number[] }
  /** One optimizer step on the surrogate Σ(w·logπ + v·H); w, v [B*T]. Trainer only. */
  | { type: "step"; id: number; B: number; T: number; tokens: Int32Array; w: Float32Array; v: Float32Array; temperature?: number; microBatch?: number }
  /** The current weights (trainer and rollout engines alike keep the ones they were given). */
  | { type: "get_weights"; id: number }
  | { type: "set_weights"; id: number; weights: WireTensor[] }
  | { type: "dispose"; id: number };

export interface WireEngineInfo {
  name: string;
  parameters: number;
  trainable: boolean;
}

export interface WireGeneration {
  tokens: Int32Array;
  logp: Float32Array;
  entropy: Float32Array;
  finishReason: "eos" | "stop" | "length";
}

export interface WireStepResult {
  surrogate: number;
  gradNorm: number;
  clipScale: number;
  step: number;
  timings: { forwardBackwardMs: number; optimizerMs: number; totalMs: number };
}

export type EngineReply =
  /** Sent once, when the worker has loaded its runtime and accepts requests. */
  | { type: "ready"; role: EngineRole }
  | { type: "loaded"; id: number; info: WireEngineInfo }
  | { type: "scored"; id: number; logp: Float32Array; entropy: Float32Array }
  | { type: "generated"; id: number; generations: WireGeneration[] }
  | { type: "stepped"; id: number; result: WireStepResult }
  /** The weights' buffers are transferred (see WireTensor.data). */
  | { type: "weights"; id: number; weights: WireTensor[] }
  | { type: "done"; id: number }
  | { type: "error"; id: number; error: EngineWireError };

// The Engine contract (DESIGN.md "Contracts"): a policy that scores token sequences and, when trainable,
// takes surrogate gradient steps. Engines exchange weights in Hugging Face names and layout
// (`Weights` from src/model), float32; each implementation keeps whatever internal layout it likes.
//
// Token conventions, shared by every engine:
// - A batch is B rows of T token ids, row-major [B*T], right-padded (padding only after a row's last
//   real token, so causal attention never sees it).
// - Per-token outputs are [B*T]: slot t holds the quantity of token t given tokens < t, computed from
//   logits / temperature. Slot 0 of every row has no prediction and holds 0.
//   logp[t]    = log softmax(z_{t-1})[tokens[t]]
//   entropy[t] = -Σ_v p_v log p_v of softmax(z_{t-1})
import { parameterSpecs, type ArchConfig, type Weights } from "../model/config.js";

/** Thrown at the engine boundary: names the offending tensor and its shape. */
export class EngineInputError extends RangeError {
  override name = "EngineInputError";
}

export interface TokenBatch {
  B: number;
  T: number;
  /** Token ids [B*T], right-padded. */
  tokens: Int32Array;
}

export interface ScoreOptions {
  /** Logits are divided by this before log-softmax (the rollout temperature). Default 1. */
  temperature?: number;
}

export interface ScoreResult {
  /** log π(token_t | tokens_<t) [B*T]; 0 at t = 0. */
  logp: Float32Array;
  /** Entropy of the next-token distribution that produced token t [B*T]; 0 at t = 0. */
  entropy: Float32Array;
}

/** Coefficients of the surrogate Σ_t (w_t · logπ_t + v_t · H_t) whose gradient the engine descends. */
export interface StepCoefficients {
  /** [B*T] (from `policyLoss`); slot 0 of each row is ignored. */
  w: Float32Array;
  /** [B*T]; slot 0 of each row is ignored. */
  v: Float32Array;
}

export interface StepOptions extends ScoreOptions {
  /** Rows per forward/backward pass; gradients are accumulated over micro-batches. Default: all rows. */
  microBatch?: number;
}

export interface StepResult {
  /** The surrogate's value Σ(w·logπ + v·H) before the update. */
  surrogate: number;
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number;
  /** Factor applied to the gradient by norm clipping (1 = not clipped). */
  clipScale: number;
  /** Optimizer steps taken so far, this one included. */
  step: number;
  timings: { forwardBackwardMs: number; optimizerMs: number; totalMs: number };
}

export interface EngineInfo {
  name: string;
  config: ArchConfig;
  parameters: number;
  trainable: boolean;
}

export interface SamplingOptions {
  /** 0 = greedy (logp/entropy then use temperature 1). Default 1. */
  temperature?: number;
  /** Nucleus: keep the smallest set of top tokens with probability ≥ topP. Default 1 (off). */
  topP?: number;
  /** Keep the k most likely tokens; 0 = off. Default 0. */
  topK?: number;
  /** Row r draws from a stream seeded by (seed, r): results do not depend on the other rows. Default 0. */
  seed?: number;
  /**
   * One stream seed per row (then `seed` is unused): a row's samples depend only on its own seed, not on
   * its position in the batch, so a batch split across workers samples what the whole batch would.
   */
  rowSeeds?: ArrayLike<number>;
  /** Token budget per row. */
  maxNewTokens: number;
}

export interface StopOptions {
  /** Generation of a row ends after it samples one of these (the token is kept). */
  eosTokenIds?: number[];
  /** Generation of a row ends once the decoded generated text contains one of these (e.g. a closing code fence). */
  stopStrings?: string[];
  /** Generation of a row ends once this returns true for its decoded generated text (e.g. a complete code block). */
  stopWhen?: (text: string) => boolean;
  /** Detokenizer, required with stopStrings or stopWhen. */
  decode?: (ids: number[]) => string;
}

export type FinishReason = "eos" | "stop" | "length";

export interface Generation {
  /** Generated token ids (the prompt excluded). */
  tokens: Int32Array;
  /** log π of each sampled token under the full temperature-scaled distribution (not the top-p/top-k truncation). */
  logp: Float32Array;
  /** Entropy of the temperature-scaled distribution each token was sampled from. */
  entropy: Float32Array;
  finishReason: FinishReason;
}

export interface Engine {
  info(): EngineInfo;
  /** Continue each prompt (token ids); one result per prompt, in order. */
  generate?(prompts: Int32Array[], sampling: SamplingOptions, stop?: StopOptions): Promise<Generation[]>;
  score(batch: TokenBatch, opts?: ScoreOptions): Promise<ScoreResult>;
  /** Replace all weights (HF names and layout); throws naming a missing or misshapen tensor. */
  setWeights(weights: Weights): Promise<void>;
  dispose(): void;
}

export interface TrainableEngine extends Engine {
  step(batch: TokenBatch, coefficients: StepCoefficients, opts?: StepOptions): Promise<StepResult>;
  /** A copy of the current weights (HF names and layout). */
  weights(): Promise<Weights>;
}

/** Validate a token batch against the vocabulary; errors name the tensor and its shape. */
export function checkTokenBatch(batch: TokenBatch, vocabSize: number, name = "tokens"): void {
  const { B, T, tokens } = batch;
  if (!Number.isInteger(B) || B <= 0 || !Number.isInteger(T) || T <= 0) {
    throw new EngineInputError(`${name}: B and T must be positive integers, got B=${B}, T=${T}`);
  }
  if (!tokens || tokens.length !== B * T) {
    throw new EngineInputError(`${name}: expected [B*T] = [${B}*${T}] = ${B * T} ids, got ${tokens ? tokens.length : "nothing"}`);
  }
  for (let i = 0; i < tokens.length; i++) {
    const id = tokens[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new EngineInputError(`${name} [${B}, ${T}]: id ${id} at row ${Math.floor(i / T)}, slot ${i % T} is outside the vocabulary [0, ${vocabSize})`);
    }
  }
}

export function checkCoefficient(name: string, arr: Float32Array | undefined, B: number, T: number): void {
  if (!arr || arr.length !== B * T) {
    throw new EngineInputError(`${name}: expected [B*T] = [${B}*${T}] = ${B * T} values, got ${arr ? arr.length : "nothing"}`);
  }
  for (let i = 0; i < arr.length; i++) {
    if (!Number.isFinite(arr[i])) throw new EngineInputError(`${name} [${B}, ${T}]: non-finite value ${arr[i]} at row ${Math.floor(i / T)}, slot ${i % T}`);
  }
}

/** Deterministic uniform samples in (0, 1): sfc32 seeded through splitmix32 from any integer seed. */
export function seededUniform(seed: number): () => number {
  let sm = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  const splitmix32 = (): number => {
    sm = (sm + 0x9e3779b9) >>> 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix32(), b = splitmix32(), c = splitmix32(), d = 1;
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32();
  return () => (u32() + 0.5) / 4294967296;
}

/** Deterministic normal samples (Box-Muller over `seededUniform`), for seeded initialisation. */
export function seededNormal(seed: number): () => number {
  const uniform = seededUniform(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) { const r = spare; spare = null; return r; }
    const r = Math.sqrt(-2 * Math.log(uniform())), th = 2 * Math.PI * uniform();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}

/** Seeded initial weights in HF layout: norms 1, biases 0, matrices N(0, std). */
export function initWeights(cfg: ArchConfig, seed: number, std = 0.02): Weights {
  const normal = seededNormal(seed);
  const out: Weights = new Map();
  for (const s of parameterSpecs(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (s.kind === "norm") data.fill(1);
    else if (s.kind === "matrix") for (let i = 0; i < n; i++) data[i] = normal() * std;
    out.set(s.name, { shape: [...s.shape], data });
  }
  return out;
}

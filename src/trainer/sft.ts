// Supervised fine-tuning on tool-use traces, through the same surrogate the RL step uses: with
// w_t = -m_t / Σm on the policy-written tokens (m = 1) and v = 0, the engine's step descends the mean
// negative log-likelihood of those tokens. Prompt and observation tokens are context only (m = 0), as in RL.
import type { TrainableEngine } from "../engine/engine.js";
import type { Trace } from "../agent/traces.js";

export interface SftExample {
  /** Token ids [L]. */
  ids: Int32Array;
  /** 1 where the token is written by the policy (trained on) [L]. */
  target: Uint8Array;
}

/**
 * Token ids of a trace, segment by segment, exactly as a rollout builds its context: the prompt and each
 * observation are tokenized on their own; policy turns too (a rollout keeps the sampled ids, which a
 * trained policy produces along these same boundaries). An end-of-sequence token closes the response.
 */
export function encodeTrace(trace: Trace, tok: { encode(text: string): number[] }, eosId: number): SftExample {
  const ids: number[] = [];
  const target: number[] = [];
  const push = (xs: number[], t: number) => { for (const x of xs) { ids.push(x); target.push(t); } };
  push(tok.encode(trace.prompt), 0);
  for (const s of trace.segments) push(tok.encode(s.text), s.role === "policy" ? 1 : 0);
  push([eosId], 1);
  return { ids: Int32Array.from(ids), target: Uint8Array.from(target) };
}

export interface SftStepResult {
  /** Mean negative log-likelihood of the target tokens before the update (nats/token). */
  loss: number;
  tokens: number;
  gradNorm: number;
  ms: number;
}

/** One optimizer step on a batch of examples (right-padded with `padId`). */
export async function sftStep(engine: TrainableEngine, batch: ReadonlyArray<SftExample>, padId: number, microBatch?: number): Promise<SftStepResult> {
  const t0 = performance.now();
  const B = batch.length;
  const T = batch.reduce((m, e) => Math.max(m, e.ids.length), 1);
  const tokens = new Int32Array(B * T).fill(padId);
  const w = new Float32Array(B * T);
  const v = new Float32Array(B * T);
  let n = 0;
  for (const e of batch) for (let t = 1; t < e.ids.length; t++) n += e.target[t];
  batch.forEach((e, b) => {
    tokens.set(e.ids, b * T);
    for (let t = 1; t < e.ids.length; t++) if (e.target[t]) w[b * T + t] = -1 / n;
  });
  const res = await engine.step({ B, T, tokens }, { w, v }, { microBatch });
  return { loss: res.surrogate, tokens: n, gradNorm: res.gradNorm, ms: performance.now() - t0 };
}

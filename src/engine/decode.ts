// The generation loop both engines share: prompt checks, left padding, seeded per-row sampling, stop
// conditions and the bookkeeping of finished rows. An engine supplies one forward pass with a KV cache.
import {
  checkTokenBatch, EngineInputError, seededUniform,
  type FinishReason, type Generation, type SamplingOptions, type StopOptions,
} from "./engine.js";
import { argmax, sampleFrom } from "./sampling.js";

/** Additive mask value for padded keys (both engines' graphs use the same). */
export const DECODE_MASK_VALUE = -1e9;

/**
 * One forward pass over S new tokens of each of B rows, appending to the engine's own KV cache (the first
 * call starts it empty). ids, positions [B*S]; keyMask [B*total] additive over every key so far (past + new).
 * Returns the temperature-scaled log-probabilities [B*V] and entropy [B] at each row's last new position.
 * `total` never exceeds the `maxTotal` the pass was made for.
 */
export type DecodePass = (ids: Int32Array, positions: Int32Array, keyMask: Float32Array, B: number, S: number, total: number) =>
  Promise<{ logprobs: Float32Array; entropy: Float32Array }>;

/**
 * Batched generation. Prompts are left-padded to a common length; padded slots are masked as keys and each
 * row's positions start at 0 at its first real token, so a row's logits equal those of the full forward pass
 * over that row alone. Finished rows keep decoding (ignored) until every row is done or the budget is spent.
 * `temperature` 0 is greedy, with log-probabilities at temperature 1.
 */
export async function decodeLoop(
  prompts: Int32Array[], sampling: SamplingOptions, stop: StopOptions, vocabSize: number, maxPositions: number,
  pass: (temperature: number, maxTotal: number) => DecodePass,
): Promise<Generation[]> {
  const B = prompts.length;
  if (B === 0) return [];
  const V = vocabSize;
  prompts.forEach((p, r) => {
    if (p.length === 0) throw new EngineInputError(`prompts[${r}]: empty prompt`);
    checkTokenBatch({ B: 1, T: p.length, tokens: p }, V, `prompts[${r}]`);
  });
  const temperature = sampling.temperature ?? 1;
  const greedy = temperature === 0;
  if (!(temperature >= 0)) throw new EngineInputError(`sampling.temperature: must be ≥ 0, got ${temperature}`);
  const topP = sampling.topP ?? 1, topK = sampling.topK ?? 0, seed = sampling.seed ?? 0;
  if (!(topP > 0 && topP <= 1)) throw new EngineInputError(`sampling.topP: must be in (0, 1], got ${topP}`);
  if ((stop.stopStrings?.length || stop.stopWhen) && !stop.decode) throw new EngineInputError("stop.stopStrings and stop.stopWhen need stop.decode (a detokenizer)");
  const L = Math.max(...prompts.map((p) => p.length));
  const budget = Math.min(sampling.maxNewTokens, maxPositions - L);
  if (budget <= 0) throw new EngineInputError(`prompts: longest prompt (${L} tokens) leaves no room under maxPositions ${maxPositions} or maxNewTokens ${sampling.maxNewTokens}`);
  const eos = new Set(stop.eosTokenIds ?? []);
  const rowSeeds = sampling.rowSeeds;
  if (rowSeeds !== undefined) {
    if (rowSeeds.length !== prompts.length) throw new EngineInputError(`sampling.rowSeeds: expected one seed per prompt (${prompts.length}), got ${rowSeeds.length}`);
    for (let r = 0; r < rowSeeds.length; r++) {
      if (!Number.isSafeInteger(rowSeeds[r])) throw new EngineInputError(`sampling.rowSeeds[${r}]: expected an integer, got ${rowSeeds[r]}`);
    }
  }
  const rand = prompts.map((_, r) => seededUniform(rowSeeds ? rowSeeds[r] : seed * 1_000_003 + r));
  const pad = prompts.map((p) => L - p.length);
  const run = pass(greedy ? 1 : temperature, L + budget);

  const out = prompts.map(() => ({ tokens: [] as number[], logp: [] as number[], entropy: [] as number[], finish: null as FinishReason | null }));
  let ids = new Int32Array(B * L), pos = new Int32Array(B * L);
  let keyMask = new Float32Array(B * L);
  for (let r = 0; r < B; r++) {
    for (let j = 0; j < L; j++) {
      const real = j >= pad[r];
      ids[r * L + j] = real ? prompts[r][j - pad[r]] : 0;
      pos[r * L + j] = real ? j - pad[r] : 0;
      keyMask[r * L + j] = real ? 0 : DECODE_MASK_VALUE;
    }
  }
  let S = L, total = L;
  const texts = stop.stopStrings?.length ? stop.stopStrings : null;
  for (let step = 0; step < budget; step++) {
    const { logprobs: lp, entropy: ent } = await run(ids, pos, keyMask, B, S, total);
    const next = new Int32Array(B), nextPos = new Int32Array(B);
    let live = 0;
    for (let r = 0; r < B; r++) {
      const o = out[r];
      if (o.finish) continue;
      const row = lp.subarray(r * V, (r + 1) * V);
      const tok = greedy ? argmax(row) : sampleFrom(row, topK, topP, rand[r]());
      o.tokens.push(tok); o.logp.push(row[tok]); o.entropy.push(ent[r]);
      if (eos.has(tok)) o.finish = "eos";
      else if (texts || stop.stopWhen) {
        const text = stop.decode!(o.tokens);
        if ((texts && texts.some((s) => text.includes(s))) || stop.stopWhen?.(text)) o.finish = "stop";
      }
      if (!o.finish && o.tokens.length >= budget) o.finish = "length";
      if (!o.finish) live++;
      next[r] = tok;
      nextPos[r] = total - pad[r];
    }
    if (live === 0) break;
    const grown = new Float32Array(B * (total + 1));
    for (let r = 0; r < B; r++) grown.set(keyMask.subarray(r * total, (r + 1) * total), r * (total + 1));
    keyMask = grown;
    total++;
    ids = next; pos = nextPos; S = 1;
  }
  return out.map((o) => ({
    tokens: Int32Array.from(o.tokens), logp: Float32Array.from(o.logp), entropy: Float32Array.from(o.entropy), finishReason: o.finish ?? "length",
  }));
}

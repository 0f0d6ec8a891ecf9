// `taorl score`: per-token log-probabilities and entropies of token sequences under a model folder.
import { readFileSync } from "node:fs";
import { EngineInputError, type Engine, type TrainableEngine } from "../engine/engine.js";
import { OrtWebEngine } from "../engine/ort-web.js";
import { TfjsWasmEngine } from "../engine/tfjs-wasm.js";
import { loadCheckpoint } from "../model/checkpoint.js";
import { ModelConfigError, type ArchConfig, type Weights } from "../model/config.js";
import { SafetensorsError } from "../model/safetensors.js";
import { TokenizerError } from "../model/tokenizer.js";
import { UsageError, parseArgs } from "./args.js";
import { writeAtomic } from "./shape.js";

export const SCORE_USAGE = `taorl score --model DIR --in tokens.jsonl [--out scores.jsonl] [--engine ort|tfjs]

  Reads one {"tokens": [id, ...]} per line and writes one {"logprobs": [...], "entropies": [...]} per
  line, each of length len(tokens) - 1: logprobs[t-1] = log p(tokens[t] | tokens[<t]) and entropies[t-1]
  the entropy of the next-token distribution after tokens[<t], at temperature 1. --engine: the inference
  engine (onnxruntime-web, default) or the training engine (tfjs-wasm). --out is written atomically.`;

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/** A model folder's problems (missing, malformed, mismatched files) become usage errors: exit code 2. */
export function asUsageError(e: unknown): never {
  if (e instanceof ModelConfigError || e instanceof SafetensorsError || e instanceof TokenizerError || e instanceof EngineInputError) {
    throw new UsageError(e.message);
  }
  throw e;
}

/** Rows scored per engine call; rows are grouped by length so padding stays small. */
const BATCH_ROWS = 16;

/** Token rows of a JSONL file, each checked against the vocabulary and the longest position. */
export function parseTokenLines(text: string, path: string, config: ArchConfig): Int32Array[] {
  const rows: Int32Array[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${path} line ${i + 1}`;
    let rec: unknown;
    try { rec = JSON.parse(line); } catch (e) { throw new UsageError(`${where}: not valid JSON (${(e as Error).message})`); }
    const tokens = (rec as { tokens?: unknown } | null)?.tokens;
    if (!Array.isArray(tokens) || tokens.length === 0) throw new UsageError(`${where}: expected {"tokens": [id, ...]} with at least one id`);
    tokens.forEach((id, t) => {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= config.vocabSize) {
        throw new UsageError(`${where}: tokens[${t}] = ${JSON.stringify(id)} is not a token id in [0, ${config.vocabSize})`);
      }
    });
    if (tokens.length > config.maxPositionEmbeddings) {
      throw new UsageError(`${where}: ${tokens.length} tokens exceed max_position_embeddings ${config.maxPositionEmbeddings}`);
    }
    rows.push(Int32Array.from(tokens as number[]));
  });
  return rows;
}

export async function createEngine(kind: string, config: ArchConfig, weights: Weights, maxPositions: number): Promise<Engine | TrainableEngine> {
  if (kind === "tfjs") return TfjsWasmEngine.create(config, { weights });
  return OrtWebEngine.create(config, { weights, maxPositions, weightsMode: "initializers" });
}

/** Score every row (batched by length, right-padded); per row, logprobs and entropies of length len - 1. */
export async function scoreRows(engine: Engine, rows: Int32Array[]): Promise<Array<{ logprobs: Float32Array; entropies: Float32Array }>> {
  const out: Array<{ logprobs: Float32Array; entropies: Float32Array }> = new Array(rows.length);
  const order = rows.map((_, i) => i).sort((a, b) => rows[a].length - rows[b].length);
  for (let i0 = 0; i0 < order.length; i0 += BATCH_ROWS) {
    const idx = order.slice(i0, i0 + BATCH_ROWS);
    const B = idx.length, T = Math.max(...idx.map((i) => rows[i].length));
    const tokens = new Int32Array(B * T);
    idx.forEach((i, b) => tokens.set(rows[i], b * T));
    const s = await engine.score({ B, T, tokens });
    idx.forEach((i, b) => {
      const n = rows[i].length;
      out[i] = { logprobs: s.logp.slice(b * T + 1, b * T + n), entropies: s.entropy.slice(b * T + 1, b * T + n) };
    });
  }
  return out;
}

export async function runScore(argv: readonly string[], io: CliIo): Promise<{ lines: number; engine: string }> {
  const { opts, rest } = parseArgs(argv, { values: ["model", "in", "out", "engine"], flags: [] });
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  if (!opts.model) throw new UsageError("--model is required");
  if (!opts.in) throw new UsageError("--in is required");
  const kind = opts.engine ?? "ort";
  if (kind !== "ort" && kind !== "tfjs") throw new UsageError(`--engine: expected ort or tfjs, got ${kind}`);
  let text: string;
  try {
    text = readFileSync(opts.in, "utf8");
  } catch (e) {
    throw new UsageError(`--in ${opts.in}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const { config, weights } = await loadCheckpoint(opts.model).catch(asUsageError);
  const rows = parseTokenLines(text, opts.in, config);
  const longest = Math.max(2, ...rows.map((r) => r.length));
  const engine = await createEngine(kind, config, weights, longest);
  try {
    const scored = await scoreRows(engine, rows).catch(asUsageError);
    const body = scored.map((s) => JSON.stringify({ logprobs: Array.from(s.logprobs), entropies: Array.from(s.entropies) })).join("\n") + (scored.length ? "\n" : "");
    if (opts.out) {
      writeAtomic(opts.out, body);
      io.stderr(`scored ${rows.length} sequences with ${engine.info().name}; wrote ${opts.out}\n`);
    } else io.stdout(body);
    return { lines: rows.length, engine: engine.info().name };
  } finally {
    engine.dispose();
  }
}

// `taorl generate`: continue a text prompt with a model folder's policy (onnxruntime-web, KV cache).
import { OrtWebEngine } from "../engine/ort-web.js";
import { loadModelFolder } from "../model/checkpoint.js";
import { UsageError, parseArgs } from "./args.js";
import { asUsageError, type CliIo } from "./score.js";

export const GENERATE_USAGE = `taorl generate --model DIR --prompt TEXT [--max-new-tokens 64] [--temperature 1] [--top-p 1] [--top-k 0] [--seed 0] [--chat]

  Encodes TEXT with the folder's tokenizer (--chat: as one user turn through its chat template), samples
  up to --max-new-tokens tokens (temperature 0 = greedy; stops at the end-of-sequence token), and prints
  the generated text on stdout; token count, finish reason and speed go to stderr.`;

function num(opts: Record<string, string>, name: string, fallback: number, ok: (x: number) => boolean, range: string): number {
  if (opts[name] === undefined) return fallback;
  const x = Number(opts[name]);
  if (!Number.isFinite(x) || !ok(x)) throw new UsageError(`--${name}: expected ${range}, got ${opts[name]}`);
  return x;
}

export interface GenerateRun {
  text: string;
  promptTokens: number;
  tokens: Int32Array;
  finishReason: string;
}

export async function runGenerate(argv: readonly string[], io: CliIo): Promise<GenerateRun> {
  const { opts, flags, rest } = parseArgs(argv, { values: ["model", "prompt", "max-new-tokens", "temperature", "top-p", "top-k", "seed"], flags: ["chat"] });
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  if (!opts.model) throw new UsageError("--model is required");
  if (opts.prompt === undefined) throw new UsageError("--prompt is required");
  const maxNewTokens = num(opts, "max-new-tokens", 64, (x) => Number.isInteger(x) && x >= 1, "an integer ≥ 1");
  const temperature = num(opts, "temperature", 1, (x) => x >= 0, "a number ≥ 0");
  const topP = num(opts, "top-p", 1, (x) => x > 0 && x <= 1, "a number in (0, 1]");
  const topK = num(opts, "top-k", 0, (x) => Number.isInteger(x) && x >= 0, "an integer ≥ 0");
  const seed = num(opts, "seed", 0, Number.isInteger, "an integer");
  const { config, weights, tokenizer } = await loadModelFolder(opts.model).catch(asUsageError);
  const text = flags.has("chat") ? tokenizer.applyChatTemplate([{ role: "user", content: opts.prompt }], { addGenerationPrompt: true }) : opts.prompt;
  const prompt = Int32Array.from(tokenizer.encode(text));
  if (prompt.length === 0) throw new UsageError("--prompt: encodes to no tokens");
  if (prompt.length >= config.maxPositionEmbeddings) {
    throw new UsageError(`--prompt: ${prompt.length} tokens leave no room under max_position_embeddings ${config.maxPositionEmbeddings}`);
  }
  const maxPositions = Math.min(config.maxPositionEmbeddings, prompt.length + maxNewTokens);
  const engine = await OrtWebEngine.create(config, { weights, maxPositions, weightsMode: "initializers" });
  try {
    const eos = [...new Set([...config.eosTokenIds, ...(tokenizer.eosTokenId === null ? [] : [tokenizer.eosTokenId])])];
    const t0 = performance.now();
    const [g] = await engine.generate([prompt], { maxNewTokens, temperature, topP, topK, seed }, { eosTokenIds: eos }).catch(asUsageError);
    const seconds = (performance.now() - t0) / 1000;
    const out = tokenizer.decode(g.tokens, { skipSpecialTokens: true });
    io.stdout(`${out}\n`);
    io.stderr(`${g.tokens.length} tokens (${g.finishReason}) after a ${prompt.length}-token prompt, ${(g.tokens.length / seconds).toFixed(0)} tok/s\n`);
    return { text: out, promptTokens: prompt.length, tokens: g.tokens, finishReason: g.finishReason };
  } finally {
    engine.dispose();
  }
}

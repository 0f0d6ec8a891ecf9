// A Hugging Face checkpoint folder on disk: config.json + model.safetensors (or a sharded
// model.safetensors.index.json). Node only (node:fs); the bytes-level code lives in safetensors.ts.
import { readFile, writeFile, rename, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseHfConfig, toHfConfig, checkWeights, parameterSpecs, ModelConfigError, type ArchConfig, type Weights } from "./config.js";
import { TextTokenizer, TokenizerError } from "./tokenizer.js";
import { writeSafetensors, SafetensorsError, type SafeDtype, type TensorToWrite } from "./safetensors.js";
import { checkTokenizerFits, finishWeights, weightsFromSafetensors } from "./files.js";

export { weightsFromSafetensors };

/** A file of a checkpoint folder: its bytes, or an error naming the folder and what is missing. */
async function readFolderFile(dir: string, name: string, what: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, name));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !existsSync(dir)) throw new ModelConfigError(`${dir}: no such model folder`);
    if (code === "ENOENT") throw new ModelConfigError(`${dir}: no ${name} (${what})`);
    throw new ModelConfigError(`${join(dir, name)}: ${(e as Error).message}`);
  }
}

/** Re-throw an error of the same class with the file it is about in front of its message. */
function inFile(path: string, e: unknown): never {
  if (e instanceof SafetensorsError) throw new SafetensorsError(`${path}: ${e.message}`);
  if (e instanceof ModelConfigError) throw new ModelConfigError(`${path}: ${e.message}`);
  throw e;
}

/** Read config.json and the weights of a checkpoint folder, validated against each other; errors name the file. */
export async function loadCheckpoint(dir: string): Promise<{ config: ArchConfig; weights: Weights }> {
  const configPath = join(dir, "config.json");
  let raw: unknown;
  try {
    raw = JSON.parse((await readFolderFile(dir, "config.json", "not a Hugging Face model folder")).toString("utf8"));
  } catch (e) {
    if (e instanceof SyntaxError) throw new ModelConfigError(`${configPath}: not valid JSON (${e.message})`);
    throw e;
  }
  let config: ArchConfig;
  try { config = parseHfConfig(raw); } catch (e) { inFile(dir, e); }
  const weights: Weights = new Map();
  const index = join(dir, "model.safetensors.index.json");
  let files: string[];
  if (existsSync(index)) {
    const map = (JSON.parse(await readFile(index, "utf8")) as { weight_map?: Record<string, string> }).weight_map;
    if (!map) throw new SafetensorsError(`${index}: no "weight_map"`);
    files = [...new Set(Object.values(map))];
  } else files = ["model.safetensors"];
  for (const file of files) {
    const bytes = new Uint8Array(await readFolderFile(dir, file, "the weights"));
    try { weightsFromSafetensors(bytes, weights); } catch (e) { inFile(join(dir, file), e); }
  }
  try { finishWeights(config, weights); } catch (e) { inFile(join(dir, files.length === 1 ? files[0] : "model.safetensors.index.json"), e); }
  return { config, weights };
}

async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Write config.json and model.safetensors (each file atomically); `extra` adds more files (name → bytes). */
export async function saveCheckpoint(
  dir: string, config: ArchConfig, weights: Weights,
  opts: { dtype?: SafeDtype; extra?: Record<string, Uint8Array | string> } = {},
): Promise<void> {
  checkWeights(config, weights);
  await mkdir(dir, { recursive: true });
  const tensors = new Map<string, TensorToWrite>();
  for (const s of parameterSpecs(config)) {
    const w = weights.get(s.name)!;
    tensors.set(s.name, { shape: w.shape, data: w.data, dtype: opts.dtype ?? "F32" });
  }
  await atomicWrite(join(dir, "model.safetensors"), writeSafetensors(tensors, { format: "pt" }));
  // torch_dtype names the dtype the weights are stored in, as Hugging Face writes it
  const torchDtype = { F32: "float32", F16: "float16", BF16: "bfloat16" }[opts.dtype ?? "F32"];
  await atomicWrite(join(dir, "config.json"), JSON.stringify({ ...toHfConfig(config), torch_dtype: torchDtype }, null, 2) + "\n");
  for (const [name, data] of Object.entries(opts.extra ?? {})) await atomicWrite(join(dir, name), data);
}

/** The tokenizer of a checkpoint folder: tokenizer.json and, when present, tokenizer_config.json. */
export async function loadTokenizer(dir: string): Promise<TextTokenizer> {
  const path = join(dir, "tokenizer.json");
  if (!existsSync(path)) throw new TokenizerError(`${path}: not found`);
  let json: Record<string, unknown>, config: Record<string, unknown> = {};
  try {
    json = JSON.parse(await readFile(path, "utf8"));
    const cfgPath = join(dir, "tokenizer_config.json");
    if (existsSync(cfgPath)) config = JSON.parse(await readFile(cfgPath, "utf8"));
  } catch (e) {
    throw new TokenizerError(`${dir}: tokenizer files are not valid JSON (${(e as Error).message})`);
  }
  return new TextTokenizer(json, config);
}

/**
 * A model folder for inference: config.json, the weights and the tokenizer, checked against each other.
 * The tokenizer may know fewer ids than vocab_size (published checkpoints pad the embedding), never more:
 * an id at or past vocab_size would have no embedding row.
 */
export async function loadModelFolder(dir: string): Promise<{ config: ArchConfig; weights: Weights; tokenizer: TextTokenizer }> {
  const { config, weights } = await loadCheckpoint(dir);
  const tokenizer = await loadTokenizer(dir);
  checkTokenizerFits(config, tokenizer, dir);
  return { config, weights, tokenizer };
}

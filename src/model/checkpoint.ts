// A Hugging Face checkpoint folder on disk: config.json + model.safetensors (or a sharded
// model.safetensors.index.json). Node only (node:fs); the bytes-level code lives in safetensors.ts.
import { readFile, writeFile, rename, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseHfConfig, toHfConfig, checkWeights, parameterSpecs, type ArchConfig, type Weights } from "./config.js";
import { TextTokenizer, TokenizerError } from "./tokenizer.js";
import { readSafetensors, toFloat32, writeSafetensors, SafetensorsError, type SafeDtype, type TensorToWrite } from "./safetensors.js";

/** Weights from safetensors bytes (every tensor widened to float32). */
export function weightsFromSafetensors(bytes: Uint8Array, into: Weights = new Map()): Weights {
  const f = readSafetensors(bytes);
  for (const [name, t] of f.tensors) into.set(name, { shape: t.shape, data: toFloat32(t) });
  return into;
}

/** Read config.json and the weights of a checkpoint folder, validated against each other. */
export async function loadCheckpoint(dir: string): Promise<{ config: ArchConfig; weights: Weights }> {
  const config = parseHfConfig(JSON.parse(await readFile(join(dir, "config.json"), "utf8")));
  const weights: Weights = new Map();
  const index = join(dir, "model.safetensors.index.json");
  if (existsSync(index)) {
    const map = (JSON.parse(await readFile(index, "utf8")) as { weight_map?: Record<string, string> }).weight_map;
    if (!map) throw new SafetensorsError(`${index}: no "weight_map"`);
    for (const file of new Set(Object.values(map))) weightsFromSafetensors(new Uint8Array(await readFile(join(dir, file))), weights);
  } else {
    weightsFromSafetensors(new Uint8Array(await readFile(join(dir, "model.safetensors"))), weights);
  }
  for (const name of [...weights.keys()]) if (name.endsWith("rotary_emb.inv_freq")) weights.delete(name);
  if (config.tieWordEmbeddings) weights.delete("lm_head.weight");
  checkWeights(config, weights);
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
  await atomicWrite(join(dir, "config.json"), JSON.stringify(toHfConfig(config), null, 2) + "\n");
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

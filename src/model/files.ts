// A model from the bytes of its files (config.json, model.safetensors, tokenizer.json, tokenizer_config.json),
// checked against each other as checkpoint.ts checks a folder. Runtime-free: the edge bundle gets the
// files as modules of the worker, not from a disk.
import { checkWeights, ModelConfigError, parseHfConfig, type ArchConfig, type Weights } from "./config.js";
import { readSafetensors, toFloat32 } from "./safetensors.js";
import { TextTokenizer, TokenizerError } from "./tokenizer.js";

type Bytes = ArrayBuffer | Uint8Array;

export interface ModelFiles {
  config: Bytes;
  /** One safetensors file (sharded checkpoints load from a folder, checkpoint.ts). */
  weights: Bytes;
  tokenizer: Bytes;
  tokenizerConfig?: Bytes;
}

const bytes = (b: Bytes) => (b instanceof Uint8Array ? b : new Uint8Array(b));

/** Weights from safetensors bytes (every tensor widened to float32). */
export function weightsFromSafetensors(data: Uint8Array, into: Weights = new Map()): Weights {
  const f = readSafetensors(data);
  for (const [name, t] of f.tensors) into.set(name, { shape: t.shape, data: toFloat32(t) });
  return into;
}

/** Drops what checkpoints carry beside the parameters (rotary buffers, a tied lm_head), then checks them. */
export function finishWeights(config: ArchConfig, weights: Weights): Weights {
  for (const name of [...weights.keys()]) if (name.endsWith("rotary_emb.inv_freq")) weights.delete(name);
  if (config.tieWordEmbeddings) weights.delete("lm_head.weight");
  checkWeights(config, weights);
  return weights;
}

/**
 * The tokenizer may know fewer ids than vocab_size (published checkpoints pad the embedding), never more:
 * an id at or past vocab_size would have no embedding row.
 */
export function checkTokenizerFits(config: ArchConfig, tokenizer: TextTokenizer, where: string): void {
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new TokenizerError(`${where}: tokenizer.json has ${tokenizer.vocabSize} ids but config.json's vocab_size is ${config.vocabSize}: ids ${config.vocabSize}..${tokenizer.vocabSize - 1} would have no embedding (tokenizer from another model?)`);
  }
}

/** A model for inference from its files' bytes; errors name `name` and the file. */
export function modelFromFiles(files: ModelFiles, name = "model"): { config: ArchConfig; weights: Weights; tokenizer: TextTokenizer } {
  const text = new TextDecoder();
  const parse = (b: Bytes, file: string) => {
    try {
      return JSON.parse(text.decode(bytes(b))) as Record<string, unknown>;
    } catch (e) {
      throw new ModelConfigError(`${name}/${file}: not valid JSON (${(e as Error).message})`);
    }
  };
  const config = parseHfConfig(parse(files.config, "config.json"));
  const weights = finishWeights(config, weightsFromSafetensors(bytes(files.weights)));
  const tokenizer = new TextTokenizer(parse(files.tokenizer, "tokenizer.json"), files.tokenizerConfig ? parse(files.tokenizerConfig, "tokenizer_config.json") : {});
  checkTokenizerFits(config, tokenizer, name);
  return { config, weights, tokenizer };
}

// A tiny random checkpoint in the Hugging Face layout (config.json, model.safetensors, tokenizer.json and
// tokenizer_config.json of the closed-vocabulary tokenizer), for end-to-end tests of folder loading.
import { saveCheckpoint } from "../../src/model/checkpoint.js";
import type { ArchConfig, Weights } from "../../src/model/config.js";
import { closedVocabTokenizer, TextTokenizer } from "../../src/model/tokenizer.js";
import { randomWeights, tinyConfig } from "../engine/naive.js";

export const TINY_SPEC = closedVocabTokenizer({ chars: "abcdefghijklmnopqrstuvwxyz0123456789 \n.,:()+-*/=`", words: ["```", "print"] });
export const tinyTokenizer = new TextTokenizer(TINY_SPEC.tokenizerJson, TINY_SPEC.tokenizerConfig);

/** Writes the folder; vocab_size is the tokenizer's unless `over` says otherwise. */
export async function writeTinyFolder(dir: string, over: Record<string, unknown> = {}, seed = 3): Promise<{ config: ArchConfig; weights: Weights }> {
  const config = tinyConfig({ vocab_size: tinyTokenizer.vocabSize, max_position_embeddings: 128, bos_token_id: 2, eos_token_id: 3, ...over });
  const weights = randomWeights(config, seed, 0.3);
  await saveCheckpoint(dir, config, weights, {
    extra: { "tokenizer.json": JSON.stringify(TINY_SPEC.tokenizerJson), "tokenizer_config.json": JSON.stringify(TINY_SPEC.tokenizerConfig) },
  });
  return { config, weights };
}

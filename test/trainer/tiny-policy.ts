// A tiny real policy for trainer tests: a small Llama taught by SFT to answer \boxed{1} or \boxed{2}
// about equally, so sampled groups have mixed rewards. Written as a Hugging Face folder.
import { join } from "node:path";
import { TfjsWasmEngine } from "../../src/engine/tfjs-wasm.js";
import { saveCheckpoint } from "../../src/model/checkpoint.js";
import { closedVocabTokenizer, TextTokenizer } from "../../src/model/tokenizer.js";
import { buildPrompt } from "../../src/agent/prompt.js";
import type { TaskSource } from "../../src/trainer/loop.js";
import { formatObservation } from "../../src/sandbox/tir.js";
import { tinyConfig } from "../engine/naive.js";

const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n.,:;!?'\"()[]{}<>+-*/=_%^&|\\`#$@~";
const spec = closedVocabTokenizer({ chars, words: ["```", "boxed", "python"], specials: ["<|im_start|>", "<|im_end|>"] });
export const tok = new TextTokenizer(spec.tokenizerJson, spec.tokenizerConfig);
const V = Object.keys((spec.tokenizerJson.model as { vocab: object }).vocab).length;

export const question = (i: number) => `Say one (${i}).`;
/** Problems whose answer is 1, one level. */
export const tasks: TaskSource = (_sampler, seed, step, count) =>
  Array.from({ length: count }, (_, k) => ({ id: `q${step}-${k}-${seed % 7}`, question: question((step * count + k) % 10), answer: "1", level: 1 }));

/** Writes the SFT'd tiny policy to `root/model` and returns that folder. */
export async function makeTinyPolicy(root: string): Promise<string> {
  const model = join(root, "model");
  const cfg = tinyConfig({ vocab_size: V, hidden_size: 32, intermediate_size: 64, max_position_embeddings: 256 });
  const engine = await TfjsWasmEngine.create(cfg, { seed: 1, optim: { lr: 3e-3, weight_decay: 0 } });
  const seqs = Array.from({ length: 8 }, (_, i) => {
    const prompt = tok.encode(buildPrompt(question(i)));
    const target = [...tok.encode(`\\boxed{${i % 2 ? 2 : 1}}`), tok.eosTokenId!];
    return { ids: [...prompt, ...target], from: prompt.length };
  });
  const T = Math.max(...seqs.map((s) => s.ids.length));
  const tokens = new Int32Array(8 * T), w = new Float32Array(8 * T), v = new Float32Array(8 * T);
  const n = seqs.reduce((a, s) => a + s.ids.length - s.from, 0);
  seqs.forEach((s, b) => s.ids.forEach((id, t) => { tokens[b * T + t] = id; if (t >= s.from) w[b * T + t] = -1 / n; }));
  for (let i = 0; i < 60; i++) await engine.step({ B: 8, T, tokens }, { w, v });
  await saveCheckpoint(model, cfg, await engine.weights(), {
    extra: { "tokenizer.json": JSON.stringify(spec.tokenizerJson), "tokenizer_config.json": JSON.stringify(spec.tokenizerConfig) },
  });
  engine.dispose();
  return model;
}

/**
 * A tiny policy that uses the tool: taught to write ```python print(1) ``` (or print(2)), then, after the
 * observation, the printed value boxed. Groups mix answers 1 and 2, and every trajectory makes tool calls.
 * `maxPositions` (rotary, so the weights do not depend on it): room for longer prompts, e.g. the task family's.
 */
export async function makeToolPolicy(root: string, maxPositions = 256): Promise<string> {
  const model = join(root, "tool-model");
  const cfg = tinyConfig({ vocab_size: V, hidden_size: 32, intermediate_size: 64, max_position_embeddings: maxPositions });
  const engine = await TfjsWasmEngine.create(cfg, { seed: 2, optim: { lr: 3e-3, weight_decay: 0 } });
  const seqs = Array.from({ length: 8 }, (_, i) => {
    const v = i % 2 ? 2 : 1;
    const prompt = tok.encode(buildPrompt(question(i)));
    const code = tok.encode(`\`\`\`python\nprint(${v})\n\`\`\``);
    const obs = tok.encode(formatObservation({ status: "ok", stdout: `${v}\n`, stderr: "", elapsedMs: 0 }));
    const answer = [...tok.encode(`\\boxed{${v}}`), tok.eosTokenId!];
    const ids = [...prompt, ...code, ...obs, ...answer];
    const train: number[] = ids.map((_, t) => (t >= prompt.length && (t < prompt.length + code.length || t >= prompt.length + code.length + obs.length) ? 1 : 0));
    return { ids, train };
  });
  const T = Math.max(...seqs.map((s) => s.ids.length));
  const tokens = new Int32Array(8 * T), w = new Float32Array(8 * T), v = new Float32Array(8 * T);
  const n = seqs.reduce((a, s) => a + s.train.reduce((x, y) => x + y, 0), 0);
  seqs.forEach((s, b) => s.ids.forEach((id, t) => { tokens[b * T + t] = id; if (s.train[t]) w[b * T + t] = -1 / n; }));
  for (let i = 0; i < 80; i++) await engine.step({ B: 8, T, tokens }, { w, v });
  await saveCheckpoint(model, cfg, await engine.weights(), {
    extra: { "tokenizer.json": JSON.stringify(spec.tokenizerJson), "tokenizer_config.json": JSON.stringify(spec.tokenizerConfig) },
  });
  engine.dispose();
  return model;
}

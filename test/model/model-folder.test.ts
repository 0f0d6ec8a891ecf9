// A tiny random checkpoint end to end: an HF folder written to disk, loaded, generating text; and the same
// folder broken in each way a download or a copy breaks it, refused with an error naming file and tensor.
import { afterAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModelFolder } from "../../src/model/checkpoint.js";
import { ModelConfigError, parameterSpecs, parseHfConfig } from "../../src/model/config.js";
import { SafetensorsError, writeSafetensors } from "../../src/model/safetensors.js";
import { TokenizerError } from "../../src/model/tokenizer.js";
import { OrtWebEngine } from "../../src/engine/ort-web.js";
import { writeTinyFolder, TINY_SPEC, tinyTokenizer } from "./tiny-folder.js";

const dir = mkdtempSync(join(tmpdir(), "taorl-folder-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a tiny random HF checkpoint folder, end to end", () => {
  it("loads (config, weights, tokenizer) and generates text", async () => {
    const folder = join(dir, "good");
    await writeTinyFolder(folder);
    const { config, weights, tokenizer } = await loadModelFolder(folder);
    expect(config.vocabSize).toBe(tokenizer.vocabSize);
    const ox = await OrtWebEngine.create(config, { weights, maxPositions: 64 });
    const prompt = Int32Array.from(tokenizer.encode("print(2*3)"));
    const [g] = await ox.generate([prompt], { temperature: 1, seed: 7, maxNewTokens: 16 }, { eosTokenIds: config.eosTokenIds });
    ox.dispose();
    expect(g.tokens.length).toBeGreaterThan(0);
    expect([...g.tokens].every((id) => id >= 0 && id < config.vocabSize)).toBe(true);
    const text = tokenizer.decode(g.tokens, { skipSpecialTokens: true });
    expect(typeof text).toBe("string");
    expect([...g.logp].every((x) => x <= 0 && Number.isFinite(x))).toBe(true);
    console.log(`tiny folder generated ${g.tokens.length} tokens (${g.finishReason}): ${JSON.stringify(text)}`);
  });

  /** A copy of a good folder with one thing broken. */
  async function broken(name: string, breakIt: (folder: string) => void | Promise<void>, over: Record<string, unknown> = {}): Promise<string> {
    const folder = join(dir, name);
    await writeTinyFolder(folder, over);
    await breakIt(folder);
    return folder;
  }

  it("refuses truncated, incomplete and misshapen weights naming the file and the tensor", async () => {
    const truncated = await broken("truncated", (f) => {
      const bytes = readFileSync(join(f, "model.safetensors"));
      writeFileSync(join(f, "model.safetensors"), bytes.subarray(0, bytes.length - 100));
    });
    await expect(loadModelFolder(truncated)).rejects.toThrow(SafetensorsError);
    await expect(loadModelFolder(truncated)).rejects.toThrow(/truncated\/model\.safetensors: safetensors: tensor "model\.norm\.weight": data_offsets .* run past the end of the data .*truncated file/);

    const headerOnly = await broken("header-only", (f) => writeFileSync(join(f, "model.safetensors"), readFileSync(join(f, "model.safetensors")).subarray(0, 6)));
    await expect(loadModelFolder(headerOnly)).rejects.toThrow(/shorter than the 8-byte header length/);

    const write = (f: string, edit: (name: string, shape: number[]) => number[] | null) => {
      const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
      for (const s of parameterSpecs(parseHfConfig(JSON.parse(readFileSync(join(f, "config.json"), "utf8"))))) {
        const shape = edit(s.name, s.shape);
        if (shape) tensors.set(s.name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
      }
      writeFileSync(join(f, "model.safetensors"), writeSafetensors(tensors));
    };
    const missing = await broken("missing", (f) => write(f, (n, s) => (n === "model.layers.1.mlp.up_proj.weight" ? null : s)));
    await expect(loadModelFolder(missing)).rejects.toThrow(ModelConfigError);
    await expect(loadModelFolder(missing)).rejects.toThrow(/missing\/model\.safetensors: weights: missing tensor "model\.layers\.1\.mlp\.up_proj\.weight" \(expected shape \[64, 32\]\)/);
    const misshapenGqa = await broken("misshapen-gqa", (f) => write(f, (n, s) => (n === "model.layers.0.self_attn.k_proj.weight" ? [s[0] * 2, s[1]] : s)), { num_key_value_heads: 2 });
    await expect(loadModelFolder(misshapenGqa)).rejects.toThrow(/"model\.layers\.0\.self_attn\.k_proj\.weight" has shape \[32, 32\], expected \[16, 32\]/);
  });

  it("refuses a tokenizer with ids beyond vocab_size, a bad config and missing files; a padded vocab_size loads", async () => {
    const small = await broken("small-vocab", () => {}, { vocab_size: tinyTokenizer.vocabSize - 5 });
    await expect(loadModelFolder(small)).rejects.toThrow(TokenizerError);
    await expect(loadModelFolder(small)).rejects.toThrow(new RegExp(`tokenizer.json has ${tinyTokenizer.vocabSize} ids but config.json's vocab_size is ${tinyTokenizer.vocabSize - 5}`));
    // Published checkpoints pad the embedding past the tokenizer (Qwen2.5: 151936 rows, 151665 tokens).
    const padded = await broken("padded-vocab", () => {}, { vocab_size: tinyTokenizer.vocabSize + 12 });
    expect((await loadModelFolder(padded)).config.vocabSize).toBe(tinyTokenizer.vocabSize + 12);

    const badJson = await broken("bad-json", (f) => writeFileSync(join(f, "config.json"), "{ \"model_type\": "));
    await expect(loadModelFolder(badJson)).rejects.toThrow(/bad-json\/config\.json: not valid JSON/);
    const gpt2 = await broken("gpt2", (f) => writeFileSync(join(f, "config.json"), JSON.stringify({ ...JSON.parse(readFileSync(join(f, "config.json"), "utf8")), model_type: "gpt2" })));
    await expect(loadModelFolder(gpt2)).rejects.toThrow(/gpt2: config\.json: model_type "gpt2" is not supported/);
    const noWeights = await broken("no-weights", (f) => rmSync(join(f, "model.safetensors")));
    await expect(loadModelFolder(noWeights)).rejects.toThrow(/no-weights: no model\.safetensors \(the weights\)/);
    const noTok = await broken("no-tokenizer", (f) => rmSync(join(f, "tokenizer.json")));
    await expect(loadModelFolder(noTok)).rejects.toThrow(/no-tokenizer\/tokenizer\.json: not found/);
    const wrongTok = await broken("wrong-tokenizer", (f) => writeFileSync(join(f, "tokenizer.json"), JSON.stringify({ ...TINY_SPEC.tokenizerJson, model: undefined })));
    await expect(loadModelFolder(wrongTok)).rejects.toThrow(/tokenizer\.json: expected an object with a "model" field/);
    await expect(loadModelFolder(join(dir, "nowhere"))).rejects.toThrow(/nowhere: no such model folder/);
    cpSync(join(dir, "good"), join(dir, "good-copy"), { recursive: true });
    expect((await loadModelFolder(join(dir, "good-copy"))).config.numLayers).toBe(2); // breaking copies left the original whole
  });
});


// `taorl score` and `taorl generate`, in-process, on a tiny random HF folder: values against the float64
// reference, both engines, atomic --out, and bad input as UsageError (exit code 2).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runScore } from "../../src/cli/score.js";
import { runGenerate } from "../../src/cli/generate.js";
import { UsageError } from "../../src/cli/args.js";
import type { ArchConfig, Weights } from "../../src/model/config.js";
import { naiveScore } from "../engine/naive.js";
import { tinyTokenizer, writeTinyFolder } from "../model/tiny-folder.js";

const dir = mkdtempSync(join(tmpdir(), "taorl-cli-model-"));
const model = join(dir, "model");
let config: ArchConfig, weights: Weights;
beforeAll(async () => ({ config, weights } = await writeTinyFolder(model)));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quiet = () => {
  const io = { out: "", err: "", stdout: (s: string) => void (io.out += s), stderr: (s: string) => void (io.err += s) };
  return io;
};

describe("taorl score", () => {
  it("logprobs[t-1] = log p(tokens[t] | tokens[<t]) and entropies, equal to the float64 reference on both engines", async () => {
    const rows = [[5, 9, 12, 40, 7, 7, 30], [3], [11, 12], [20, 21, 22, 23, 24, 25, 26, 27, 28, 29]];
    const input = join(dir, "tokens.jsonl");
    writeFileSync(input, rows.map((tokens) => JSON.stringify({ tokens })).join("\n") + "\n\n");
    const results: Record<string, Array<{ logprobs: number[]; entropies: number[] }>> = {};
    for (const engine of ["ort", "tfjs"]) {
      const io = quiet();
      const r = await runScore(["--model", model, "--in", input, "--engine", engine], io);
      expect(r.lines).toBe(4);
      results[engine] = io.out.trim().split("\n").map((l) => JSON.parse(l));
    }
    let err = 0;
    for (const [engine, lines] of Object.entries(results)) {
      expect(lines.map((l) => [l.logprobs.length, l.entropies.length])).toEqual(rows.map((r) => [r.length - 1, r.length - 1]));
      rows.forEach((row, i) => {
        const ref = naiveScore(config, weights, Int32Array.from(row), 1, row.length);
        for (let t = 1; t < row.length; t++) {
          err = Math.max(err, Math.abs(lines[i].logprobs[t - 1] - ref.logp[t]), Math.abs(lines[i].entropies[t - 1] - ref.entropy[t]));
        }
      });
      expect([engine, err < 1e-4]).toEqual([engine, true]);
    }
    expect(results.ort[0].logprobs.every((x) => x < 0)).toBe(true);
    console.log(`taorl score vs float64 reference: max abs ${err.toExponential(1)} (ort and tfjs)`);
  });

  it("--out is written atomically; bad input is a UsageError naming the line, the folder or the option", async () => {
    const input = join(dir, "ok.jsonl"), out = join(dir, "scores.jsonl");
    writeFileSync(input, `{"tokens": [1, 2, 3]}\n`);
    writeFileSync(out, "old\n");
    const io = quiet();
    await runScore(["--model", model, "--in", input, "--out", out], io);
    expect(JSON.parse(readFileSync(out, "utf8")).logprobs).toHaveLength(2);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
    expect(io.out).toBe("");

    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, `{"tokens": [1, 2]}\n{"tokens": [1, ${config.vocabSize}]}\n`);
    await expect(runScore(["--model", model, "--in", bad, "--out", out], quiet())).rejects.toThrow(new RegExp(`line 2: tokens\\[1\\] = ${config.vocabSize} is not a token id in \\[0, ${config.vocabSize}\\)`));
    expect(JSON.parse(readFileSync(out, "utf8")).logprobs).toHaveLength(2); // the previous output is untouched
    writeFileSync(bad, `{"tokens": [1, -1]}\n`);
    await expect(runScore(["--model", model, "--in", bad], quiet())).rejects.toThrow(/line 1: tokens\[1\] = -1/);
    writeFileSync(bad, `{"tokens": [1, 2.5]}\n`);
    await expect(runScore(["--model", model, "--in", bad], quiet())).rejects.toThrow(/tokens\[1\] = 2.5/);
    writeFileSync(bad, `{"tokens": []}\n{oops\n`);
    await expect(runScore(["--model", model, "--in", bad], quiet())).rejects.toThrow(/line 1: expected \{"tokens"/);
    writeFileSync(bad, `{oops\n`);
    await expect(runScore(["--model", model, "--in", bad], quiet())).rejects.toThrow(/line 1: not valid JSON/);
    await expect(runScore(["--model", join(dir, "nope"), "--in", input], quiet())).rejects.toThrow(/no such model folder/);
    await expect(runScore(["--model", dir, "--in", input], quiet())).rejects.toThrow(/no config\.json/);
    await expect(runScore(["--model", model, "--in", join(dir, "missing.jsonl")], quiet())).rejects.toThrow(/no such file/);
    await expect(runScore(["--model", model, "--in", input, "--engine", "torch"], quiet())).rejects.toThrow(/--engine: expected ort or tfjs/);
    await expect(runScore(["--in", input], quiet())).rejects.toBeInstanceOf(UsageError);
  });
});

describe("taorl generate", () => {
  it("generates text from a prompt: seeded, greedy = top-k 1, decoded by the folder's tokenizer", async () => {
    const gen = async (...extra: string[]) => {
      const io = quiet();
      const r = await runGenerate(["--model", model, "--prompt", "print(1+2)", "--max-new-tokens", "12", ...extra], io);
      expect(io.out).toBe(`${r.text}\n`);
      expect(io.err).toMatch(/tokens \((eos|length)\) after a \d+-token prompt/);
      return r;
    };
    const a = await gen("--seed", "4", "--top-p", "0.9"), b = await gen("--seed", "4", "--top-p", "0.9"), c = await gen("--seed", "5", "--top-p", "0.9");
    expect(a.promptTokens).toBe(tinyTokenizer.encode("print(1+2)").length);
    expect(a.tokens.length).toBeGreaterThan(0);
    expect(a.text).toBe(tinyTokenizer.decode(a.tokens, { skipSpecialTokens: true }));
    expect([...a.tokens]).toEqual([...b.tokens]);
    expect([...a.tokens]).not.toEqual([...c.tokens]);
    const greedy = await gen("--temperature", "0"), top1 = await gen("--top-k", "1", "--seed", "9");
    expect([...top1.tokens]).toEqual([...greedy.tokens]);
    if (a.finishReason === "eos") expect(a.tokens[a.tokens.length - 1]).toBe(3);
    const chat = await gen("--chat", "--temperature", "0");
    expect(chat.promptTokens).toBe(tinyTokenizer.encode("<|im_start|>user\nprint(1+2)<|im_end|>\n<|im_start|>assistant\n").length);
  });

  it("refuses bad options and bad folders with a UsageError", async () => {
    const base = ["--model", model, "--prompt", "ab"];
    await expect(runGenerate([...base, "--top-p", "0"], quiet())).rejects.toThrow(/--top-p: expected a number in \(0, 1\]/);
    await expect(runGenerate([...base, "--max-new-tokens", "2.5"], quiet())).rejects.toThrow(/--max-new-tokens: expected an integer/);
    await expect(runGenerate([...base, "--temperature", "-1"], quiet())).rejects.toThrow(/--temperature/);
    await expect(runGenerate(["--model", model, "--prompt", ""], quiet())).rejects.toThrow(/--prompt needs a value/);
    await expect(runGenerate(["--model", join(dir, "nope"), "--prompt", "ab"], quiet())).rejects.toThrow(/no such model folder/);
    await expect(runGenerate(["--prompt", "ab"], quiet())).rejects.toBeInstanceOf(UsageError);
    expect(existsSync(model)).toBe(true);
  });
});

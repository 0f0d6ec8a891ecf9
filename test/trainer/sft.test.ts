// SFT traces and `taorl pretrain`: every trace is correct and its observations are real sandbox output;
// the tokenizer round-trips every trace; a tiny pretrain writes a loadable Hugging Face folder.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { reward } from "../../src/agent/answer.js";
import { generateTask, taskProblem, TEMPLATES } from "../../src/agent/tasks.js";
import { FINAL_ANSWER_PRELUDE } from "../../src/sandbox/tir.js";
import { makeTrace } from "../../src/agent/traces.js";
import { loadCheckpoint, loadTokenizer } from "../../src/model/checkpoint.js";
import { SandboxPool } from "../../src/sandbox/node.js";
import { buildTokenizer, runPretrain } from "../../src/cli/pretrain.js";
import { encodeTrace } from "../../src/trainer/sft.js";

const pool = new SandboxPool({ javascriptWorkers: 1 });
const root = mkdtempSync(join(tmpdir(), "taorl-sft-"));
afterAll(async () => { await pool.close(); rmSync(root, { recursive: true, force: true }); });
const run = pool.run.bind(pool);
const tok = buildTokenizer(0);

describe("SFT traces", () => {
  it("every template at every level yields a trace whose answer the checker accepts", async () => {
    for (const t of TEMPLATES) {
      for (const level of [1, 3, 5, 8]) {
        const split = t.heldOut ? "ood" : "train";
        const task = generateTask({ seed: 4, split, index: level, level, template: t.name });
        for (const seed of [0, 1, 2, 3]) {
          const trace = await makeTrace(task, seed, run);
          const response = trace.segments.map((s) => s.text).join("");
          expect({ t: t.name, level, r: reward(response, task.answer) }).toEqual({ t: t.name, level, r: 1 });
          for (const s of trace.segments.filter((x) => x.role === "observation")) expect(s.text).toMatch(/^\nCode execution result: [^\n]+\n\n$/);
        }
      }
    }
  }, 60_000);

  it("observations are the sandbox's output for the trace's own code, q included; careless traces fail or answer wrong", async () => {
    const task = generateTask({ seed: 9, split: "train", index: 0, level: 2, template: "series-sum" });
    const trace = await makeTrace(task, 1, run, 1, 400); // careless: a loop past the limit, then the closed form
    expect(trace.careless).toBe("loop");
    const codes = trace.segments.filter((s) => s.role === "policy" && s.text.includes("```python")).map((s) => /```python\n([^]*?)\n```/.exec(s.text)![1]);
    const obs = trace.segments.filter((s) => s.role === "observation").map((s) => s.text);
    expect(codes.length).toBe(2);
    expect(codes[0]).toContain("range(1, q[1] + 1)");
    expect(obs[0]).toMatch(/timed out|time limit|Timeout/i);
    const prelude = FINAL_ANSWER_PRELUDE.python + taskProblem(task).toolPrelude.python;
    const r = await run({ language: "python", code: codes[1], prelude });
    expect(obs[1]).toBe(`\nCode execution result: ${r.stdout}\n`);
    expect(reward(trace.segments.map((s) => s.text).join(""), task.answer)).toBe(1);
    // a careless rule misread answers, wrongly
    const ceil = Array.from({ length: 40 }, (_, i) => generateTask({ seed: 3, split: "train", index: i, level: 2, template: "leftover" })).find((t) => t.operands.ceil === "1" && BigInt(t.operands.total) % BigInt(t.operands.boxes) !== 0n)!;
    const wrong = await makeTrace(ceil, 0, run, 1);
    expect(wrong.careless).toBe("floor-not-ceil");
    expect(reward(wrong.segments.map((s) => s.text).join(""), ceil.answer)).toBe(0);
  });

  it("the closed vocabulary round-trips every trace and the target mask covers policy text only", async () => {
    for (let i = 0; i < 40; i++) {
      const task = generateTask({ seed: 2, split: "train", index: i, level: 1 + (i % 8) });
      const trace = await makeTrace(task, i, run);
      for (const s of [trace.prompt, ...trace.segments.map((x) => x.text)]) expect(tok.decode(tok.encode(s))).toBe(s);
      expect(tok.encode(trace.prompt).includes(1)).toBe(false); // no <unk>
      const ex = encodeTrace(trace, tok, tok.eosTokenId!);
      const policy = tok.decode(Array.from(ex.ids).filter((_, k) => ex.target[k] && ex.ids[k] !== tok.eosTokenId));
      expect(policy).toBe(trace.segments.filter((s) => s.role === "policy").map((s) => s.text).join(""));
      expect(ex.target[ex.target.length - 1]).toBe(1);
      expect(ex.ids[ex.ids.length - 1]).toBe(tok.eosTokenId);
    }
  });
});

describe("taorl pretrain", () => {
  it("a tiny run lowers the loss and writes a loadable Hugging Face folder with its evaluation", async () => {
    const out = join(root, "model");
    await runPretrain(["--out", out, "--size", "tiny", "--steps", "12", "--traces", "24", "--eval-problems", "4", "--lr", "1e-2"], { stdout: () => {}, stderr: () => {} }, root);
    const losses = readFileSync(join(out, "pretrain.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).loss);
    expect(losses).toHaveLength(12);
    expect(losses[11]).toBeLessThan(losses[0]);
    const { config } = await loadCheckpoint(out);
    expect(config.hiddenSize).toBe(32);
    const t = await loadTokenizer(out);
    expect(t.decode(t.encode("```python\nprint(1)\n```"))).toBe("```python\nprint(1)\n```");
    const ev = JSON.parse(readFileSync(join(out, "pretrain-eval.json"), "utf8"));
    expect(ev.levels.map((l: { level: number }) => l.level)).toEqual([1, 2, 4, 8]);
    expect(existsSync(join(out, "README.md"))).toBe(true);
  }, 120_000);
});

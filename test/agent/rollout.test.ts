// Multi-turn rollouts (TAO-RL.md §1). Protocol rules are checked with a scripted policy (an Engine whose
// generate() writes given texts, token by token, through the real tokenizer and honouring the real stop
// options) against the real sandbox pool; a second test runs the real onnxruntime-web engine.
import { afterAll, describe, expect, it } from "vitest";
import { resolveRollout } from "../../src/config.js";
import type { Engine, Generation, SamplingOptions, StopOptions } from "../../src/engine/engine.js";
import { OrtWebEngine } from "../../src/engine/ort-web.js";
import { closedVocabTokenizer, TextTokenizer } from "../../src/model/tokenizer.js";
import { rollout, type RolloutProblem } from "../../src/agent/rollout.js";
import { SandboxPool } from "../../src/sandbox/node.js";
import { randomWeights, tinyConfig } from "../engine/naive.js";

const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n.,:;!?'\"()[]{}<>+-*/=_%^&|\\`#$@~";
const spec = closedVocabTokenizer({ chars, words: ["```", "print", "python", "boxed"], specials: ["<|im_start|>", "<|im_end|>"] });
const tok = new TextTokenizer(spec.tokenizerJson, spec.tokenizerConfig);
const EOS = tok.eosTokenId!;

/** Writes script[row][turn] for each row, stopping as a real engine would (EOS, stopWhen, budget). */
function scripted(script: string[][]): Engine & { calls: number[][] } {
  const turnOf = new Map<number, number>();
  const calls: number[][] = [];
  return {
    calls,
    info: () => { throw new Error("unused"); },
    score: () => { throw new Error("unused"); },
    setWeights: async () => {},
    dispose: () => {},
    async generate(prompts: Int32Array[], s: SamplingOptions, stop?: StopOptions): Promise<Generation[]> {
      calls.push(prompts.map((p) => p.length));
      return prompts.map((p) => {
        // rows are identified by their prompt's first differing token: the test keys rows by prompt length order
        const row = rowOf(p);
        const turn = turnOf.get(row) ?? 0;
        turnOf.set(row, turn + 1);
        const ids = [...tok.encode(script[row][turn] ?? ""), EOS];
        const out: number[] = [];
        let finish: Generation["finishReason"] = "length";
        for (const id of ids) {
          if (out.length >= s.maxNewTokens) break;
          out.push(id);
          if (stop?.eosTokenIds?.includes(id)) { finish = "eos"; break; }
          if (stop?.stopWhen?.(stop.decode!(out))) { finish = "stop"; break; }
        }
        return { tokens: Int32Array.from(out), logp: new Float32Array(out.length).fill(-0.25), entropy: new Float32Array(out.length).fill(1.5), finishReason: finish };
      });
    },
  };
}
let rowKeys: string[] = [];
function rowOf(prompt: Int32Array): number {
  const text = tok.decode(prompt);
  const i = rowKeys.findIndex((k) => text.includes(k));
  if (i < 0) throw new Error(`unknown row for prompt ${text.slice(0, 60)}`);
  return i;
}

const pool = new SandboxPool({ javascriptWorkers: 1 });
afterAll(() => pool.close());
const runTool = pool.run.bind(pool);

function problems(...qs: Array<[string, string]>): RolloutProblem[] {
  rowKeys = qs.map(([q]) => q);
  return qs.map(([question, answer], i) => ({ id: `p${i}`, question, answer }));
}

describe("rollout protocol", () => {
  it("code turn → observation (mask 0) → answer; tokens kept as sampled; post-tool mask on the next turn", async () => {
    const ps = problems(["What is 12345 times 6789 (q0)?", "83810205"]);
    const engine = scripted([["Compute.\n```python\nprint(12345*6789)\n```", "So \\boxed{83810205}."]]);
    const { trajectories: [t], timings } = await rollout({ engine, tokenizer: tok, runTool }, { problems: ps, n: 1, runSeed: 1, step: 0, policyVersion: 3 }, resolveRollout());
    expect(t.turns.map((x) => [x.kind, x.outcome])).toEqual([["code", "valid"], ["answer", undefined]]);
    expect(t.response).toContain("\nCode execution result: 83810205\n\n"); // stdout keeps print's newline
    expect(t.reward).toBe(1);
    expect(t.answer).toBe("83810205");
    expect([t.toolCalls, t.validToolCalls, t.isVoid, t.truncated, t.policyVersion]).toEqual([1, 1, false, false, 3]);
    // policy tokens are exactly the scripted ids; observation tokens have mask 0 and turn index 0
    const policy = Array.from(t.tokens).filter((_, i) => t.responseMask[i] === 1);
    const turn1 = [...tok.encode("So \\boxed{83810205}."), EOS];
    expect(policy.slice(-turn1.length)).toEqual(turn1);
    const obs = Array.from(t.tokens.subarray(t.promptLength)).filter((_, i) => t.responseMask[t.promptLength + i] === 0);
    expect(tok.decode(obs)).toBe("\nCode execution result: 83810205\n\n");
    expect(t.turns[0].observationTokens).toBe(obs.length);
    for (let i = 0; i < t.tokens.length; i++) {
      const inTurn1 = t.responseMask[i] === 1 && t.turnIndex[i] === 1;
      expect(t.postToolMask[i]).toBe(inTurn1 ? 1 : 0);
      if (t.responseMask[i] === 1) expect([t.samplingLogp[i], t.samplingEntropy[i]]).toEqual([-0.25, 1.5]);
      else expect([t.samplingLogp[i], t.samplingEntropy[i]]).toEqual([0, 0]);
    }
    expect(t.turnIndex.subarray(0, t.promptLength).every((k) => k === -1)).toBe(true);
    expect(timings.toolCalls).toBe(1);
  });

  it("text after the first complete block is never generated; errors, void turns and final_answer", async () => {
    const ps = problems(["q-err", "7"], ["q-void", "7"], ["q-final", "42"], ["q-empty", "7"]);
    const engine = scripted([
      ["```python\nprint(1/0)\n```\nthis text is never reached", "\\boxed{8}"],
      ["I do not know."],
      ["```python\nfinal_answer(6*7)\n```"],
      ["```python\nx = 7\n```", "\\boxed{7}"],
    ]);
    const { trajectories: [err, voidT, fin, empty] } = await rollout({ engine, tokenizer: tok, runTool }, { problems: ps, n: 1, runSeed: 1, step: 0, policyVersion: 0 }, resolveRollout());
    expect(err.response).not.toContain("never reached");
    expect(err.turns[0].outcome).toBe("error");
    expect(err.response).toContain("\nCode execution result: ZeroDivisionError: division by zero\n");
    expect([err.toolCalls, err.validToolCalls, err.reward]).toEqual([1, 0, 0]);
    expect([voidT.isVoid, voidT.turns.length, voidT.turns[0].kind, voidT.toolCalls]).toEqual([true, 1, "void", 0]);
    // final_answer prints \boxed{42}: the trajectory ends after the code turn, rewarded from the observation
    expect(fin.turns.map((x) => x.kind)).toEqual(["code"]);
    expect([fin.reward, fin.answer, fin.validToolCalls]).toEqual([1, "42", 1]);
    expect(empty.turns[0].outcome).toBe("empty");
    expect(empty.response).toContain("\nCode execution result: \n");
    expect([empty.validToolCalls, empty.reward]).toEqual([0, 1]);
  });

  it("the response budget truncates, the turn limit stops, n rollouts share a group with distinct seeds", async () => {
    const ps = problems(["q-long", "1"], ["q-loop", "1"]);
    const long = "a".repeat(400);
    const engine = scripted([[long], Array(10).fill("```python\nprint(1)\n```")]);
    const opts = resolveRollout({ max_response_tokens: 120, max_turns: 3 });
    const { trajectories } = await rollout({ engine, tokenizer: tok, runTool }, { problems: ps, n: 2, runSeed: 5, step: 2, policyVersion: 0, firstGroup: 10 }, opts);
    const [a0, a1, b0] = trajectories;
    expect([a0.group, a1.group, b0.group]).toEqual([10, 10, 11]);
    expect(new Set(trajectories.map((t) => t.seed)).size).toBe(4);
    expect([a0.truncated, a0.isVoid]).toEqual([true, false]);
    expect(a0.tokens.length - a0.promptLength).toBe(120);
    expect([b0.hitMaxTurns, b0.truncated, b0.toolCalls, b0.validToolCalls]).toEqual([true, false, 3, 3]);
  });
});

describe("rollout on the real onnxruntime-web engine", () => {
  it("records the engine's own tokens, log-probs and entropies (they match a re-score)", async () => {
    const cfg = { ...tinyConfig({ vocab_size: Object.keys((spec.tokenizerJson.model as { vocab: object }).vocab).length + 8, max_position_embeddings: 256 }) };
    const engine = await OrtWebEngine.create(cfg, { weights: randomWeights(cfg, 3, 0.6), maxPositions: 256 });
    rowKeys = ["Add 2 and 3."];
    const { trajectories } = await rollout(
      { engine, tokenizer: tok, runTool },
      { problems: [{ id: "p", question: "Add 2 and 3.", answer: "5" }], n: 3, runSeed: 9, step: 0, policyVersion: 0 },
      resolveRollout({ max_turn_tokens: 24, max_response_tokens: 48, max_turns: 2 }),
    );
    expect(trajectories).toHaveLength(3);
    for (const t of trajectories) {
      const T = t.tokens.length;
      const scored = await engine.score({ B: 1, T, tokens: t.tokens });
      for (let i = t.promptLength; i < T; i++) {
        if (!t.responseMask[i]) continue;
        expect(Math.abs(scored.logp[i] - t.samplingLogp[i])).toBeLessThan(1e-4);
        expect(Math.abs(scored.entropy[i] - t.samplingEntropy[i])).toBeLessThan(1e-4);
      }
      expect(t.responseMask.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }
    engine.dispose();
  });
});

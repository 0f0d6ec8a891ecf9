// `taorl pretrain`: the embedded default policy, from scratch — a closed-vocabulary tokenizer, a tiny
// Llama, SFT on tool-use traces of the task family (train split) executed in the real sandbox, then a
// held-out evaluation through real rollouts. Reproducible from --seed; resumable; Ctrl-C checkpoints.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveRollout } from "../config.js";
import { generateTask, generateTasks, MAX_LEVEL, NUMBERS_HINT, taskProblem, type TaskItem } from "../agent/tasks.js";
import { makeTrace } from "../agent/traces.js";
import { TOOL_INSTRUCTION } from "../agent/prompt.js";
import { loadTrainer, saveTrainer } from "../engine/checkpoint.js";
import { OrtWebEngine } from "../engine/ort-web.js";
import { TfjsWasmEngine } from "../engine/tfjs-wasm.js";
import { parseHfConfig } from "../model/config.js";
import { saveCheckpoint } from "../model/checkpoint.js";
import { closedVocabTokenizer, TextTokenizer } from "../model/tokenizer.js";
import { mixSeed, seededRandom } from "../rl/index.js";
import { SandboxPool } from "../sandbox/node.js";
import { evaluate } from "../trainer/evaluate.js";
import { encodeTrace, sftStep, type SftExample } from "../trainer/sft.js";
import { UsageError, parseArgs } from "./args.js";
import { ProgressBar } from "./progress.js";

export const PRETRAIN_USAGE = `taorl pretrain [--out models/default] [--seed 0] [--steps 600] [--size small|tiny] [--traces 2000] [--careless 0.3]

  Trains the embedded default policy from scratch by SFT on tool-use traces (resumes from <out>/.pretrain-ckpt);
  --careless is the share of traces that show a careless attempt (src/agent/traces.ts), so the policy errs.`;

const SIZES = {
  small: { hidden_size: 128, intermediate_size: 384, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 4 },
  tiny: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 2 },
} as const;

/** The closed vocabulary: printable ASCII, newline, and merges for frequent words of prompts and traces. */
export function buildTokenizer(seed: number): TextTokenizer {
  const chars = ["\n", ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))].join("");
  const counts = new Map<string, number>();
  const text = [TOOL_INSTRUCTION, NUMBERS_HINT, ...generateTasks(mixSeed(seed, 1), "train", 800).map((t) => t.question)].join(" ");
  for (const w of text.match(/[A-Za-z']{3,}/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  const frequent = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 160).map(([w]) => w);
  const fixed = ["```", "```python", "print", "final_answer", "Fraction", "fractions", "import", "from", "Code", "execution", "result:", "boxed", "\\boxed", "\\frac", "answer", "compute", "calculate", "Python", "Let", "The", "Next", "step", "code", "arithmetic"];
  const words = [...new Set([...fixed, ...frequent])];
  const spec = closedVocabTokenizer({ chars, words, specials: ["<|im_start|>", "<|im_end|>"] });
  return new TextTokenizer(spec.tokenizerJson, spec.tokenizerConfig);
}

/** Levels of the SFT data: every level, lower ones more often (they are where RL starts). */
function levelFor(rand: () => number): number {
  const w = Array.from({ length: MAX_LEVEL }, (_, i) => 1 / (i + 1));
  let x = rand() * w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < w.length; i++) { x -= w[i]; if (x <= 0) return i + 1; }
  return 1;
}

export async function runPretrain(argv: readonly string[], io: { stdout: (s: string) => void; stderr: (s: string) => void; tty?: boolean }, root: string): Promise<string> {
  const { opts, rest } = parseArgs(argv, { values: ["out", "seed", "steps", "size", "traces", "batch", "lr", "eval-problems", "careless"], flags: [] });
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const num = (k: string, d: number) => { const v = opts[k] === undefined ? d : Number(opts[k]); if (!(v > 0)) throw new UsageError(`--${k}: expected a positive number, got ${opts[k]}`); return v; };
  const seed = opts.seed === undefined ? 0 : Number(opts.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed: expected an integer, got ${opts.seed}`);
  const steps = num("steps", 600), nTraces = num("traces", 2000), batchSize = num("batch", 12), lr = num("lr", 2e-3), evalN = num("eval-problems", 32);
  const carelessRate = opts.careless === undefined ? 0.3 : Number(opts.careless);
  if (!(carelessRate >= 0 && carelessRate <= 1)) throw new UsageError(`--careless: expected a number in [0, 1], got ${opts.careless}`);
  const size = (opts.size ?? "small") as keyof typeof SIZES;
  if (!(size in SIZES)) throw new UsageError(`--size: expected small or tiny, got ${opts.size}`);
  const out = opts.out ?? join(root, "models", "default");
  const ckpt = join(out, ".pretrain-ckpt");
  mkdirSync(out, { recursive: true });
  const t0 = Date.now();

  const tok = buildTokenizer(seed);
  const vocab = Object.keys((tok.tokenizerJson.model as { vocab: object }).vocab).length;
  const config = parseHfConfig({
    model_type: "llama", vocab_size: vocab, ...SIZES[size], max_position_embeddings: 1024, rms_norm_eps: 1e-5, rope_theta: 10000,
    tie_word_embeddings: true, bos_token_id: tok.bosTokenId, eos_token_id: tok.eosTokenId,
  });

  // Traces (train split), executed in the sandbox.
  const pool = new SandboxPool({ javascriptWorkers: 1 });
  const abort = new AbortController();
  const onSigint = () => { io.stderr("\ninterrupt: checkpointing...\n"); abort.abort(); };
  process.once("SIGINT", onSigint);
  try {
    io.stdout(`taorl pretrain: ${size} Llama (vocab ${vocab}), ${nTraces} traces, ${steps} steps of ${batchSize}, seed ${seed} → ${out}\n`);
    const rand = seededRandom(mixSeed(seed, 0xda7a));
    const data: SftExample[] = [];
    for (let i = 0; i < nTraces; i++) {
      const task: TaskItem = generateTask({ seed, split: "train", index: i, level: levelFor(rand) });
      data.push(encodeTrace(await makeTrace(task, mixSeed(seed, i), pool.run.bind(pool), carelessRate, 1000), tok, tok.eosTokenId!));
    }
    const lengths = data.map((d) => d.ids.length);
    io.stdout(`traces: ${data.length}, tokens per trace mean ${(lengths.reduce((a, b) => a + b, 0) / data.length).toFixed(0)}, max ${Math.max(...lengths)}\n`);

    const resumed = existsSync(join(ckpt, "state.json"));
    const engine = resumed ? await loadTrainer(ckpt, { optim: { lr } }) : await TfjsWasmEngine.create(config, { seed, optim: { lr, weight_decay: 0.01 } });
    let step = resumed ? (JSON.parse(readFileSync(join(ckpt, "state.json"), "utf8")) as { step: number }).step : 0;
    const log = join(out, "pretrain.jsonl");
    if (!resumed) rmSync(log, { force: true });
    const bar = new ProgressBar(steps, io.stderr, io.tty ?? false);
    const save = () => saveTrainer(ckpt, engine, { extra: { "state.json": JSON.stringify({ step, seed }) } });
    while (step < steps && !abort.signal.aborted) {
      const r = seededRandom(mixSeed(seed, 0xba7c, step));
      const batch = Array.from({ length: batchSize }, () => data[Math.floor(r() * data.length)]);
      const res = await sftStep(engine, batch, tok.padTokenId ?? 0, 8);
      step++;
      appendFileSync(log, `${JSON.stringify({ step, loss: res.loss, tokens: res.tokens, grad_norm: res.gradNorm, ms: res.ms })}\n`);
      bar.update(step, `loss ${res.loss.toFixed(3)} | ${(res.tokens / (res.ms / 1000)).toFixed(0)} target tok/s`);
      if (step % 100 === 0) await save();
    }
    bar.done();
    await save();
    if (abort.signal.aborted) { io.stdout(`stopped at step ${step}; run again to resume\n`); return out; }

    // The model folder, then a held-out evaluation through real rollouts.
    const weights = await engine.weights();
    await saveCheckpoint(out, config, weights, {
      extra: {
        "tokenizer.json": JSON.stringify(tok.tokenizerJson),
        "tokenizer_config.json": JSON.stringify(tok.tokenizerConfig),
        "generation_config.json": JSON.stringify({ eos_token_id: tok.eosTokenId, temperature: 1.0, top_p: 1.0 }),
      },
    });
    const policy = await OrtWebEngine.create(config, { weights, maxPositions: 1024, weightsMode: "initializers" });
    const rollout = resolveRollout();
    const table: Array<Record<string, number | string>> = [];
    for (const level of [1, 2, 4, 8]) {
      const problems = generateTasks(mixSeed(seed, 0x7e57), "test", Math.max(4, Math.round(evalN / 4)), level).map(taskProblem);
      const e = await evaluate({ engine: policy, tokenizer: tok, runTool: pool.run.bind(pool) }, problems, rollout, seed, 4);
      table.push({ level, problems: e.problems, "avg@4": e.avg_at_k, "pass@4": e.pass_at_k, tool_calls: e.tool_calls_per_traj, valid_exec: e.valid_exec_rate, void: e.void_rate, truncated: e.truncation_rate });
    }
    policy.dispose();
    engine.dispose();
    const minutes = (Date.now() - t0) / 60000;
    writeFileSync(join(out, "pretrain-eval.json"), `${JSON.stringify({ seed, steps, size, minutes, sampling: "temperature 1, top-p 1, k 4", levels: table }, null, 2)}\n`);
    const md = ["| level | problems | avg@4 | pass@4 | tool calls / traj | valid exec | void | truncated |", "|---|---|---|---|---|---|---|---|",
      ...table.map((r) => `| ${r.level} | ${r.problems} | ${(r["avg@4"] as number).toFixed(3)} | ${(r["pass@4"] as number).toFixed(3)} | ${(r.tool_calls as number).toFixed(2)} | ${(r.valid_exec as number).toFixed(2)} | ${(r.void as number).toFixed(2)} | ${(r.truncated as number).toFixed(2)} |`)].join("\n");
    const params = engine.info().parameters;
    writeFileSync(join(out, "README.md"), `# taorl default policy

A tiny Llama-family policy (${params.toLocaleString("en")} parameters: hidden ${config.hiddenSize}, ${config.numLayers} layers,
${config.numHeads} heads, tied embeddings, closed vocabulary of ${vocab} tokens) trained from scratch by
\`taorl pretrain --seed ${seed} --steps ${steps} --size ${size} --traces ${nTraces} --careless ${carelessRate}\` in ${minutes.toFixed(1)} minutes on
2 CPU cores: SFT on tool-use traces of the procedural task family (train split; Python executed in the
Pyodide sandbox, observations as rollouts see them; loss on policy tokens only). The code reads the
question's numbers from the list \`q\` the task puts in the sandbox and answers with \`final_answer(…)\`;
${Math.round(carelessRate * 100)}% of the traces show a careless attempt (a loop that times out before the closed form, floor for
ceil, an off-by-one range, a forgotten term, a distractor), so the policy errs the way RL with tool
feedback can fix. Training curve: \`pretrain.jsonl\`.

Held-out test split, temperature 1, 4 samples per problem, real rollouts (\`pretrain-eval.json\`):

${md}
`);
    io.stdout(`\n${md}\n\nwrote ${out}\n`);
    return out;
  } finally {
    process.removeListener("SIGINT", onSigint);
    await pool.close();
  }
}

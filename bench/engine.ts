// bench/engine: the policy engines against their peers, in the same run, on the reference tiny config
// (vocab 512, hidden 128, 2 layers, 4 heads, seq 128, batch 16) and a ~10M-parameter config:
// - training step (tfjs-wasm, forward + backward of the surrogate + clipping + AdamW) vs PyTorch CPU on the
//   same architecture and batch, one thread (bench/engine_torch.py; target ≤ 4× PyTorch's time);
// - greedy decode tokens/s at batch 1 and 16 (prefill of a 16-token prompt included) of onnxruntime-web vs
//   the exported .onnx on onnxruntime-node (native, one intra-op thread; target ≥ 0.5× native) and vs
//   tfjs-wasm's KV decode;
// - peak memory: each measurement runs in its own process and reports its peak RSS.
// Usage: node dist/node/bench-engine.mjs [--out bench/results/engine.json] [--configs tiny,10m] [--python PATH]
//        (--part P --config C [--micro-batch N]: one measurement, as the driver runs each in its own process)
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { parseHfConfig, type ArchConfig } from "../src/model/config.js";
import { initWeights } from "../src/engine/engine.js";
import { TfjsWasmEngine } from "../src/engine/tfjs-wasm.js";
import { OrtWebEngine } from "../src/engine/ort-web.js";
import { exportOnnx } from "../src/engine/onnx-graph.js";
import { argmax } from "../src/engine/sampling.js";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

interface BenchConfig {
  hf: Record<string, unknown>; B: number; T: number; steps: number;
  /** Rows per tfjs forward/backward (gradients accumulated over the batch): bounds the wasm32 heap (4 GiB). */
  microBatch?: number;
}
const CONFIGS: Record<string, BenchConfig> = {
  tiny: {
    hf: { model_type: "llama", vocab_size: 512, hidden_size: 128, intermediate_size: 512, num_hidden_layers: 2, num_attention_heads: 4, max_position_embeddings: 256, tie_word_embeddings: false },
    B: 16, T: 128, steps: 5,
  },
  "10m": {
    hf: { model_type: "llama", vocab_size: 4096, hidden_size: 256, intermediate_size: 1024, num_hidden_layers: 8, num_attention_heads: 8, max_position_embeddings: 256, tie_word_embeddings: false },
    B: 16, T: 128, steps: 3, microBatch: 8, // all 16 rows in one pass come within a few MB of the 4 GiB wasm32 heap
  },
};
const PROMPT = 16;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

function tokensOf(B: number, T: number, V: number, seed: number): Int32Array {
  let s = seed >>> 0;
  return Int32Array.from({ length: B * T }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s % V; });
}

// --- parts, each run in its own process ----------------------------------------------------------------

async function trainTfjs(cfg: ArchConfig, bc: BenchConfig) {
  const engine = await TfjsWasmEngine.create(cfg, { seed: 0 });
  const { B, T } = bc;
  const batch = { B, T, tokens: tokensOf(B, T, cfg.vocabSize, 1) };
  const w = new Float32Array(B * T).fill(-1 / (B * T)), v = new Float32Array(B * T).fill(1e-3);
  const opts = { microBatch: Number(arg("micro-batch", String(bc.microBatch ?? B))) };
  for (let i = 0; i < 2; i++) await engine.step(batch, { w, v }, opts); // warm-up: wasm tier-up, heap growth
  const times: number[] = [];
  for (let i = 0; i < bc.steps; i++) times.push((await engine.step(batch, { w, v }, opts)).timings.totalMs);
  return { step_ms: median(times), step_ms_all: times, micro_batch: opts.microBatch, parameters: engine.info().parameters };
}

type Decoder = (prompts: Int32Array[], maxNewTokens: number) => Promise<Int32Array[]>;

/**
 * Median tokens/s of 5 timed runs per batch size, after untimed runs of each for at least WARM_MS (V8 tiers
 * the 10+ MB of runtime wasm up while it runs: a tiny-config run lasts ~20 ms, and two of them left
 * onnxruntime-web's batch-1 rate ~25% under its steady state). Every runtime gets the same warm-up.
 */
const WARM_MS = 2000;
async function decodeRates(decoder: Decoder, cfg: ArchConfig, newTokens: number) {
  const out: Record<string, number | number[]> = {};
  const promptsOf = (B: number) => Array.from({ length: B }, (_, r) => tokensOf(1, PROMPT, cfg.vocabSize, 100 + r));
  const w0 = performance.now();
  for (let i = 0; i < 2 || performance.now() - w0 < WARM_MS; i++) for (const B of [1, 16]) await decoder(promptsOf(B), newTokens);
  for (const B of [1, 16]) {
    const rates: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const gens = await decoder(promptsOf(B), newTokens);
      rates.push(gens.reduce((a, g) => a + g.length, 0) / ((performance.now() - t0) / 1000));
      if (B === 16) out.first_row = [...gens[0]];
    }
    out[`tok_s_b${B}`] = median(rates);
  }
  return out;
}

async function decodeOrtWeb(cfg: ArchConfig, newTokens: number, weightsMode: "inputs" | "initializers") {
  const engine = await OrtWebEngine.create(cfg, { weights: initWeights(cfg, 0), maxPositions: PROMPT + newTokens, weightsMode });
  return decodeRates(async (p, n) => (await engine.generate(p, { temperature: 0, maxNewTokens: n })).map((g) => g.tokens), cfg, newTokens);
}

async function decodeTfjs(cfg: ArchConfig, newTokens: number) {
  const engine = await TfjsWasmEngine.create(cfg, { weights: initWeights(cfg, 0) });
  return decodeRates(async (p, n) => (await engine.generate(p, { temperature: 0, maxNewTokens: n })).map((g) => g.tokens), cfg, newTokens);
}

/** The exported decode graph on onnxruntime-node: the same greedy loop over equal-length prompts. */
async function decodeNative(cfg: ArchConfig, newTokens: number) {
  // an optional dependency, absent when its install script could not run: typed through onnxruntime-web,
  // whose API (onnxruntime-common) it shares, and imported by a computed name so tsc does not need it
  const nativeModule: string = "onnxruntime-node";
  const ort = await (import(nativeModule) as Promise<typeof import("onnxruntime-web")>).catch(() => {
    throw new Error("onnxruntime-node is not installed (an optional dependency: its install script fails offline; `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node` adds the CPU build)");
  });
  const bytes = exportOnnx(cfg, initWeights(cfg, 0), "decode", PROMPT + newTokens, false);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" });
  const { numKvHeads: KV, headDim: dh, numLayers: NL, vocabSize: V } = cfg;
  // the same time-major cache as OrtWebEngine.generate: one buffer per layer's keys and values, the filled
  // prefix fed, the new positions appended
  const names = Array.from({ length: NL }, (_, l) => [`key_${l}`, `value_${l}`]).flat();
  const fetches = ["logprobs", ...names.map((x) => `new_${x}`)];
  const temp = new ort.Tensor("float32", Float32Array.of(1), [1]);
  const decoder: Decoder = async (prompts, n) => {
    const B = prompts.length, L = prompts[0].length, row = B * KV * dh;
    const cache = names.map(() => new Float32Array((L + n) * row));
    let ids = BigInt64Array.from(prompts.flatMap((p) => [...p]), BigInt);
    let pos = BigInt64Array.from({ length: B * L }, (_, i) => BigInt(i % L));
    let S = L, total = L;
    const out = prompts.map(() => [] as number[]);
    for (let step = 0; step < n; step++) {
      const P = total - S;
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
        input_ids: new ort.Tensor("int64", ids, [B, S]), position_ids: new ort.Tensor("int64", pos, [B, S]),
        key_mask: new ort.Tensor("float32", new Float32Array(B * total), [B, total]), temperature: temp,
      };
      names.forEach((x, i) => { feeds[`past_${x}`] = new ort.Tensor("float32", cache[i].subarray(0, P * row), [P, B, KV, dh]); });
      const res = await session.run(feeds, fetches);
      names.forEach((x, i) => cache[i].set(res[`new_${x}`].data as Float32Array, P * row));
      const lp = res.logprobs.data as Float32Array;
      ids = new BigInt64Array(B); pos = new BigInt64Array(B);
      for (let r = 0; r < B; r++) {
        const tok = argmax(lp.subarray(r * V, (r + 1) * V));
        out[r].push(tok); ids[r] = BigInt(tok); pos[r] = BigInt(total);
      }
      S = 1; total++;
    }
    return out.map((o) => Int32Array.from(o));
  };
  return decodeRates(decoder, cfg, newTokens);
}

async function runPart(part: string, name: string): Promise<unknown> {
  const bc = CONFIGS[name];
  const cfg = parseHfConfig(bc.hf);
  const newTokens = bc.T - PROMPT;
  const r = part === "train-tfjs" ? await trainTfjs(cfg, bc)
    : part === "decode-ortweb" ? await decodeOrtWeb(cfg, newTokens, "initializers")
    : part === "decode-ortweb-inputs" ? await decodeOrtWeb(cfg, newTokens, "inputs")
    : part === "decode-tfjs" ? await decodeTfjs(cfg, newTokens)
    : part === "decode-native" ? await decodeNative(cfg, newTokens)
    : null;
  if (!r) throw new Error(`bench-engine: unknown part ${part}`);
  return { ...r, peak_rss_mb: peakRssMb() };
}

// --- the driver ----------------------------------------------------------------------------------------

function child(part: string, name: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--part", part, "--config", name], { encoding: "utf8", maxBuffer: 16 << 20 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) return { error: (r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ") };
  return JSON.parse(line);
}

function torchStep(python: string, bc: BenchConfig): Record<string, unknown> {
  const script = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "engine_torch.py");
  const env = { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const r = spawnSync(python, [script, JSON.stringify({ config: bc.hf, B: bc.B, T: bc.T, steps: bc.steps + 2, warmup: 1 })], { encoding: "utf8", env });
  if (r.status !== 0) return { error: (r.error?.message ?? r.stderr.trim().split("\n").pop()) || `exit ${r.status}` };
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

const fmt = (x: unknown, d = 0) => (typeof x === "number" ? x.toFixed(d) : "n/a");

async function main(): Promise<void> {
  const part = arg("part", "");
  if (part) { console.log(JSON.stringify(await runPart(part, arg("config", "tiny")))); return; }
  const out = arg("out", "bench/results/engine.json");
  const python = arg("python", process.env.TAORL_PYTHON ?? "/usr/bin/python3");
  const names = arg("configs", "tiny,10m").split(",");
  const loadBefore = loadavg();
  const results: Record<string, Record<string, Record<string, unknown>>> = {};
  const rows: string[][] = [];
  for (const name of names) {
    const bc = CONFIGS[name];
    console.error(`bench-engine: ${name} …`);
    const r: Record<string, Record<string, unknown>> = {
      train_tfjs: child("train-tfjs", name), train_torch: torchStep(python, bc),
      decode_ortweb: child("decode-ortweb", name), decode_ortweb_inputs: child("decode-ortweb-inputs", name),
      decode_native: child("decode-native", name), decode_tfjs: child("decode-tfjs", name),
    };
    results[name] = r;
    const params = r.train_tfjs.parameters ?? r.train_torch.parameters;
    const tj = r.train_tfjs.step_ms as number, pt = r.train_torch.step_ms as number;
    const micro = r.train_tfjs.micro_batch !== bc.B ? ` (tfjs: micro-batches of ${String(r.train_tfjs.micro_batch)})` : "";
    rows.push([name, `train step B${bc.B}×T${bc.T} (ms)${micro}`, fmt(tj), `torch ${fmt(pt)}`, fmt(tj / pt, 2) + "×", "≤ 4×", `${fmt(r.train_tfjs.peak_rss_mb)} / ${fmt(r.train_torch.peak_rss_mb)}`]);
    for (const B of [1, 16]) {
      const k = `tok_s_b${B}`;
      const web = r.decode_ortweb[k] as number, nat = r.decode_native[k] as number;
      rows.push([name, `decode B${B} (tok/s)`, fmt(web), `native ${fmt(nat)}`, fmt(web / nat, 2) + "×", "≥ 0.5×", `${fmt(r.decode_ortweb.peak_rss_mb)} / ${fmt(r.decode_native.peak_rss_mb)}`]);
      rows.push([name, `  tfjs KV decode B${B}`, fmt(r.decode_tfjs[k]), `web/tfjs`, fmt(web / (r.decode_tfjs[k] as number), 2) + "×", "", fmt(r.decode_tfjs.peak_rss_mb)]);
      rows.push([name, `  ort-web weights as inputs B${B}`, fmt(r.decode_ortweb_inputs[k]), "", fmt((r.decode_ortweb_inputs[k] as number) / nat, 2) + "×", "", fmt(r.decode_ortweb_inputs.peak_rss_mb)]);
    }
    const same = JSON.stringify(r.decode_ortweb.first_row) === JSON.stringify(r.decode_native.first_row) && JSON.stringify(r.decode_tfjs.first_row) === JSON.stringify(r.decode_native.first_row);
    rows.push([name, `parameters ${params}; greedy tokens agree across runtimes: ${same ? "yes" : "NO"}`, "", "", "", "", ""]);
    for (const [k, v] of Object.entries(r)) if (v.error) rows.push([name, `${k} FAILED: ${String(v.error)}`, "", "", "", "", ""]);
  }
  const loadAfter = loadavg();
  const head = ["config", "measure", "taorl", "peer", "ratio", "target", "peak RSS MB (taorl / peer)"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
  console.log([line(head), ...rows.map(line)].join("\n"));
  console.log(`load average (1/5/15 min) before ${loadBefore.map((x) => x.toFixed(2)).join("/")}, after ${loadAfter.map((x) => x.toFixed(2)).join("/")}; ${availableParallelism()} cores`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({
    node: process.version, cores: availableParallelism(), load_before: loadBefore, load_after: loadAfter,
    configs: Object.fromEntries(names.map((n) => [n, CONFIGS[n]])), prompt_tokens: PROMPT, results,
    targets: { train_step_vs_torch: "≤ 4×", decode_vs_native: "≥ 0.5×" },
  }, null, 2) + "\n");
  console.log(`wrote ${out}`);
}

await main();

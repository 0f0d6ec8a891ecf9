// bench/rl: the TAO-RL step on the CPU side — filters, advantages, entropy bonus and loss coefficients —
// over batches of 10^4 to 10^7 tokens, against a plain copy of the same input arrays measured in the same
// run (the memory bound). Prints a table and writes JSON.
// Usage: node dist/node/bench-rl.mjs [--out bench/results/rl.json] [--max 1e7] [--min-time 0.5]
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { DEFAULTS } from "../src/config.js";
import { computeAdvantages, filterBatch, policyLoss, seededRandom } from "../src/rl/index.js";
import type { TaoBatch, TaoRlOptions } from "../src/types.js";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const out = arg("out", "bench/results/rl.json");
const maxTokens = Number(arg("max", "1e7"));
const minTime = Number(arg("min-time", "0.5"));

const T = 512;
const G = 8;

/**
 * A realistic batch: groups of 8; each row is a prompt (mask 0), then turns of 24-120 policy tokens with
 * a 8-48 token observation (mask 0) after each code turn, then padding; post-tool turns are marked.
 */
function makeBatch(tokens: number, seed: number): TaoBatch {
  const B = Math.max(G, Math.round(tokens / T / G) * G);
  const rand = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const entropy = new Float32Array(B * T);
  const logp = new Float32Array(B * T);
  const oldLogp = new Float32Array(B * T);
  const batch: TaoBatch = {
    B, T,
    group: new Int32Array(B), reward: new Float64Array(B),
    responseMask: new Uint8Array(B * T), postToolMask: new Uint8Array(B * T),
    toolCalls: new Int32Array(B), validToolCalls: new Int32Array(B),
    isVoid: new Uint8Array(B), truncated: new Uint8Array(B),
    entropy, logp, oldLogp,
  };
  for (let b = 0; b < B; b++) {
    batch.group[b] = Math.floor(b / G);
    batch.reward[b] = rand() < 0.5 ? 1 : 0;
    batch.isVoid[b] = rand() < 0.03 ? 1 : 0;
    batch.truncated[b] = rand() < 0.05 ? 1 : 0;
    let t = int(48, 128);
    let turn = 0;
    while (t < T) {
      const len = Math.min(T - t, int(24, 120));
      for (let i = b * T + t; i < b * T + t + len; i++) {
        batch.responseMask[i] = 1;
        batch.postToolMask[i] = turn > 0 ? 1 : 0;
        entropy[i] = -Math.log(1 - rand() * 0.999);
        oldLogp[i] = -2 * rand();
        logp[i] = oldLogp[i] + (rand() - 0.5) * 0.4;
      }
      t += len + int(8, 48);
      turn++;
      if (rand() < 0.3) break;
    }
    batch.toolCalls[b] = turn - 1;
    batch.validToolCalls[b] = Math.floor(rand() * turn);
  }
  return batch;
}

/** The full per-step computation on one mini-batch. */
function taoStep(batch: TaoBatch, opts: TaoRlOptions): number {
  const f = filterBatch(batch, opts);
  const advantage = computeAdvantages(batch, opts, f.stats);
  return policyLoss({ batch, advantage, lossMask: f.lossMask }, opts).loss;
}

/** The memory bound: copy every input array the step reads, into preallocated outputs. */
function copyInputs(batch: TaoBatch, dst: TaoBatch): number {
  dst.responseMask.set(batch.responseMask);
  dst.postToolMask.set(batch.postToolMask);
  (dst.entropy as Float32Array).set(batch.entropy as Float32Array);
  (dst.logp as Float32Array).set(batch.logp as Float32Array);
  (dst.oldLogp as Float32Array).set(batch.oldLogp as Float32Array);
  return dst.responseMask[0];
}

/** The same copy as an element-wise loop: the bound for a scalar JavaScript kernel over these arrays. */
function copyInputsLoop(batch: TaoBatch, dst: TaoBatch): number {
  const n = batch.B * batch.T;
  const [m, g, h, lp, old] = [batch.responseMask, batch.postToolMask, batch.entropy as Float32Array, batch.logp as Float32Array, batch.oldLogp as Float32Array];
  const [dm, dg, dh, dlp, dold] = [dst.responseMask, dst.postToolMask, dst.entropy as Float32Array, dst.logp as Float32Array, dst.oldLogp as Float32Array];
  for (let i = 0; i < n; i++) { dm[i] = m[i]; dg[i] = g[i]; dh[i] = h[i]; dlp[i] = lp[i]; dold[i] = old[i]; }
  return dm[0];
}

function inputBytes(batch: TaoBatch): number {
  return batch.B * batch.T * (1 + 1 + 4 + 4 + 4);
}

/** Median seconds per call, repeating until `minTime` seconds have passed (at least 3 calls). */
function time(fn: () => number): number {
  fn();
  const samples: number[] = [];
  const start = performance.now();
  let sink = 0;
  while (samples.length < 3 || (performance.now() - start) / 1000 < minTime) {
    const t0 = performance.now();
    sink += fn();
    samples.push((performance.now() - t0) / 1000);
  }
  if (Number.isNaN(sink)) console.error("(sink)");
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const sizes = [1e4, 1e5, 1e6, 1e7].filter((n) => n <= maxTokens);
const rows: Array<Record<string, number>> = [];
const fmt = (x: number, d = 2) => x.toFixed(d).padStart(9);
console.log(`bench/rl: TAO-RL step (filter + advantage + bonus + loss coefficients) vs a copy of its inputs; node ${process.version}`);
console.log(`${"tokens".padStart(10)} ${"B×T".padStart(10)} ${"step ms".padStart(9)} ${"ns/tok".padStart(9)} ${"GB/s".padStart(9)} ${"memcpy ms".padStart(9)} ${"GB/s".padStart(9)} ${"× memcpy".padStart(9)} ${"loop ms".padStart(9)} ${"× loop".padStart(9)}`);
for (const n of sizes) {
  const batch = makeBatch(n, 1);
  const dst = makeBatch(G * T, 2);
  const BT = batch.B * batch.T;
  const copyDst: TaoBatch = { ...dst, B: batch.B, responseMask: new Uint8Array(BT), postToolMask: new Uint8Array(BT), entropy: new Float32Array(BT), logp: new Float32Array(BT), oldLogp: new Float32Array(BT) };
  const step = time(() => taoStep(batch, DEFAULTS));
  const copy = time(() => copyInputs(batch, copyDst));
  const loop = time(() => copyInputsLoop(batch, copyDst));
  const bytes = inputBytes(batch);
  const row = {
    tokens: BT, B: batch.B, T: batch.T,
    step_ms: step * 1e3, ns_per_token: (step / BT) * 1e9, step_gbps: bytes / step / 1e9,
    copy_ms: copy * 1e3, copy_gbps: (2 * bytes) / copy / 1e9, ratio_to_copy: step / copy,
    loop_copy_ms: loop * 1e3, ratio_to_loop_copy: step / loop,
  };
  rows.push(row);
  console.log(`${String(BT).padStart(10)} ${`${batch.B}×${T}`.padStart(10)} ${fmt(row.step_ms)} ${fmt(row.ns_per_token)} ${fmt(row.step_gbps)} ${fmt(row.copy_ms)} ${fmt(row.copy_gbps)} ${fmt(row.ratio_to_copy)} ${fmt(row.loop_copy_ms)} ${fmt(row.ratio_to_loop_copy)}`);
}
console.log("GB/s: input bytes read per second (step), bytes read + written per second (memcpy = TypedArray.set).");
console.log("× memcpy / × loop: step time over the time to copy the same five input arrays with memcpy / an element-wise JS loop.");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ bench: "rl", node: process.version, date: new Date().toISOString(), T, group_size: G, rows }, null, 2) + "\n");
console.log(`wrote ${out}`);

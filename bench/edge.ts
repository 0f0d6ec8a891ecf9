// bench/edge: the edge bundle (dist/edge/: worker.mjs plus the wasm and model modules workerd.capnp embeds)
// on workerd, Cloudflare's open-source runtime: the size of each part (raw and gzip), and cold starts over
// several fresh processes: spawn → first 200 on /health, then the first /v1/tao/shape of 16 trajectories,
// the first /v1/generate (loads the embedded policy on onnxruntime-web) and a second one. The peer: the
// same requests against `taorl serve` on Node (models/default), started the same way.
// Usage: node dist/node/bench-edge.mjs [--runs 5] [--out bench/results/edge.json]
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const runs = Number(arg("runs", "5"));
const out = arg("out", join(root, "bench", "results", "edge.json"));
const edgeDir = join(root, "dist", "edge");
const workerd = join(root, "node_modules", ".bin", "workerd");
const shapeBody = JSON.stringify({
  trajectories: readFileSync(join(root, "examples", "trajectories.jsonl"), "utf8").trim().split("\n").slice(0, 16).map((l) => JSON.parse(l)),
});
// one prompt the default policy answers without a tool call (same tokens on both: the test checks the
// engines agree), so no Python start-up on Node is timed
const generateBody = JSON.stringify({ prompts: ["What is 17 * 23?"], n: 1, seed: 1, max_response_tokens: 128 });

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

async function firstOk(url: string, proc: ChildProcess, t0: number): Promise<number> {
  for (;;) {
    try {
      if ((await fetch(url)).ok) return performance.now() - t0;
    } catch {
      if (proc.exitCode !== null) throw new Error(`server exited (${proc.exitCode})`);
      if (performance.now() - t0 > 30_000) throw new Error("no answer within 30 s");
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

async function timedPost(url: string, body: string): Promise<{ ms: number; json: { trajectories?: Array<{ tokens: number; tool_calls: number }> } }> {
  const t0 = performance.now();
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }, body });
  const text = await r.text();
  if (!r.ok) throw new Error(`${url} answered ${r.status}: ${text}`);
  return { ms: performance.now() - t0, json: JSON.parse(text) };
}

interface Run { healthMs: number; shapeMs: number; generateMs: number; generate2Ms: number; tokens: number; toolCalls: number }

async function coldStart(kind: "workerd" | "node"): Promise<Run> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "taorl-bench-edge-"));
  const t0 = performance.now();
  const proc = kind === "workerd"
    ? spawn(workerd, ["serve", join(edgeDir, "workerd.capnp"), "--socket-addr", `http=127.0.0.1:${port}`], { stdio: "ignore" })
    : spawn(process.execPath, [join(root, "dist", "node", "cli.mjs"), "serve", "--port", String(port), "--model", join(root, "models", "default"), "--jobs", join(dir, "jobs")], { stdio: "ignore" });
  try {
    const base = `http://127.0.0.1:${port}`;
    const healthMs = await firstOk(`${base}/health`, proc, t0);
    const shapeMs = (await timedPost(`${base}/v1/tao/shape`, shapeBody)).ms;
    const first = await timedPost(`${base}/v1/generate`, generateBody);
    const second = await timedPost(`${base}/v1/generate`, generateBody);
    const t = first.json.trajectories?.[0];
    return { healthMs, shapeMs, generateMs: first.ms, generate2Ms: second.ms, tokens: t?.tokens ?? 0, toolCalls: t?.tool_calls ?? -1 };
  } finally {
    proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kib = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(0)} KiB`);
const mib = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : kib(n));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

async function main(): Promise<void> {
  const parts = files(edgeDir)
    .filter((f) => !f.endsWith(".capnp"))
    .map((f) => ({ file: relative(edgeDir, f), bytes: statSync(f).size, gzip_bytes: gzipSync(readFileSync(f)).length }))
    .sort((a, b) => b.bytes - a.bytes);
  const total = { bytes: parts.reduce((n, p) => n + p.bytes, 0), gzip_bytes: parts.reduce((n, p) => n + p.gzip_bytes, 0) };
  const rows: Record<string, Run[]> = { workerd: [], node: [] };
  for (let i = 0; i < runs; i++) {
    for (const kind of ["workerd", "node"] as const) {
      const r = await coldStart(kind);
      rows[kind].push(r);
      process.stderr.write(`  ${kind} run ${i + 1}: /health ${r.healthMs.toFixed(0)} ms, shape ${r.shapeMs.toFixed(1)} ms, first generate ${r.generateMs.toFixed(0)} ms, second ${r.generate2Ms.toFixed(0)} ms (${r.tokens} tokens, ${r.toolCalls} tool calls)\n`);
    }
  }
  console.log(`\nbench/edge: dist/edge, ${runs} cold starts each, medians\n`);
  console.log("| part of the edge bundle | raw | gzip |");
  console.log("|---|---|---|");
  for (const p of parts) console.log(`| \`${p.file}\` | ${mib(p.bytes)} | ${mib(p.gzip_bytes)} |`);
  console.log(`| total | ${mib(total.bytes)} | ${mib(total.gzip_bytes)} |\n`);
  console.log("| runtime | spawn → first /health | first /v1/tao/shape | first /v1/generate (policy load + 1 rollout) | second /v1/generate |");
  console.log("|---|---|---|---|---|");
  for (const [k, v] of Object.entries(rows)) {
    const m = (f: (r: Run) => number) => median(v.map(f));
    console.log(`| ${k === "node" ? "Node (taorl serve, peer)" : "workerd (edge bundle)"} | ${m((r) => r.healthMs).toFixed(0)} ms | ${m((r) => r.shapeMs).toFixed(1)} ms | ${m((r) => r.generateMs).toFixed(0)} ms | ${m((r) => r.generate2Ms).toFixed(0)} ms |`);
  }
  const summary = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, {
    health_ms: v.map((r) => r.healthMs), shape_ms: v.map((r) => r.shapeMs), first_generate_ms: v.map((r) => r.generateMs), second_generate_ms: v.map((r) => r.generate2Ms),
    generate_tokens: v[0]?.tokens, generate_tool_calls: v[0]?.toolCalls,
  }]));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ node: process.version, runs, generate_request: JSON.parse(generateBody), parts, total, rows: summary }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});

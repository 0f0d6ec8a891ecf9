// bench/edge: the edge bundle (dist/edge/worker.mjs) on workerd, Cloudflare's open-source runtime: bundle
// size (raw and gzip), cold start (process spawn → first 200 on /health, and the first /v1/tao/shape),
// over several fresh processes; the same two requests against the Node server started the same way
// (`taorl serve`) as the peer.
// Usage: node dist/node/bench-edge.mjs [--runs 5] [--out bench/results/edge.json]
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const runs = Number(arg("runs", "5"));
const out = arg("out", join(root, "bench", "results", "edge.json"));
const bundle = join(root, "dist", "edge", "worker.mjs");
const workerd = join(root, "node_modules", ".bin", "workerd");
const shapeBody = JSON.stringify({
  trajectories: readFileSync(join(root, "examples", "trajectories.jsonl"), "utf8").trim().split("\n").slice(0, 16).map((l) => JSON.parse(l)),
});

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

async function coldStart(kind: "workerd" | "node"): Promise<{ healthMs: number; shapeMs: number }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "taorl-bench-edge-"));
  let proc: ChildProcess;
  const t0 = performance.now();
  if (kind === "workerd") {
    copyFileSync(bundle, join(dir, "worker.mjs"));
    writeFileSync(join(dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .taorl) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const taorl :Workerd.Worker = (
  modules = [ (name = "worker.mjs", esModule = embed "worker.mjs") ],
  compatibilityDate = "2025-01-01",
);
`);
    proc = spawn(workerd, ["serve", join(dir, "config.capnp")], { stdio: "ignore" });
  } else {
    proc = spawn(process.execPath, [join(root, "dist", "node", "cli.mjs"), "serve", "--port", String(port), "--model", join(dir, "none")], { stdio: "ignore" });
  }
  try {
    const healthMs = await firstOk(`http://127.0.0.1:${port}/health`, proc, t0);
    const t1 = performance.now();
    const r = await fetch(`http://127.0.0.1:${port}/v1/tao/shape`, { method: "POST", headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(shapeBody)) }, body: shapeBody });
    if (!r.ok) throw new Error(`${kind}: /v1/tao/shape answered ${r.status}: ${await r.text()}`);
    await r.arrayBuffer();
    return { healthMs, shapeMs: performance.now() - t1 };
  } finally {
    proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const raw = statSync(bundle).size;
  const gz = gzipSync(readFileSync(bundle)).length;
  const rows: Record<string, { health_ms: number[]; shape_ms: number[] }> = { workerd: { health_ms: [], shape_ms: [] }, node: { health_ms: [], shape_ms: [] } };
  for (let i = 0; i < runs; i++) {
    for (const kind of ["workerd", "node"] as const) {
      const r = await coldStart(kind);
      rows[kind].health_ms.push(r.healthMs);
      rows[kind].shape_ms.push(r.shapeMs);
      process.stderr.write(`  ${kind} run ${i + 1}: first /health ${r.healthMs.toFixed(0)} ms, first shape ${r.shapeMs.toFixed(1)} ms\n`);
    }
  }
  console.log(`\nbench/edge: dist/edge/worker.mjs ${(raw / 1024).toFixed(0)} KiB (${(gz / 1024).toFixed(0)} KiB gzip); ${runs} cold starts each, medians\n`);
  console.log("| runtime | spawn → first /health | first /v1/tao/shape (16 trajectories) |");
  console.log("|---|---|---|");
  for (const [k, v] of Object.entries(rows)) console.log(`| ${k === "node" ? "Node (taorl serve, peer)" : "workerd (edge bundle)"} | ${median(v.health_ms).toFixed(0)} ms | ${median(v.shape_ms).toFixed(1)} ms |`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ node: process.version, bundle_bytes: raw, bundle_gzip_bytes: gz, runs, rows }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});

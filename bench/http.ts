// bench/http: the HTTP API under load (issue 6 §5). The Node server (startNodeServer with a warm sandbox
// pool) runs in a child process; autocannon drives it from this one over loopback, 64 connections for a
// bounded time per endpoint: POST /v1/tao/shape (16 trajectories of examples/trajectories.jsonl), POST
// /v1/sandbox/run (a small JavaScript and a small Python program), and, measured in the same run, two peers:
// a bare node:http server in the same child that reads the same request body and answers a JSON body of the
// shape response's size, and hono's GET /health. Reports req/s, p50/p99 latency, errors and non-2xx (must
// be 0), and the server process's RSS (after a GC) before and after each endpoint plus its peak while
// loaded (QuickJS workers are threads of that process; Pyodide hosts are its children, not counted).
// Memory flat: the whole list runs `--rounds` times; the table is the last round, and flat means the heap
// after GC ends where it started and RSS stops growing (the last round adds < 32 MB: wasm heaps and
// allocator pools grow to a plateau and are kept). Prints a Markdown table; writes JSON.
// Usage: node dist/node/bench-http.mjs [--out bench/results/http.json] [--duration 10] [--warmup 2] [--connections 64] [--rounds 2] [--note TEXT]
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { availableParallelism, loadavg } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { SandboxPool } from "../src/sandbox/node.js";
import { startNodeServer } from "../src/server/node.js";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

interface Mem { rssMb: number; heapUsedMb: number; peakRssMb: number }
type ToChild = { type: "mem" } | { type: "peer-body"; body: string } | { type: "stop" };
type ToParent = { type: "ready"; url: string; peerUrl: string } | ({ type: "mem" } & Mem) | { type: "peer-body-set" };

const MB = 1024 * 1024;

// ---- the server process -----------------------------------------------------------------------------------

async function serve(): Promise<void> {
  const send = (m: ToParent) => process.send!(m);
  const pool = new SandboxPool({ pythonStart: "eager" });
  await pool.warm("javascript");
  await pool.warm("python");
  const server = await startNodeServer({ version: "bench", tools: pool }, 0, "127.0.0.1");
  let peerBody = "{}";
  const peer = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(peerBody) });
      res.end(peerBody);
    });
  });
  await new Promise<void>((r) => peer.listen(0, "127.0.0.1", () => r()));
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
  process.on("message", async (m: ToChild) => {
    if (m.type === "peer-body") { peerBody = m.body; send({ type: "peer-body-set" }); }
    if (m.type === "mem") {
      (globalThis as { gc?: () => void }).gc?.();
      const u = process.memoryUsage();
      send({ type: "mem", rssMb: u.rss / MB, heapUsedMb: u.heapUsed / MB, peakRssMb: Math.max(peak, u.rss) / MB });
      peak = u.rss;
    }
    if (m.type === "stop") {
      clearInterval(sampler);
      peer.close();
      await server.close();
      await pool.close();
      process.exit(0);
    }
  });
  const addr = peer.address() as { port: number };
  send({ type: "ready", url: server.url, peerUrl: `http://127.0.0.1:${addr.port}` });
}

// ---- the load generator -------------------------------------------------------------------------------------

interface Scenario { name: string; url: string; method: "GET" | "POST"; body?: string }
interface Row {
  name: string; requestsPerS: number; p50Ms: number; p99Ms: number; requests: number; errors: number; timeouts: number; non2xx: number;
  rssBeforeMb: number; rssAfterMb: number; peakRssMb: number; heapBeforeMb: number; heapAfterMb: number; ratioToPeer?: number;
}

function request(child: ChildProcess, m: ToChild, reply: ToParent["type"]): Promise<ToParent> {
  return new Promise((resolve) => {
    const on = (r: ToParent) => { if (r.type === reply) { child.off("message", on); resolve(r); } };
    child.on("message", on);
    child.send(m);
  });
}

async function check(url: string, body: string, expect: (r: Record<string, unknown>) => boolean, what: string): Promise<string> {
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
  const text = await res.text();
  if (res.status !== 200 || !expect(JSON.parse(text))) throw new Error(`${what}: unexpected answer ${res.status} ${text.slice(0, 300)}`);
  return text;
}

function load(s: Scenario, connections: number, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url: s.url, method: s.method, connections, duration, pipelining: 1,
    ...(s.body !== undefined ? { body: s.body, headers: { "content-type": "application/json" } } : {}),
  });
}

async function main(): Promise<void> {
  const out = arg("out", "bench/results/http.json");
  const duration = Number(arg("duration", "10"));
  const warmup = Number(arg("warmup", "2"));
  const connections = Number(arg("connections", "64"));
  const rounds = Math.max(1, Number(arg("rounds", "2")));
  const note = arg("note", "");
  const load0 = loadavg();

  const child = fork(fileURLToPath(import.meta.url), ["--serve"], { execArgv: ["--expose-gc"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ready = await new Promise<Extract<ToParent, { type: "ready" }>>((resolve, reject) => {
    child.once("message", (m: ToParent) => (m.type === "ready" ? resolve(m) : reject(new Error(`unexpected ${m.type}`))));
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  try {
    const records = readFileSync(new URL("../../examples/trajectories.jsonl", import.meta.url), "utf8").trim().split("\n").slice(0, 16).map((l) => JSON.parse(l));
    const shapeBody = JSON.stringify({ trajectories: records });
    const shaped = await check(`${ready.url}/v1/tao/shape`, shapeBody, (r) => Array.isArray(r.records) && r.records.length === 16, "shape");
    // the peer answers a JSON body of exactly the shape response's size
    const filler = JSON.stringify({ records: "" });
    await request(child, { type: "peer-body", body: JSON.stringify({ records: "x".repeat(Buffer.byteLength(shaped) - filler.length) }) }, "peer-body-set");
    await check(ready.peerUrl, shapeBody, (r) => typeof r.records === "string", "peer");
    const JS = "var s = 0; for (var i = 0; i < 10; i++) s += i * i; print(s)";
    const PY = "s = 0\nfor i in range(10):\n    s += i * i\nprint(s)";
    const jsBody = JSON.stringify({ language: "javascript", code: JS });
    const pyBody = JSON.stringify({ language: "python", code: PY });
    for (const b of [jsBody, pyBody]) await check(`${ready.url}/v1/sandbox/run`, b, (r) => r.status === "ok" && r.stdout === "285\n", "sandbox");

    const scenarios: Scenario[] = [
      { name: "peer: node:http, same request and response size as shape", url: ready.peerUrl, method: "POST", body: shapeBody },
      { name: "peer: hono GET /health", url: `${ready.url}/health`, method: "GET" },
      { name: "POST /v1/tao/shape (16 trajectories)", url: `${ready.url}/v1/tao/shape`, method: "POST", body: shapeBody },
      { name: "POST /v1/sandbox/run javascript", url: `${ready.url}/v1/sandbox/run`, method: "POST", body: jsBody },
      { name: "POST /v1/sandbox/run python", url: `${ready.url}/v1/sandbox/run`, method: "POST", body: pyBody },
    ];
    const mem = async () => (await request(child, { type: "mem" }, "mem")) as Extract<ToParent, { type: "mem" }>;
    const start = await mem();
    const roundEndRssMb: number[] = [];
    let rows: Row[] = [];
    const allRounds: Row[][] = [];
    for (let round = 0; round < rounds; round++) {
    rows = [];
    for (const s of scenarios) {
      if (warmup > 0) await load(s, connections, warmup);
      const before = await mem();
      const r = await load(s, connections, duration);
      const after = await mem();
      rows.push({
        name: s.name, requestsPerS: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99, requests: r.requests.total,
        errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx,
        rssBeforeMb: before.rssMb, rssAfterMb: after.rssMb, peakRssMb: after.peakRssMb, heapBeforeMb: before.heapUsedMb, heapAfterMb: after.heapUsedMb,
      });
      console.error(`round ${round + 1}: ${s.name}: ${Math.round(r.requests.average)} req/s, p99 ${r.latency.p99} ms, errors ${r.errors}, non-2xx ${r.non2xx}`);
    }
    allRounds.push(rows);
    roundEndRssMb.push((await mem()).rssMb);
    }
    const end = await mem();
    for (const rs of allRounds) for (const r of rs) r.ratioToPeer = r.requestsPerS / rs[0].requestsPerS;

    const failures = allRounds.flat().reduce((n, r) => n + r.errors + r.timeouts + r.non2xx, 0);
    // flat: the heap after GC ends where it started, and RSS settles (wasm heaps and allocator pools may keep some)
    const memory = {
      startRssMb: start.rssMb, endRssMb: end.rssMb, rssGrowthMb: end.rssMb - start.rssMb, peakRssMb: Math.max(...rows.map((r) => r.peakRssMb)),
      startHeapMb: start.heapUsedMb, endHeapMb: end.heapUsedMb, heapGrowthMb: end.heapUsedMb - start.heapUsedMb,
      roundEndRssMb, lastRoundRssGrowthMb: rounds > 1 ? roundEndRssMb[rounds - 1] - roundEndRssMb[rounds - 2] : NaN,
    };
    const flat = memory.heapGrowthMb < 16 && (rounds === 1 || memory.lastRoundRssGrowthMb < 32);

    const f = (x: number, d = 0) => x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
    const lines = [
      `HTTP API under load: ${connections} connections, ${duration} s per endpoint (after ${warmup} s warm-up), round ${rounds} of ${rounds}, loopback; ${availableParallelism()} cores, node ${process.version}${note ? `; ${note}` : ""}`,
      "",
      "| endpoint | req/s | × node:http peer | p50 ms | p99 ms | failed | server RSS MB before → after (peak) |",
      "|---|---|---|---|---|---|---|",
      ...rows.map((r) => `| ${r.name} | ${f(r.requestsPerS)} | ${f(r.ratioToPeer!, 2)} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors + r.timeouts + r.non2xx} | ${f(r.rssBeforeMb)} → ${f(r.rssAfterMb)} (${f(r.peakRssMb)}) |`),
      "",
      `failed requests (all rounds): ${failures}; server RSS after GC ${f(memory.startRssMb)} → ${roundEndRssMb.map((x) => f(x)).join(" → ")} MB after each round (peak ${f(memory.peakRssMb)}), heap ${f(memory.startHeapMb, 1)} → ${f(memory.endHeapMb, 1)} MB: ${flat ? "flat" : "NOT flat"}`,
    ];
    console.log(lines.join("\n"));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({
      node: process.version, cores: availableParallelism(), connections, durationS: duration, warmupS: warmup, loadAverageAtStart: load0, note,
      requests: { shape: { trajectories: records.length, bytes: Buffer.byteLength(shapeBody), responseBytes: Buffer.byteLength(shaped) }, javascript: JS, python: PY },
      rounds, rows, earlierRounds: allRounds.slice(0, -1), memory, failedRequests: failures, memoryFlat: flat,
    }, null, 2) + "\n");
    console.log(`wrote ${out}`);
    if (failures > 0 || !flat) process.exitCode = 1;
  } finally {
    child.send({ type: "stop" } satisfies ToChild);
  }
}

if (process.argv.includes("--serve")) await serve();
else await main();

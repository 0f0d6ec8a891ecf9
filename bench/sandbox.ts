// bench/sandbox: per-call latency (p50, p99) and calls/s of a small arithmetic program through the
// sandbox pool — QuickJS fresh (the default: a new context per call), QuickJS warm session (one context
// reused), Pyodide warm (fresh namespace in a warm process) — against a fresh `python3 -I -S -c`
// subprocess per call, measured in the same run. Latency: one caller, calls in sequence. Throughput:
// 8 concurrent callers. Prints a table and the ratios to the subprocess; writes JSON. Then where a fresh
// QuickJS call's time goes: its steps in process (runtime, context, print/console, the call, dispose), and
// the worker message round trip (a warm-session call through the pool minus the same call in process).
// Usage: node dist/node/bench-sandbox.mjs [--out bench/results/sandbox.json] [--calls 2000] [--subprocess-calls 100]
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import type { SandboxResult } from "../src/types.js";
import { QuickJsSandbox } from "../src/sandbox/index.js";
import { SandboxPool } from "../src/sandbox/node.js";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const out = arg("out", "bench/results/sandbox.json");
const calls = Number(arg("calls", "2000"));
const subprocessCalls = Number(arg("subprocess-calls", "100"));
const CALLERS = 8;

const PY = "s = 0\nfor i in range(10):\n    s += i * i\nprint(s)";
const JS = "var s = 0; for (var i = 0; i < 10; i++) s += i * i; print(s)";
const EXPECTED = "285\n";

type Call = () => Promise<SandboxResult>;

function subprocess(): Promise<SandboxResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile("python3", ["-I", "-S", "-c", PY], { timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? "error" : "ok", stdout, stderr, elapsedMs: performance.now() - t0 });
    });
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface Row { name: string; p50Ms: number; p99Ms: number; sequentialCallsPerS: number; concurrentCallsPerS: number; calls: number }

async function measure(name: string, call: Call, n: number): Promise<Row> {
  for (let i = 0; i < Math.min(20, n); i++) check(await call(), name); // warm-up
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    check(await call(), name);
    lat.push(performance.now() - t);
  }
  const seqS = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const t1 = performance.now();
  let done = 0;
  await Promise.all(Array.from({ length: CALLERS }, async () => {
    while (done < n) { done++; check(await call(), name); }
  }));
  const conS = (performance.now() - t1) / 1000;
  return { name, p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99), sequentialCallsPerS: n / seqS, concurrentCallsPerS: n / conS, calls: n };
}

function check(r: SandboxResult, name: string): void {
  if (r.status !== "ok" || r.stdout !== EXPECTED) throw new Error(`${name}: unexpected result ${JSON.stringify(r)}`);
}

/** Median µs of `f` over `n` runs after a warm-up (medians: this machine is shared and noisy). */
function medianUs(n: number, f: () => void): number {
  for (let i = 0; i < 200; i++) f();
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    us.push((performance.now() - t) * 1000);
  }
  return us.sort((a, b) => a - b)[n >> 1];
}

async function freshBreakdown(warmPoolP50Ms: number): Promise<Record<string, number>> {
  const q = new QuickJsSandbox();
  const session = new QuickJsSandbox({ sessionMode: "shared" });
  try {
    const steps = await q.profileFresh(JS, calls);
    await session.ready();
    const warmUs = medianUs(calls, () => void session.runSync(JS, {}, { session: "s" }));
    return {
      "off the call's path (prepare):": steps.runtime + steps.context + steps.output + steps.dispose,
      "  new runtime + interrupt handler": steps.runtime,
      "  new context (standard intrinsics)": steps.context,
      "  print/console host functions": steps.output,
      "  dispose the finished call's runtime": steps.dispose,
      "on the call's path:": 0,
      "  limits, eval, pending jobs (prepared context)": steps.call,
      "  same, unprepared (the call creates and disposes)": medianUs(calls, () => void q.runSync(JS)),
      "  eval in a warm session context": warmUs,
      "  worker round trip + pool (warm pool p50 - eval)": warmPoolP50Ms * 1000 - warmUs,
    };
  } finally {
    await q.close();
    await session.close();
  }
}

const fresh = new SandboxPool({ pythonStart: "eager" });
const shared = new SandboxPool({ sessionMode: "shared", pythonSpares: 0 });
try {
  await fresh.warm("javascript");
  await fresh.warm("python");
  await shared.warm("javascript");
  let session = 0;
  const rows: Row[] = [];
  rows.push(await measure("python3 -I -S -c subprocess", subprocess, subprocessCalls));
  rows.push(await measure("QuickJS, fresh context (default)", () => fresh.run({ language: "javascript", code: JS }), calls));
  rows.push(await measure("QuickJS, warm session context", () => shared.run({ language: "javascript", code: JS, session: `s${session++ % CALLERS}` }), calls));
  rows.push(await measure("Pyodide, warm process (fresh namespace)", () => fresh.run({ language: "python", code: PY }), calls));

  const base = rows[0];
  const table = rows.map((r) => ({
    ...r,
    sequentialRatio: r.sequentialCallsPerS / base.sequentialCallsPerS,
    concurrentRatio: r.concurrentCallsPerS / base.concurrentCallsPerS,
  }));
  const f = (x: number, d = 1) => x.toFixed(d).padStart(10);
  console.log(`sandbox calls: ${CALLERS} concurrent callers for calls/s; one caller for latency; ${availableParallelism()} cores, node ${process.version}`);
  console.log(`${"runtime".padEnd(42)}${"p50 ms".padStart(10)}${"p99 ms".padStart(10)}${"seq/s".padStart(10)}${"conc/s".padStart(10)}${"× seq".padStart(10)}${"× conc".padStart(10)}`);
  for (const r of table) {
    console.log(`${r.name.padEnd(42)}${f(r.p50Ms, 3)}${f(r.p99Ms, 3)}${f(r.sequentialCallsPerS, 0)}${f(r.concurrentCallsPerS, 0)}${f(r.sequentialRatio)}${f(r.concurrentRatio)}`);
  }
  const byName = (prefix: string) => table.find((r) => r.name.startsWith(prefix))!;
  const targets = {
    quickjsFresh500x: byName("QuickJS, fresh").concurrentRatio >= 500,
    quickjsWarm500x: byName("QuickJS, warm").concurrentRatio >= 500,
    pyodideWarm20x: byName("Pyodide").concurrentRatio >= 20,
  };
  console.log(`targets (concurrent calls/s vs subprocess): QuickJS ≥ 500× fresh ${targets.quickjsFresh500x}, warm ${targets.quickjsWarm500x}; Pyodide ≥ 20× ${targets.pyodideWarm20x}`);
  const breakdown = await freshBreakdown(byName("QuickJS, warm").p50Ms);
  console.log("fresh QuickJS call, µs (medians; in process, round trip from the pool's p50):");
  for (const [k, v] of Object.entries(breakdown)) console.log(`  ${k.padEnd(52)}${v.toFixed(1).padStart(8)}`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ node: process.version, cores: availableParallelism(), callers: CALLERS, program: { python: PY, javascript: JS }, rows: table, targets, breakdownUs: breakdown }, null, 2) + "\n");
  console.log(`wrote ${out}`);
} finally {
  await fresh.close();
  await shared.close();
}

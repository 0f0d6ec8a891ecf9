// The edge bundle (dist/edge/, built by the global setup: worker.mjs, its wasm and model modules,
// workerd.capnp) served by workerd, Cloudflare's open-source runtime, on loopback: the same app and the
// same answers as on Node, with the JavaScript sandbox in-process.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PYTHON_ON_THE_EDGE } from "../../src/cli/edge-deps.js";
import { PolicyGenerator } from "../../src/cli/serve-deps.js";
import { generateTasks, taskProblem } from "../../src/agent/tasks.js";
import { QuickJsSandbox } from "../../src/sandbox/quickjs.js";
import { RemoteSandbox } from "../../src/sandbox/remote.js";
import { ToolRouter } from "../../src/sandbox/router.js";
import type { GenerateRequest, GeneratedTrajectory } from "../../src/server/policy-api.js";
import { hostileJavaScript, hostileJavaScriptLimits } from "../sandbox/hostile-programs.js";

const config = fileURLToPath(new URL("../../dist/edge/workerd.capnp", import.meta.url));
const workerd = fileURLToPath(new URL("../../node_modules/.bin/workerd", import.meta.url));
const cli = fileURLToPath(new URL("../../dist/node/cli.mjs", import.meta.url));
const model = fileURLToPath(new URL("../../models/default", import.meta.url));
const TOKEN = "edge-token";
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { "content-type": "application/json", ...auth };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

interface Served { proc: ChildProcess; base: string }

/** Starts `command` with a fresh port and waits for its first 200 on /health. */
async function serve(command: (port: number) => [string, string[]], env: Record<string, string>): Promise<Served> {
  const port = await freePort();
  const [file, args] = command(port);
  const proc = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "", ...env } });
  let log = "";
  proc.stdout!.on("data", (d) => (log += d));
  proc.stderr!.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/health`)).ok) return { proc, base };
    } catch {
      if (proc.exitCode !== null) throw new Error(`${file} exited (${proc.exitCode}): ${log}`);
      if (Date.now() > deadline) throw new Error(`${file} did not answer within 20 s: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const serveEdge = (env: Record<string, string>) =>
  serve((port) => [workerd, ["serve", config, "--socket-addr", `http=127.0.0.1:${port}`]], { TAORL_API_TOKEN: TOKEN, ...env });

let edge: Served;
let base = "";
/** A taorl serve (its POST /run_code runs Python) and a second workerd pointed at it by TAORL_SANDBOX_URL. */
let node: Served;
let remoteEdge: Served;
let jobsDir = "";

beforeAll(async () => {
  jobsDir = mkdtempSync(join(tmpdir(), "taorl-edge-jobs-"));
  [edge, node] = await Promise.all([
    serveEdge({}),
    serve((port) => [process.execPath, [cli, "serve", "--port", String(port), "--model", join(jobsDir, "no-model"), "--jobs", join(jobsDir, "jobs")]], {}),
  ]);
  base = edge.base;
  remoteEdge = await serveEdge({ TAORL_SANDBOX_URL: node.base });
}, 60_000);

afterAll(() => {
  for (const s of [edge, node, remoteEdge]) s?.proc.kill("SIGTERM");
  if (jobsDir) rmSync(jobsDir, { recursive: true, force: true });
});

const post = (path: string, body: unknown, at = base) => fetch(`${at}${path}`, { method: "POST", body: JSON.stringify(body), headers: json });

/** The same request through the Node engine in this process, with `tools` as the edge's tool runner. */
async function generateOnNode(req: Partial<GenerateRequest> & { prompts: string[] }, tools: ToolRouter): Promise<GeneratedTrajectory[]> {
  const gen = new PolicyGenerator(model, tools.run.bind(tools));
  try {
    const { batches } = await gen.generate({ n: 1, stream: false, ...req });
    const out: GeneratedTrajectory[] = [];
    for await (const b of batches) out.push(...b);
    return out;
  } finally {
    await gen.close();
  }
}


describe("edge bundle on workerd", () => {
  it("serves /health and /v1/info with the worker's token binding", async () => {
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: "ok" });
    expect((await fetch(`${base}/v1/info`)).status).toBe(401);
    const info = await (await fetch(`${base}/v1/info`, { headers: auth })).json();
    expect(info.runtime).toBe("edge");
    expect(info.sandbox).toEqual({ javascript: "quickjs (in-process)", python: null });
    expect(info.defaults.clip_ratio_high).toBe(0.28);
  });

  it("serves the dashboard page without a token, its CSP hashed with the worker's Web Crypto", async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'sha256-[A-Za-z0-9+/]{43}='/);
  });

  it("shapes trajectories exactly as on Node", async () => {
    const rec = (reward: number, post: number[], ent: number[]) => ({
      group: "g", reward, loss_mask: [0, 1, 1], post_tool: post, entropy: ent, tool_calls: 1, valid_tool_calls: 1, void: false, truncated: false,
    });
    const body = JSON.stringify({ trajectories: [rec(1, [0, 0, 1], [0, 0.5, 1.5]), rec(0, [0, 0, 0], [0, 1, 1])] });
    const r = await fetch(`${base}/v1/tao/shape`, {
      method: "POST", body,
      headers: json,
    });
    expect(r.status).toBe(200);
    const out = await r.json();
    const A = 0.5 / (Math.sqrt(0.5) + 1e-6);
    const z = 0.5 / (Math.sqrt(0.125) + 1e-8);
    expect(out.records[0].token_advantages[2]).toBeCloseTo(A * (1 + 0.01 * z), 7);
    expect(out.records[1].advantage).toBeCloseTo(-A, 7);
  });

  it("answers garbage with problem details", async () => {
    const r = await fetch(`${base}/v1/tao/shape`, {
      method: "POST", body: "{oops", headers: json,
    });
    expect(r.status).toBe(400);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
  });
});

interface RunResponse { status: string; stdout: string; stderr: string; outcome: string; observation: string }

describe("JavaScript tool calls on the edge: QuickJS in-process from the imported module", () => {
  it("runs a program: status, output, outcome and observation as on Node", async () => {
    const r = await post("/v1/sandbox/run", { language: "javascript", code: "print(6 * 7)", final_answer: true });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: "ok", stdout: "42\n", stderr: "", outcome: "valid", observation: "\nCode execution result: 42\n\n" });
    const fin = (await (await post("/v1/sandbox/run", { language: "javascript", code: "final_answer(391)", final_answer: true })).json()) as RunResponse;
    expect(fin).toMatchObject({ status: "ok", stdout: "\\boxed{391}\n" });
  });

  it("reports errors, timeouts, out of memory and the output cap with Node's statuses", async () => {
    const run = async (body: Record<string, unknown>) => (await (await post("/v1/sandbox/run", { language: "javascript", ...body })).json()) as RunResponse;
    expect(await run({ code: "null.x" })).toMatchObject({ status: "error", outcome: "error", stderr: "TypeError: cannot read property 'x' of null\n" });
    expect(await run({ code: "while (true) {}", timeout_ms: 200 })).toMatchObject({ status: "timeout", stderr: "TimeoutError: execution exceeded 200 ms\n" });
    expect(await run({ code: "'x'.repeat(2 ** 27)", memory_mb: 32 })).toMatchObject({ status: "oom", stderr: "InternalError: out of memory\n" });
    expect(await run({ code: "for (;;) print('spam')", output_bytes: 100 })).toMatchObject({ status: "output_limit", outcome: "output_limit" });
    expect(await run({ code: "print(1 + 1)" })).toMatchObject({ status: "ok", stdout: "2\n" });
  });

  for (const c of hostileJavaScript) {
    it(`hostile: ${c.name}`, async () => {
      const r = (await (await post("/v1/sandbox/run", {
        language: "javascript", code: c.code, timeout_ms: c.timeoutMs ?? hostileJavaScriptLimits.timeoutMs,
        memory_mb: hostileJavaScriptLimits.memoryBytes / 2 ** 20, output_bytes: hostileJavaScriptLimits.outputBytes,
      })).json()) as RunResponse;
      // a race of two limits: on workerd the join reaches 32 MiB before the 300 ms deadline (on Node, after)
      if (c.name === "slow builtin that never polls the interrupt") expect(["timeout", "oom"]).toContain(r.status);
      else expect(r.status).toBe(c.status);
      if (c.stdout !== undefined) expect(r.stdout).toBe(c.stdout);
      if (typeof c.stderr === "string") expect(r.stderr).toBe(c.stderr);
      else if (c.stderr) expect(r.stderr).toMatch(c.stderr);
      // the next call starts clean: no pollution survives a call, a poisoned runtime was replaced
      expect(await (await post("/v1/sandbox/run", { language: "javascript", code: "print([].push(1), ({}).polluted)" })).json()).toMatchObject({ status: "ok", stdout: "1 undefined\n", stderr: "" });
    });
  }

  it("serves SandboxFusion's run_code for nodejs", async () => {
    const r = await post("/run_code", { code: "console.log(40 + 2)", language: "nodejs", run_timeout: 1 });
    expect(r.status).toBe(200);
    const out = await r.json();
    expect([out.status, out.run_result.status, out.run_result.stdout, out.run_result.return_code]).toEqual(["Success", "Finished", "42\n", 0]);
    const slow = await (await post("/run_code", { code: "for (;;) {}", language: "javascript", run_timeout: 0.2 })).json();
    expect([slow.status, slow.run_result.status]).toEqual(["Failed", "TimeLimitExceeded"]);
  });

  it("answers Python with 501 and the reason when no remote sandbox is configured", async () => {
    for (const [path, body] of [["/v1/sandbox/run", { language: "python", code: "print(1)" }], ["/run_code", { language: "python", code: "print(1)" }]] as const) {
      const r = await post(path, body);
      expect(r.status).toBe(501);
      expect((await r.json()).detail).toMatch(/Python does not run on the edge.*TAORL_SANDBOX_URL/);
    }
  });
});

const request = { prompts: ["What is 17 * 23?", "q = [3, 4]. What is the sum of q?"], n: 2, seed: 7, answers: ["391", "7"], max_response_tokens: 160 };

describe("generation and evaluation on the edge: the embedded default policy on onnxruntime-web", () => {

  it("generates trajectories equal to the Node engine's for the same seed (same sandbox answers)", async () => {
    const r = await post("/v1/generate", request);
    expect(r.status).toBe(200);
    const out = await r.json();
    expect(out.seed).toBe(7);
    expect(out.trajectories).toHaveLength(4);
    for (const t of out.trajectories) {
      expect(t.tokens).toBeGreaterThan(0);
      expect(t.response.length).toBeGreaterThan(0);
      expect([0, 1]).toContain(t.reward);
    }
    // Node: onnxruntime-web in this process, with the edge's tools (QuickJS, Python refused with the same reason)
    const onNode = await generateOnNode(request, new ToolRouter({ javascript: new QuickJsSandbox() }, { python: PYTHON_ON_THE_EDGE }));
    expect(out.trajectories).toEqual(onNode);
  });

  it("streams trajectories as server-sent events", async () => {
    const r = await post("/v1/generate", { ...request, stream: true });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await r.text();
    expect(text.match(/^event: trajectory$/gm)).toHaveLength(4);
    expect(text).toMatch(/^event: done\ndata: \{"seed":7,"trajectories":4,/m);
  });

  it("evaluates within the request: 200 with the finished job, kept in memory for /v1/jobs", async () => {
    const r = await post("/v1/evaluate", { problems: 2, k: 2, seed: 0, rollout: { max_response_tokens: 160 } });
    expect(r.status).toBe(200);
    const job = await r.json();
    expect(job).toMatchObject({ kind: "evaluate", status: "completed", persisted: false, progress: { step: 1, steps: 1 } });
    expect(job.result).toMatchObject({ problems: 2, k: 2 });
    expect(job.result.avg_at_k).toBeGreaterThanOrEqual(0);
    expect(r.headers.get("location")).toBe(`/v1/jobs/${job.id}`);
    expect(await (await fetch(`${base}/v1/jobs/${job.id}`, { headers: auth })).json()).toEqual(job);
    const events = await (await fetch(`${base}/v1/jobs/${job.id}/events`, { headers: auth })).text();
    expect(events.match(/^event: (\w+)$/gm)).toEqual(["event: status", "event: eval", "event: status"]);
    expect((await (await fetch(`${base}/v1/jobs`, { headers: auth })).json()).jobs.map((j: { id: string }) => j.id)).toContain(job.id);
    const big = await post("/v1/evaluate", { problems: 64, k: 4 });
    expect(big.status).toBe(400);
    expect((await big.json()).errors[0].message).toMatch(/at most 128/);
    const bench = await post("/v1/evaluate", { benchmark: "gsm8k_test", problems: 1, k: 1 });
    expect(bench.status).toBe(501);
    expect((await bench.json()).detail).toMatch(/benchmark files are not bundled with the edge worker/);
  });

  it("answers training with 501 and the reason, and says what runs where in /v1/info", async () => {
    const r = await post("/v1/train", { preset: "tao-rl", steps: 1 });
    expect(r.status).toBe(501);
    expect((await r.json()).detail).toMatch(/training does not run on the edge/);
    const info = await (await fetch(`${base}/v1/info`, { headers: auth })).json();
    expect(info).toMatchObject({ model: "models/default (embedded)", jobs: { kinds: ["evaluate"], persisted: false } });
  });

});

describe("Python from the edge through a remote sandbox (TAORL_SANDBOX_URL = a taorl serve's /run_code)", () => {
  const run = async (body: Record<string, unknown>) => (await (await post("/v1/sandbox/run", { language: "python", ...body }, remoteEdge.base)).json()) as RunResponse;

  it("runs Python with Node's statuses: ok, error, timeout, final_answer", async () => {
    expect(await run({ code: "print(2 ** 100)" })).toMatchObject({ status: "ok", stdout: "1267650600228229401496703205376\n", outcome: "valid" });
    expect(await run({ code: "final_answer(6 * 7)", final_answer: true })).toMatchObject({ status: "ok", stdout: "\\boxed{42}\n" });
    const err = await run({ code: "1 / 0" });
    expect([err.status, err.stderr.trim().split("\n").pop()]).toEqual(["error", "ZeroDivisionError: division by zero"]);
    expect(await run({ code: "while True:\n    pass", timeout_ms: 500 })).toMatchObject({ status: "timeout", outcome: "timeout" });
    expect(await run({ code: "print('x' * 10000)", output_bytes: 100 })).toMatchObject({ status: "output_limit" });
    const info = await (await fetch(`${remoteEdge.base}/v1/info`, { headers: auth })).json();
    expect(info.sandbox.python).toBe(`remote (${node.base}/run_code)`);
  }, 30_000);

  it("serves run_code for Python through it", async () => {
    const out = await (await post("/run_code", { code: "print(6 * 7)", language: "python", run_timeout: 3 }, remoteEdge.base)).json();
    expect([out.status, out.run_result.stdout]).toEqual(["Success", "42\n"]);
  });

  // questions of the procedural task family (the policy answers them with Python; /v1/generate sends no `q` prelude)
  const tasks = { prompts: generateTasks(0, "test", 2).map((t) => taskProblem(t).question), n: 2, max_response_tokens: 300 };

  it("generates with Python tool calls run remotely, equal to the Node engine's trajectories with the same sandbox", async () => {
    const req = { ...tasks, seed: 11 };
    const r = await post("/v1/generate", req, remoteEdge.base);
    expect(r.status).toBe(200);
    const out = await r.json();
    const python = new RemoteSandbox("python", { url: node.base });
    const onNode = await generateOnNode(req, new ToolRouter({ javascript: new QuickJsSandbox(), python }));
    expect(out.trajectories).toEqual(onNode);
    expect(out.trajectories.some((t: GeneratedTrajectory) => t.turns.some((k) => k.kind === "code"))).toBe(true);
  }, 30_000);

  it("refuses a second engine request while one runs (429) instead of waiting on another request's promises", async () => {
    // a generation yields to other requests only while a tool call is on the network: Python here
    const long = { ...tasks, n: 4, seed: 3 };
    const answers = await Promise.all([post("/v1/generate", long, remoteEdge.base), post("/v1/generate", long, remoteEdge.base)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 429]);
    expect((await answers.find((a) => a.status === 429)!.json()).detail).toMatch(/busy with a generation request/);
    expect((await post("/v1/generate", request, remoteEdge.base)).status).toBe(200);
  }, 30_000);
});

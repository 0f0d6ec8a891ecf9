// `taorl serve` over a real loopback socket: the bundled CLI, started on a free port.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableBenchmarks } from "../../src/agent/benchmarks.js";
import { CLI as cli, spawnServe } from "./spawn-serve.js";

let proc: ChildProcess;
let base = "";

const jobsDir = mkdtempSync(join(tmpdir(), "taorl-node-jobs-"));

beforeAll(async () => {
  // settings from the environment: token, jobs folder (its own, so a running `npm start` does not hold it), workers
  ({ proc, base } = await spawnServe([], { TAORL_API_TOKEN: "t0k", TAORL_JOBS: jobsDir, TAORL_WORKERS: "3" }));
});
afterAll(async () => {
  proc.kill("SIGTERM");
  await new Promise((r) => (proc.exitCode === null ? proc.once("exit", r) : r(null)));
  rmSync(jobsDir, { recursive: true, force: true });
});

/** A raw request, so the test controls Content-Length and chunking. */
function raw(path: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: "POST", headers }, (res) => {
      let data = "";
      res.on("data", (d) => (data += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("taorl serve", () => {
  it("takes its settings from the environment (jobs folder, sandbox workers) and rejects bad ones", async () => {
    const info = await (await fetch(`${base}/v1/info`, { headers: { authorization: "Bearer t0k" } })).json();
    expect(info.jobs).toBe(jobsDir);
    expect(info.sandbox_workers).toEqual({ javascript: 3, python: 1 });
    expect(info.benchmarks).toEqual(availableBenchmarks()); // what /v1/evaluate can draw from
    for (const [args, env, message] of [
      [["--workers", "0"], {}, /--workers \(TAORL_WORKERS\): expected an integer in 1-64, got "0"/],
      [[], { TAORL_PYTHON_WORKERS: "two" }, /--python-workers \(TAORL_PYTHON_WORKERS\): expected an integer in 1-16, got "two"/],
    ] as Array<[string[], Record<string, string>, RegExp]>) {
      const bad = spawn(process.execPath, [cli, "serve", "--port", "0", "--jobs", jobsDir, ...args], { env: { ...process.env, ...env } });
      let err = "";
      bad.stderr!.on("data", (d) => (err += d));
      const code = await new Promise((r) => bad.on("exit", r));
      expect(code).toBe(2);
      expect(err).toMatch(message);
    }
  });

  it("prints its URL on loopback and answers /health without a token", async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: "ok" });
  });

  it("requires the token on /v1 and shapes with it", async () => {
    expect((await fetch(`${base}/v1/info`)).status).toBe(401);
    const body = JSON.stringify({ trajectories: [
      { group: 1, reward: 1, loss_mask: [1, 1], post_tool: [0, 1], entropy: [1, 2], tool_calls: 1, valid_tool_calls: 1, void: false, truncated: false },
      { group: 1, reward: 0, loss_mask: [1, 1], post_tool: [0, 0], entropy: [1, 1], tool_calls: 0, valid_tool_calls: 0, void: false, truncated: false },
    ] });
    const r = await fetch(`${base}/v1/tao/shape`, { method: "POST", body, headers: { "content-type": "application/json", authorization: "Bearer t0k" } });
    expect(r.status).toBe(200);
    const out = await r.json();
    expect(out.records.map((x: { kept: boolean }) => x.kept)).toEqual([true, true]);
  });

  it("refuses a chunked body without Content-Length (411) and a declared oversize (413)", async () => {
    const auth = { authorization: "Bearer t0k", "content-type": "application/json" };
    expect((await raw("/v1/tao/shape", "{}", { ...auth, "transfer-encoding": "chunked" })).status).toBe(411);
    const big = await raw("/v1/tao/shape", "", { ...auth, "content-length": String(64 * 1024 * 1024) });
    expect(big.status).toBe(413);
  });
});

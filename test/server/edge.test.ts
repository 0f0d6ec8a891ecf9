// The edge bundle (dist/edge/worker.mjs, built by the global setup) served by workerd, Cloudflare's
// open-source runtime: the same app and the same answers as on Node.
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const bundle = fileURLToPath(new URL("../../dist/edge/worker.mjs", import.meta.url));
const workerd = fileURLToPath(new URL("../../node_modules/.bin/workerd", import.meta.url));
let proc: ChildProcess;
let dir = "";
let base = "";

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

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "taorl-edge-"));
  copyFileSync(bundle, join(dir, "worker.mjs"));
  const port = await freePort();
  writeFileSync(join(dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .taorl) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const taorl :Workerd.Worker = (
  modules = [ (name = "worker.mjs", esModule = embed "worker.mjs") ],
  compatibilityDate = "2025-01-01",
  bindings = [ (name = "TAORL_API_TOKEN", text = "edge-token") ],
);
`);
  proc = spawn(workerd, ["serve", join(dir, "config.capnp")], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stderr!.on("data", (d) => (log += d));
  base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      if (proc.exitCode !== null) throw new Error(`workerd exited (${proc.exitCode}): ${log}`);
      if (Date.now() > deadline) throw new Error(`workerd did not answer within 20 s: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

afterAll(() => {
  proc?.kill("SIGTERM");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("edge bundle on workerd", () => {
  it("serves /health and /v1/info with the worker's token binding", async () => {
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: "ok" });
    expect((await fetch(`${base}/v1/info`)).status).toBe(401);
    const info = await (await fetch(`${base}/v1/info`, { headers: { authorization: "Bearer edge-token" } })).json();
    expect(info.runtime).toBe("edge");
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
      headers: { "content-type": "application/json", authorization: "Bearer edge-token" },
    });
    expect(r.status).toBe(200);
    const out = await r.json();
    const A = 0.5 / (Math.sqrt(0.5) + 1e-6);
    const z = 0.5 / (Math.sqrt(0.125) + 1e-8);
    expect(out.records[0].token_advantages[2]).toBeCloseTo(A * (1 + 0.01 * z), 7);
    expect(out.records[1].advantage).toBeCloseTo(-A, 7);
  });

  it("has no sandbox on the edge yet: 501 with the reason", async () => {
    const body = JSON.stringify({ language: "javascript", code: "print(1)" });
    const r = await fetch(`${base}/v1/sandbox/run`, { method: "POST", body, headers: { "content-type": "application/json", authorization: "Bearer edge-token" } });
    expect(r.status).toBe(501);
    expect((await r.json()).detail).toMatch(/no code sandbox/);
  });

  it("answers garbage with problem details", async () => {
    const r = await fetch(`${base}/v1/tao/shape`, {
      method: "POST", body: "{oops", headers: { "content-type": "application/json", authorization: "Bearer edge-token" },
    });
    expect(r.status).toBe(400);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
  });
});

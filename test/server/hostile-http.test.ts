// The hostile sandbox suites through the HTTP API (issue 6 §5): every JavaScript and Python program of
// test/sandbox/hostile-programs.ts sent to POST /v1/sandbox/run on a real socket (startNodeServer, port 0)
// must end with the same status as through the pool, reach nothing on the host (a canary file stays unread
// and unchanged, the probe path is never created, this process's environment never shows up), and the
// server keeps answering /health during and after.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxPool } from "../../src/sandbox/node.js";
import { startNodeServer, type NodeServer } from "../../src/server/node.js";
import { hostileJavaScript, hostileJavaScriptLimits, hostilePython, hostilePythonLimits } from "../sandbox/hostile-programs.js";

const TOKEN = "h0stile";
const secret = `taorl-canary-${randomBytes(8).toString("hex")}`;
// set before the pool starts its hosts, so an inherited environment would carry it
process.env.TAORL_HOSTILE_HTTP_CANARY = secret;
const dir = mkdtempSync(join(tmpdir(), "taorl-hostile-http-"));
const canary = join(dir, "canary.txt");
writeFileSync(canary, secret);
const canaryStat = statSync(canary);
// directly in tmpdir, as in the pool suite: Pyodide's in-memory filesystem has /tmp, so the write "succeeds" there
const probe = join(tmpdir(), `taorl-hostile-http-probe-${process.pid}`);

const pool = new SandboxPool({ javascriptWorkers: 2, javascriptGraceMs: 300, pythonWorkers: 1, pythonSpares: 1, pythonStart: "eager" });
let server: NodeServer;

/** /health polled every 50 ms for the whole file: every answer must be a 200. */
const health = { ok: 0, failed: [] as string[], worstMs: 0, stop: false, done: Promise.resolve() };

beforeAll(async () => {
  await pool.warm("python");
  server = await startNodeServer({ version: "0.0.0-hostile", token: TOKEN, tools: pool }, 0, "127.0.0.1");
  health.done = (async () => {
    while (!health.stop) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${server.url}/health`);
        if (res.status === 200 && (await res.json()).status === "ok") health.ok++;
        else health.failed.push(`status ${res.status}`);
      } catch (e) {
        health.failed.push(String(e));
      }
      health.worstMs = Math.max(health.worstMs, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
}, 60_000);
afterAll(async () => {
  health.stop = true;
  await health.done;
  await server?.close();
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
  delete process.env.TAORL_HOSTILE_HTTP_CANARY;
});

interface RunResponse { status: string; stdout: string; stderr: string; outcome: string; observation: string }

async function run(body: Record<string, unknown>): Promise<RunResponse> {
  const res = await fetch(`${server.url}/v1/sandbox/run`, {
    method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as RunResponse;
}

/** Nothing the host holds appears in a response. */
function expectNoLeak(r: RunResponse): void {
  for (const text of [r.stdout, r.stderr, r.observation]) {
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/root:x:0:0|uid=\d+/);
  }
}

const lastLine = (s: string) => s.trim().split("\n").pop();

describe("hostile JavaScript through POST /v1/sandbox/run", () => {
  for (const c of hostileJavaScript) {
    it(c.name, async () => {
      const r = await run({ language: "javascript", code: c.code, timeout_ms: c.timeoutMs ?? hostileJavaScriptLimits.timeoutMs, memory_mb: hostileJavaScriptLimits.memoryBytes / 2 ** 20, output_bytes: hostileJavaScriptLimits.outputBytes });
      expect(r.status).toBe(c.status);
      if (c.stdout !== undefined) expect(r.stdout).toBe(c.stdout);
      if (typeof c.stderr === "string") expect(r.stderr).toBe(c.stderr);
      else if (c.stderr) expect(r.stderr).toMatch(c.stderr);
      expectNoLeak(r);
      expect(await run({ language: "javascript", code: "print([].push(1), ({}).polluted)" })).toMatchObject({ status: "ok", stdout: "1 undefined\n", stderr: "" });
    });
  }
});

describe("hostile Python through POST /v1/sandbox/run", () => {
  for (const c of hostilePython(probe)) {
    it(c.name, async () => {
      const r = await run({ language: "python", code: c.code, timeout_ms: hostilePythonLimits.timeoutMs, memory_mb: hostilePythonLimits.memoryBytes / 2 ** 20, output_bytes: hostilePythonLimits.outputBytes });
      expect(r.status).toBe(c.status);
      if (c.stdout !== undefined) expect(r.stdout).toBe(c.stdout);
      if (typeof c.last === "string") expect(lastLine(r.stderr)).toBe(c.last);
      else if (c.last) expect(lastLine(r.stderr)).toMatch(c.last);
      expectNoLeak(r);
      expect(await run({ language: "python", code: "import sys\nprint(len([1]), sys.getrecursionlimit())" })).toMatchObject({ status: "ok", stdout: "1 1000\n", stderr: "" });
    }, 30_000);
  }
});

describe("the host through the API", () => {
  const attempts: Array<[string, string, string]> = [
    ["python", "read the canary", `print(open(${JSON.stringify(canary)}).read())`],
    ["python", "list the canary's folder", `import os\nprint(os.listdir(${JSON.stringify(dir)}))`],
    ["python", "overwrite the canary", `open(${JSON.stringify(canary)}, 'w').write('pwned')\nprint(open(${JSON.stringify(canary)}).read())`],
    ["python", "read the environment", "import os\nprint(dict(os.environ))"],
    ["python", "read /proc/self/environ", "print(open('/proc/self/environ', 'rb').read())"],
    ["python", "find the canary through the parent process", "import os\nprint(os.getppid(), open(f'/proc/{os.getppid()}/environ', 'rb').read())"],
    ["javascript", "read the environment", "print(typeof process === 'undefined' ? 'no process' : JSON.stringify(process.env))"],
    ["javascript", "reach a host global through the Function constructor", "const g = Function('return this')(); print(Object.keys(g).join(','), typeof g.process)"],
    ["javascript", "load a host module", `import('node:fs').then((fs) => print(fs.readFileSync(${JSON.stringify(canary)}, 'utf8')), (e) => print('refused'))`],
  ];
  for (const [language, name, code] of attempts) {
    it(`${language}: ${name}`, async () => {
      const r = await run({ language, code, timeout_ms: 2000 });
      expectNoLeak(r);
      expect(statSync(canary).mtimeMs).toBe(canaryStat.mtimeMs);
    }, 30_000);
  }

  it("the canary is unchanged and unread, the probe never created, and /health answered throughout", () => {
    const now = statSync(canary); // before this test reads it: with relatime, a read after the write moves atime
    expect(now.atimeMs).toBe(canaryStat.atimeMs);
    expect(now.mtimeMs).toBe(canaryStat.mtimeMs);
    expect(readFileSync(canary, "utf8")).toBe(secret);
    expect(existsSync(probe)).toBe(false);
    expect(health.failed).toEqual([]);
    expect(health.ok).toBeGreaterThan(10);
    expect(health.worstMs).toBeLessThan(2000);
  });
});

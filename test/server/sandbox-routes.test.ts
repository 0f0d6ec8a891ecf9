// The sandbox over HTTP: /v1/sandbox/run (taorl's request) and /run_code (SandboxFusion's), on the real
// pool, including hostile code that must not reach the host.
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/server/app.js";
import { SandboxPool } from "../../src/sandbox/node.js";

const pool = new SandboxPool({ javascriptWorkers: 1 });
afterAll(() => pool.close());
const app = createApp({ version: "t", tools: pool, token: "k" });

function post(path: string, body: unknown, a = app) {
  const text = JSON.stringify(body);
  return a.request(path, {
    method: "POST", body: text,
    headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), authorization: "Bearer k" },
  });
}

describe("sandbox routes", () => {
  it("runs JavaScript and Python with outcome and the TIR observation", async () => {
    const js = await (await post("/v1/sandbox/run", { language: "javascript", code: "print(6*7)" })).json();
    expect(js).toMatchObject({ status: "ok", stdout: "42\n", stderr: "", outcome: "valid", observation: "\nCode execution result: 42\n\n" });
    const py = await (await post("/v1/sandbox/run", { language: "python", code: "final_answer(2**70)", final_answer: true })).json();
    expect(py).toMatchObject({ status: "ok", stdout: "\\boxed{1180591620717411303424}\n", outcome: "valid" });
  });

  it("hostile code gets its status and the host survives", async () => {
    const cases: Array<[string, string, string]> = [
      ["javascript", "while (true) {}", "timeout"],
      ["javascript", "require('fs').readFileSync('/etc/passwd')", "error"],
      ["javascript", "process.exit(1)", "error"],
      ["python", "import os; os.system('id')", "error"],
      ["python", "import js; print(js.process.pid)", "error"],
      ["python", "open('/etc/passwd').read()", "error"],
    ];
    for (const [language, code, status] of cases) {
      const r = await (await post("/v1/sandbox/run", { language, code, timeout_ms: 500 })).json();
      expect({ code, status: r.status }).toEqual({ code, status });
      expect(r.stdout).not.toMatch(/root:|uid=/);
    }
    expect((await (await post("/v1/sandbox/run", { language: "javascript", code: "print('still here')" })).json()).stdout).toBe("still here\n");
  });

  it("bad requests are 400 problems with field paths; no runner is 501; the token is required", async () => {
    const r = await post("/v1/sandbox/run", { language: "ruby", code: 1 });
    expect(r.status).toBe(400);
    const p = await r.json();
    expect(p.errors.map((e: { path: string }) => e.path).sort()).toEqual(["code", "language"]);
    const bare = createApp({ version: "t" });
    const text = JSON.stringify({ language: "javascript", code: "1" });
    const none = await bare.request("/v1/sandbox/run", { method: "POST", body: text, headers: { "content-type": "application/json", "content-length": String(text.length) } });
    expect(none.status).toBe(501);
    expect((await app.request("/run_code", { method: "POST", body: "{}", headers: { "content-type": "application/json", "content-length": "2" } })).status).toBe(401);
  });

  it("speaks SandboxFusion's run_code", async () => {
    const ok = await (await post("/run_code", { code: "print(1+1)", language: "python", run_timeout: 3 })).json();
    expect(ok.status).toBe("Success");
    expect(ok.run_result).toMatchObject({ status: "Finished", stdout: "2\n", return_code: 0 });
    const slow = await (await post("/run_code", { code: "while True: pass", language: "python", run_timeout: 0.5 })).json();
    expect(slow.run_result.status).toBe("TimeLimitExceeded");
    const bad = await (await post("/run_code", { code: "x", language: "cobol" })).json();
    expect(bad.status).toBe("SandboxError");
  });
});

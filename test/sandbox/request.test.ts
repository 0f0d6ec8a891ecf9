// runTool's validation and response, and the SandboxFusion run_code mapping in both directions.
import { afterAll, describe, expect, it } from "vitest";
import type { SandboxResult } from "../../src/types.js";
import { SandboxPool } from "../../src/sandbox/pool.js";
import {
  ToolRequestError, fromFusionRequest, fromFusionResponse, runFusionCode, runTool, toFusionResponse,
} from "../../src/sandbox/request.js";
import type { ToolRunner } from "../../src/sandbox/request.js";

const pool = new SandboxPool({ javascriptWorkers: 1 });
afterAll(() => pool.close());

/** Records the call it was given and answers with a fixed result. */
function fake(result: SandboxResult): ToolRunner & { calls: unknown[] } {
  const calls: unknown[] = [];
  return { calls, run: async (call) => { calls.push(call); return result; } };
}
const OK: SandboxResult = { status: "ok", stdout: "3\n", stderr: "", elapsedMs: 2 };

describe("runTool", () => {
  it("runs a validated request and adds outcome and observation", async () => {
    const r = await runTool(pool, { language: "javascript", code: "final_answer(1 + 2)", final_answer: true, timeout_ms: 500 });
    expect(r).toMatchObject({ status: "ok", stdout: "\\boxed{3}\n", stderr: "", outcome: "valid", observation: "\nCode execution result: \\boxed{3}\n\n" });
  });

  it("maps the snake_case limits onto the call", async () => {
    const runner = fake(OK);
    await runTool(runner, { language: "python", code: "print(3)", timeout_ms: 700, memory_mb: 32, output_bytes: 100, session: "t1" });
    expect(runner.calls).toEqual([{ language: "python", code: "print(3)", limits: { timeoutMs: 700, memoryBytes: 32 << 20, outputBytes: 100 }, session: "t1" }]);
  });

  it("rejects bad input with every offending field by path", async () => {
    const err = await runTool(fake(OK), { language: "ruby", code: 5, timeout_ms: -1, extra: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolRequestError);
    const paths = (err as ToolRequestError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(["", "code", "language", "timeout_ms"]);
  });
});

describe("SandboxFusion mapping", () => {
  it("reads run_code requests: seconds to ms, MB to bytes, -1 = no memory limit given", () => {
    expect(fromFusionRequest({ code: "print(1)", language: "python", run_timeout: 3, memory_limit_MB: 64 })).toEqual({
      call: { language: "python", code: "print(1)", limits: { timeoutMs: 3000, memoryBytes: 64 << 20 } },
    });
    expect(fromFusionRequest({ code: "print(1)", language: "nodejs", compile_timeout: 10, memory_limit_MB: -1 })).toEqual({
      call: { language: "javascript", code: "print(1)", limits: {} },
    });
    expect(fromFusionRequest({ code: "x", language: "cpp" })).toEqual({ error: 'language "cpp" is not supported (supported: python, nodejs, javascript, js)' });
    expect(fromFusionRequest({ code: "x", language: "python", stdin: "1\n" })).toEqual({ error: "stdin is not supported" });
  });

  it("writes each status in SandboxFusion's shape", () => {
    expect(toFusionResponse(OK)).toEqual({
      status: "Success", message: "", compile_result: null, executor_pod_name: null, files: {},
      run_result: { status: "Finished", execution_time: 0.002, return_code: 0, stdout: "3\n", stderr: "" },
    });
    const err = toFusionResponse({ status: "error", stdout: "", stderr: "NameError: x\n", elapsedMs: 1 });
    expect([err.status, err.run_result?.status, err.run_result?.return_code]).toEqual(["Failed", "Finished", 1]);
    const to = toFusionResponse({ status: "timeout", stdout: "", stderr: "", elapsedMs: 3000 });
    expect([to.status, to.run_result?.status, to.run_result?.return_code, to.run_result?.execution_time]).toEqual(["Failed", "TimeLimitExceeded", null, 3]);
    const oom = toFusionResponse({ status: "oom", stdout: "", stderr: "MemoryError\n", elapsedMs: 1 });
    expect([oom.status, oom.message, oom.run_result?.status, oom.run_result?.return_code]).toEqual(["Failed", "oom", "Finished", 1]);
  });

  it("round-trips ok, error and timeout through the SandboxFusion shape", () => {
    for (const r of [OK, { status: "error", stdout: "a\n", stderr: "E\n", elapsedMs: 5 }, { status: "timeout", stdout: "", stderr: "", elapsedMs: 300 }] as SandboxResult[]) {
      expect(fromFusionResponse(toFusionResponse(r))).toEqual(r);
    }
  });

  it("serves a run_code request end to end; an unsupported one is a SandboxError", async () => {
    const res = await runFusionCode(pool, { code: "console.log(40 + 2)", language: "nodejs", run_timeout: 1 });
    expect([res.status, res.run_result?.status, res.run_result?.stdout, res.run_result?.return_code]).toEqual(["Success", "Finished", "42\n", 0]);
    const bad = await runFusionCode(pool, { code: "fn main() {}", language: "rust" });
    expect([bad.status, bad.run_result]).toEqual(["SandboxError", null]);
  });
});

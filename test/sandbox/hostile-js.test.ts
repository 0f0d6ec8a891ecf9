// Hostile JavaScript: each case asserts its status (and output where it matters), that this process
// survives, and that the pool's next call succeeds.
import { afterAll, describe, expect, it } from "vitest";
import { SandboxPool } from "../../src/sandbox/pool.js";
import { hostileJavaScript, hostileJavaScriptLimits } from "./hostile-programs.js";

const pool = new SandboxPool({ javascriptWorkers: 2, javascriptGraceMs: 300 });
afterAll(() => pool.close());
const limits = hostileJavaScriptLimits;
const cases = hostileJavaScript;

describe("hostile JavaScript", () => {
  it("has at least 40 cases", () => expect(cases.length).toBeGreaterThanOrEqual(40));

  for (const c of cases) {
    it(c.name, async () => {
      const r = await pool.run({ language: "javascript", code: c.code, limits: { ...limits, timeoutMs: c.timeoutMs ?? limits.timeoutMs } });
      expect(r.status).toBe(c.status);
      if (c.stdout !== undefined) expect(r.stdout).toBe(c.stdout);
      if (typeof c.stderr === "string") expect(r.stderr).toBe(c.stderr);
      else if (c.stderr) expect(r.stderr).toMatch(c.stderr);
      expect(await pool.run({ language: "javascript", code: "print([].push(1), ({}).polluted)" })).toMatchObject({ status: "ok", stdout: "1 undefined\n", stderr: "" });
    });
  }

  it("nothing leaked into this process", () => {
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    expect(typeof Array.prototype.push).toBe("function");
    expect(([] as number[]).push(1)).toBe(1);
  });
});

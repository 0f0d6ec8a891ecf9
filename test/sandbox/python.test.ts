// Python on Pyodide in permission-model child processes: the conformance suite, the hostile suite, and
// 1000 mixed calls from 8 concurrent callers. One pool for the file (a cold Pyodide costs ~2 s).
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxPool } from "../../src/sandbox/pool.js";
import { sandboxConformance } from "./conformance.js";
import { hostilePython, hostilePythonLimits } from "./hostile-programs.js";

const pool = new SandboxPool({ javascriptWorkers: 1, pythonWorkers: 1, pythonSpares: 1, pythonStart: "eager" });
beforeAll(() => pool.warm("python"), 60_000);
afterAll(() => pool.close());

sandboxConformance("Pyodide pool", "python", () => pool.sandbox("python"));

const limits = hostilePythonLimits;
const lastLine = (s: string) => s.trim().split("\n").pop();
const probe = join(tmpdir(), `taorl-escape-probe-${process.pid}`);
const cases = hostilePython(probe);

describe("hostile Python", () => {
  it("has at least 40 cases", () => expect(cases.length).toBeGreaterThanOrEqual(40));

  for (const c of cases) {
    it(c.name, async () => {
      const r = await pool.run({ language: "python", code: c.code, limits });
      expect(r.status).toBe(c.status);
      if (c.stdout !== undefined) expect(r.stdout).toBe(c.stdout);
      if (typeof c.last === "string") expect(lastLine(r.stderr)).toBe(c.last);
      else if (c.last) expect(lastLine(r.stderr)).toMatch(c.last);
      const next = await pool.run({ language: "python", code: "import sys\nprint(len([1]), sys.getrecursionlimit())" });
      expect(next).toMatchObject({ status: "ok", stdout: "1 1000\n", stderr: "" });
    }, 30_000);
  }

  it("nothing reached this machine's filesystem", () => {
    expect(existsSync(probe)).toBe(false);
    expect(readFileSync("/dev/null", "utf8")).toBe("");
  });
});

describe("Python through the pool", () => {
  it("1000 calls (half Python, half JavaScript) from 8 concurrent callers all return the right output", async () => {
    const callers = Array.from({ length: 8 }, async (_, c) => {
      const outs: string[] = [];
      for (let i = 0; i < 125; i++) {
        const language = i % 2 === 0 ? "python" : "javascript";
        outs.push((await pool.run({ language, code: `print(${c} * 1000 + ${i})` })).stdout);
      }
      return outs;
    });
    const all = await Promise.all(callers);
    all.forEach((outs, c) => expect(outs).toEqual(Array.from({ length: 125 }, (_, i) => `${c * 1000 + i}\n`)));
  }, 60_000);

  it("shared sessions keep Python variables between blocks", async () => {
    const sp = new SandboxPool({ javascriptWorkers: 1, pythonSpares: 0, sessionMode: "shared" });
    try {
      expect((await sp.run({ language: "python", code: "n = 41", session: "t" })).status).toBe("ok");
      expect((await sp.run({ language: "python", code: "n += 1\nprint(n)", session: "t" })).stdout).toBe("42\n");
      expect((await sp.run({ language: "python", code: "print('n' in globals())", session: "u" })).stdout).toBe("False\n");
    } finally {
      await sp.close();
    }
  }, 60_000);
});

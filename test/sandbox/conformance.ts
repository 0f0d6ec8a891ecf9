// Shared conformance suite: every Sandbox implementation (in-process QuickJS, pooled QuickJS, pooled
// Pyodide) must give the same statuses and outputs for the same programs.
import { describe, expect, it } from "vitest";
import type { Language, Sandbox } from "../../src/sandbox/sandbox.js";
import { FINAL_ANSWER_PRELUDE } from "../../src/sandbox/tir.js";

/** The same programs in each language. */
export const PROGRAMS: Record<Language, Record<string, string>> = {
  javascript: {
    arithmetic: "print(6 * 7)",
    twoStreams: "print('out'); console.error('err')",
    typeError: "throw new TypeError('boom')",
    syntaxError: "let = ;",
    loop: "while (true) {}",
    bomb: "const s = 'x'.repeat(2 ** 27); print(s.length)",
    flood: "for (;;) print('0123456789')",
    setGlobal: "var carried = 5; print(carried)",
    readGlobal: "print(typeof carried)",
    finalAnswer: "final_answer(6 * 7)",
    printThenThrow: "print('before'); throw new RangeError('after')",
  },
  python: {
    arithmetic: "print(6 * 7)",
    twoStreams: "import sys\nprint('out')\nprint('err', file=sys.stderr)",
    typeError: "raise TypeError('boom')",
    syntaxError: "x = = 1",
    loop: "while True:\n    pass",
    bomb: "s = bytearray(1 << 30)\nprint(len(s))",
    flood: "while True:\n    print('0123456789')",
    setGlobal: "carried = 5\nprint(carried)",
    readGlobal: "print('carried' in globals())",
    finalAnswer: "final_answer(6 * 7)",
    printThenThrow: "print('before')\nraise ValueError('after')",
  },
};

const FRESH_READ: Record<Language, string> = { javascript: "undefined\n", python: "False\n" };

export function sandboxConformance(name: string, language: Language, get: () => Sandbox, opts: { timeoutMs?: number } = {}): void {
  const p = PROGRAMS[language];
  const limits = { timeoutMs: opts.timeoutMs ?? 500, memoryBytes: 64 * 1024 * 1024, outputBytes: 1000 };
  describe(`Sandbox conformance: ${name}`, () => {
    it("ok: stdout captured, stderr empty", async () => {
      const r = await get().run(p.arithmetic, limits);
      expect(r).toMatchObject({ status: "ok", stdout: "42\n", stderr: "" });
      expect(r.elapsedMs).toBeGreaterThanOrEqual(0);
    });
    it("ok with stderr output: both streams kept apart", async () => {
      expect(await get().run(p.twoStreams, limits)).toMatchObject({ status: "ok", stdout: "out\n", stderr: "err\n" });
    });
    it("uncaught error: status error, last stderr line `Name: message`", async () => {
      const r = await get().run(p.typeError, limits);
      expect(r.status).toBe("error");
      expect(r.stderr.trim().split("\n").pop()).toBe("TypeError: boom");
    });
    it("output before an error is kept", async () => {
      const r = await get().run(p.printThenThrow, limits);
      expect(r.status).toBe("error");
      expect(r.stdout).toBe("before\n");
      expect(r.stderr.trim().split("\n").pop()).toMatch(/^(RangeError|ValueError): after$/);
    });
    it("syntax error: status error, SyntaxError named", async () => {
      const r = await get().run(p.syntaxError, limits);
      expect(r.status).toBe("error");
      expect(r.stderr.trim().split("\n").pop()).toMatch(/^SyntaxError: /);
    });
    it("infinite loop: timeout near the deadline, then the next call works", async () => {
      const r = await get().run(p.loop, limits);
      expect(r.status).toBe("timeout");
      expect(r.stdout).toBe("");
      expect(r.elapsedMs).toBeGreaterThanOrEqual(limits.timeoutMs - 5);
      expect(await get().run(p.arithmetic, limits)).toMatchObject({ status: "ok", stdout: "42\n" });
    });
    it("allocation over the memory limit: oom, then the next call works", async () => {
      expect((await get().run(p.bomb, limits)).status).toBe("oom");
      expect(await get().run(p.arithmetic, limits)).toMatchObject({ status: "ok", stdout: "42\n" });
    });
    it("output flood: output_limit with exactly the byte budget kept", async () => {
      const r = await get().run(p.flood, limits);
      expect(r.status).toBe("output_limit");
      expect(r.stdout).toBe("0123456789\n".repeat(100).slice(0, 1000));
      expect(await get().run(p.arithmetic, limits)).toMatchObject({ status: "ok", stdout: "42\n" });
    });
    it("fresh by default: nothing carried between calls", async () => {
      expect((await get().run(p.setGlobal, limits, { session: "s1" })).stdout).toBe("5\n");
      expect((await get().run(p.readGlobal, limits, { session: "s1" })).stdout).toBe(FRESH_READ[language]);
    });
    it("prelude: final_answer prints \\boxed{x}", async () => {
      const r = await get().run(p.finalAnswer, limits, { prelude: FINAL_ANSWER_PRELUDE[language] });
      expect(r).toMatchObject({ status: "ok", stdout: "\\boxed{42}\n", stderr: "" });
    });
  });
}

// Hostile JavaScript: each case asserts its status (and output where it matters), that this process
// survives, and that the pool's next call succeeds.
import { afterAll, describe, expect, it } from "vitest";
import type { SandboxStatus } from "../../src/types.js";
import { SandboxPool } from "../../src/sandbox/pool.js";

const pool = new SandboxPool({ javascriptWorkers: 2, javascriptGraceMs: 300 });
afterAll(() => pool.close());
const limits = { timeoutMs: 300, memoryBytes: 32 * 1024 * 1024, outputBytes: 4096 };

interface Case { name: string; code: string; status: SandboxStatus; stdout?: string; stderr?: string | RegExp; timeoutMs?: number }

const cases: Case[] = [
  // runaways
  { name: "while (true)", code: "while (true) {}", status: "timeout" },
  { name: "for (;;) with work", code: "let i = 0; for (;;) i++", status: "timeout" },
  { name: "loop inside try/catch", code: "try { while (true) {} } catch (e) { print('caught') }", status: "timeout", stdout: "" },
  { name: "loop inside finally", code: "try { throw 1 } finally { while (true) {} }", status: "timeout" },
  { name: "endless promise chain", code: "function f() { Promise.resolve().then(f) } f()", status: "timeout" },
  { name: "async function that never yields", code: "(async () => { while (true) {} })()", status: "timeout" },
  { name: "infinite generator spread", code: "[...(function* () { while (true) yield 1 })()]", status: "oom", timeoutMs: 3000 },
  { name: "catastrophic regex backtracking", code: "/(a+)+$/.test('a'.repeat(32) + 'b')", status: "timeout" },
  { name: "Date.now replaced to dodge the deadline", code: "Date.now = () => 0; while (true) {}", status: "timeout" },
  { name: "slow builtin that never polls the interrupt", code: "Array(1e9).join('x')", status: "timeout" },
  { name: "getter that loops while the error is read", code: "throw { get message() { while (true) {} } }", status: "timeout" },
  // memory
  { name: "one huge string", code: "'x'.repeat(2 ** 27)", status: "oom", stderr: "InternalError: out of memory\n" },
  { name: "huge dense array", code: "new Array(2 ** 32 - 1).fill(0)", status: "oom" },
  { name: "object with endless keys", code: "const o = {}; for (let i = 0; ; i++) o['k' + i] = i", status: "oom", timeoutMs: 3000 },
  { name: "string doubling", code: "let s = 'x'; while (true) s += s", status: "error", stderr: "InternalError: string too long\n" },
  // stack
  { name: "deep recursion", code: "function f() { return f() + 1 } f()", status: "error", stderr: "InternalError: stack overflow\n" },
  { name: "mutual recursion", code: "const a = () => b(); const b = () => a(); a()", status: "error", stderr: "InternalError: stack overflow\n" },
  { name: "proxy get trap recursion", code: "const p = new Proxy({}, { get: (t, k) => p[k] }); p.x", status: "error", stderr: "InternalError: stack overflow\n" },
  { name: "deeply nested JSON", code: "JSON.parse('['.repeat(1e5))", status: "error" },
  { name: "toString recursion while printing", code: "const o = { toString() { return String(this) } }; print(String(o))", status: "error", stderr: "InternalError: stack overflow\n" },
  // output
  { name: "print flood", code: "for (;;) print('spam')", status: "output_limit" },
  { name: "one huge print", code: "print('x'.repeat(1e6))", status: "output_limit", stdout: "x".repeat(4096) },
  { name: "stderr flood", code: "for (;;) console.error('spam')", status: "output_limit" },
  { name: "huge error message", code: "throw new Error('x'.repeat(1e5))", status: "output_limit", stderr: "Error: " + "x".repeat(4089) },
  { name: "print flood that catches its own interruption", code: "for (;;) { try { for (;;) print('x') } catch (e) {} }", status: "output_limit" },
  // host access
  { name: "process", code: "print(typeof process); process.exit(1)", status: "error", stdout: "undefined\n", stderr: "ReferenceError: 'process' is not defined\n" },
  { name: "require", code: "require('fs')", status: "error", stderr: "ReferenceError: 'require' is not defined\n" },
  { name: "fetch", code: "fetch('http://127.0.0.1/')", status: "error", stderr: "ReferenceError: 'fetch' is not defined\n" },
  { name: "dynamic import", code: "import('node:fs').then(() => print('loaded'), (e) => print('refused: ' + e.message))", status: "ok", stdout: "refused: could not load module 'node:fs'\n" },
  { name: "static import", code: "import fs from 'fs'", status: "error", stderr: /^(SyntaxError|ReferenceError): / },
  { name: "host eval through the Function constructor", code: "print(typeof this.constructor.constructor('return this')().process)", status: "ok", stdout: "undefined\n" },
  { name: "new Function reaching for process", code: "new Function('return process')()", status: "error", stderr: "ReferenceError: 'process' is not defined\n" },
  { name: "indirect eval of require", code: "print((0, eval)('typeof require'))", status: "ok", stdout: "undefined\n" },
  { name: "WebAssembly", code: "new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))", status: "error", stderr: "ReferenceError: 'WebAssembly' is not defined\n" },
  { name: "SharedArrayBuffer", code: "new SharedArrayBuffer(8)", status: "error", stderr: "ReferenceError: 'SharedArrayBuffer' is not defined\n" },
  { name: "Atomics.wait", code: "Atomics.wait(new Int32Array(8), 0, 0)", status: "error", stderr: "ReferenceError: 'Atomics' is not defined\n" },
  { name: "timers", code: "print([typeof setTimeout, typeof setInterval, typeof setImmediate, typeof queueMicrotask].join())", status: "ok", stdout: "undefined,undefined,undefined,undefined\n" },
  { name: "QuickJS std/os modules", code: "print(typeof std, typeof os, typeof scriptArgs)", status: "ok", stdout: "undefined undefined undefined\n" },
  { name: "module loader", code: "import('std').catch((e) => print(e.message))", status: "ok", stdout: "could not load module 'std'\n" },
  { name: "globalThis has only guest objects", code: "const host = ['process', 'require', 'Buffer', 'fetch', 'module', 'exports', 'global', 'setTimeout', 'WebAssembly', 'SharedArrayBuffer', 'Atomics', 'std', 'os']; print(Object.getOwnPropertyNames(globalThis).filter((k) => host.includes(k)).length)", status: "ok", stdout: "0\n" },
  // pollution
  { name: "Object.prototype pollution", code: "Object.prototype.polluted = 'yes'; print({}.polluted)", status: "ok", stdout: "yes\n" },
  { name: "__proto__ through JSON", code: "const o = JSON.parse('{\"__proto__\": {\"polluted\": 1}}'); print(({}).polluted === undefined)", status: "ok", stdout: "true\n" },
  { name: "Array.prototype.push replaced", code: "Array.prototype.push = () => { throw new Error('hijacked') }; print('set')", status: "ok", stdout: "set\n" },
  { name: "print and console replaced", code: "print = null; console.log = null; console.error('still here')", status: "ok", stderr: "still here\n" },
  { name: "host writer called with odd arguments", code: "const w = Object.getOwnPropertyNames(globalThis); print(w.includes('write'))", status: "ok", stdout: "false\n" },
  { name: "throwing a non-Error object", code: "throw { toString() { return 'sneaky' } }", status: "error" },
  { name: "Symbol.toPrimitive that throws inside print", code: "print({ [Symbol.toPrimitive]() { throw new Error('no') }, toJSON() { throw new Error('no') } })", status: "error", stderr: "Error: no\n" },
];

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

// QuickJS in process: the conformance suite, sessions, and the rule that a fatal runtime is replaced.
import { afterAll, describe, expect, it } from "vitest";
import { QuickJsSandbox } from "../../src/sandbox/quickjs.js";
import { MAX_STACK_BYTES, OutputBuffer, resolveLimits, utf8Length, utf8Prefix } from "../../src/sandbox/sandbox.js";
import { sandboxConformance } from "./conformance.js";

const fresh = new QuickJsSandbox();
const shared = new QuickJsSandbox({ sessionMode: "shared" });
afterAll(async () => { await fresh.close(); await shared.close(); });

sandboxConformance("QuickJS in process", "javascript", () => fresh);

describe("QuickJS sessions", () => {
  it("shared mode keeps state within a session, not across sessions", async () => {
    expect((await shared.run("var n = 1; print(n)", {}, { session: "a" })).stdout).toBe("1\n");
    expect((await shared.run("n += 1; print(n)", {}, { session: "a" })).stdout).toBe("2\n");
    expect((await shared.run("print(typeof n)", {}, { session: "b" })).stdout).toBe("undefined\n");
    expect((await shared.run("print(typeof n)", {})).stdout).toBe("undefined\n");
    await shared.closeSession("a");
    expect((await shared.run("print(typeof n)", {}, { session: "a" })).stdout).toBe("undefined\n");
  });

  it("a session whose runtime timed out starts over empty", async () => {
    await shared.run("var kept = 1", {}, { session: "t" });
    expect((await shared.run("while (true) {}", { timeoutMs: 100 }, { session: "t" })).status).toBe("timeout");
    expect((await shared.run("print(typeof kept)", {}, { session: "t" })).stdout).toBe("undefined\n");
  });
});

describe("QuickJS details", () => {
  it("console.log formats values; print joins with spaces", async () => {
    const r = await fresh.run("console.log('a', 1, {x: [1, 2]}, null, undefined, new Error('e'))");
    expect(r.stdout).toBe('a 1 {"x":[1,2]} null undefined Error: e\n');
  });
  it("a thrown non-Error is reported as Uncaught", async () => {
    expect(await fresh.run("throw 42")).toMatchObject({ status: "error", stderr: "Uncaught 42\n" });
  });
  it("deep recursion is a clean stack overflow at the 256 KiB guest stack", async () => {
    expect(await fresh.run("function f() { return f() + 1 } f()")).toMatchObject({ status: "error", stderr: "InternalError: stack overflow\n" });
  });
  it("promise jobs run before the call returns; an endless job chain times out", async () => {
    expect((await fresh.run("Promise.resolve(2).then((v) => print(v * 3))")).stdout).toBe("6\n");
    expect((await fresh.run("function f() { Promise.resolve().then(f) } f()", { timeoutMs: 150 })).status).toBe("timeout");
  });
});

describe("limits and output helpers", () => {
  it("clamps the guest stack to 256 KiB and fills defaults", () => {
    expect(resolveLimits({ stackBytes: 8 * 1024 * 1024 }).stackBytes).toBe(MAX_STACK_BYTES);
    expect(resolveLimits({ timeoutMs: Number.NaN }).timeoutMs).toBe(3000);
    expect(resolveLimits({ timeoutMs: -5 }).timeoutMs).toBe(1);
  });
  it("counts UTF-8 bytes and never splits a code point", () => {
    expect(utf8Length("aé€😀")).toBe(1 + 2 + 3 + 4);
    expect(utf8Prefix("aé€😀", 6)).toBe("aé€");
    expect(utf8Prefix("😀x", 3)).toBe("");
    const out = new OutputBuffer(5);
    out.write("stdout", "abc");
    out.write("stderr", "déf");
    expect([out.stdout, out.stderr, out.exceeded]).toEqual(["abc", "d", true]);
  });
});

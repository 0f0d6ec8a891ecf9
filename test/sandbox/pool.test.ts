// The pool: conformance through worker threads, the watchdog, lost and unstartable hosts, sessions,
// and 1000 calls from 8 concurrent callers.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SandboxPool } from "../../src/sandbox/pool.js";
import { sandboxConformance } from "./conformance.js";

const pool = new SandboxPool({ javascriptWorkers: 2, javascriptGraceMs: 300 });
const dir = mkdtempSync(join(tmpdir(), "taorl-pool-"));
afterAll(async () => { await pool.close(); rmSync(dir, { recursive: true, force: true }); });

sandboxConformance("QuickJS pool", "javascript", () => pool.sandbox("javascript"));

describe("SandboxPool (QuickJS workers)", () => {
  it("kills a runaway the interrupt cannot stop, without blocking the caller's event loop", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    // Array#join runs for seconds inside one builtin, so the interrupt handler is never consulted.
    const r = await pool.run({ language: "javascript", code: "Array(1e9).join('x')", limits: { timeoutMs: 200, memoryBytes: 32 << 20 } });
    clearInterval(timer);
    expect(r.status).toBe("timeout");
    expect(r.stderr).toBe("TimeoutError: execution exceeded 200 ms (sandbox host killed)\n");
    expect(ticks).toBeGreaterThan(10);
    expect(await pool.run({ language: "javascript", code: "print('alive')" })).toMatchObject({ status: "ok", stdout: "alive\n" });
    expect(pool.stats().hostsLost.javascript).toBeGreaterThanOrEqual(1);
  });

  it("calls queued behind a killed call are run elsewhere, not lost", async () => {
    const one = new SandboxPool({ javascriptWorkers: 1, pipelineDepth: 4, javascriptGraceMs: 100 });
    try {
      const runaway = one.run({ language: "javascript", code: "Array(1e9).join('x')", limits: { timeoutMs: 100, memoryBytes: 32 << 20 } });
      const behind = [1, 2, 3].map((i) => one.run({ language: "javascript", code: `print(${i})` }));
      expect((await runaway).status).toBe("timeout");
      expect((await Promise.all(behind)).map((r) => r.stdout)).toEqual(["1\n", "2\n", "3\n"]);
    } finally {
      await one.close();
    }
  });

  it("reports a call whose host died as error with the reason, and replaces the host", async () => {
    const file = join(dir, "dies.worker.mjs");
    writeFileSync(file, [
      "import { parentPort } from 'node:worker_threads';",
      "parentPort.on('message', () => process.exit(7));",
      "parentPort.postMessage({ type: 'ready', languages: ['javascript'] });",
    ].join("\n"));
    const dying = new SandboxPool({ javascriptWorkers: 1, workerFile: file });
    try {
      const r = await dying.run({ language: "javascript", code: "print(1)" });
      expect(r.status).toBe("error");
      expect(r.stderr).toBe("SandboxError: the javascript sandbox host exited with code 7 during the call\n");
      const again = await dying.run({ language: "javascript", code: "print(1)" });
      expect(again.stderr).toBe("SandboxError: the javascript sandbox host exited with code 7 during the call\n");
      expect(dying.stats().hostsStarted.javascript).toBeGreaterThanOrEqual(2);
    } finally {
      await dying.close();
    }
  });

  it("a host that cannot start fails the queued calls with the reason instead of hanging", async () => {
    const file = join(dir, "broken.worker.mjs");
    writeFileSync(file, "throw new Error('broken host');\n");
    const broken = new SandboxPool({ javascriptWorkers: 1, workerFile: file });
    try {
      const r = await broken.run({ language: "javascript", code: "print(1)" });
      expect(r.status).toBe("error");
      expect(r.stderr).toMatch(/^SandboxError: cannot start the javascript sandbox \(.*broken host/);
    } finally {
      await broken.close();
    }
  });

  it("shared sessions stick to one worker and keep state; fresh calls never see it", async () => {
    const sp = new SandboxPool({ javascriptWorkers: 2, sessionMode: "shared" });
    try {
      await Promise.all(["a", "b", "c", "d"].map((s, i) => sp.run({ language: "javascript", code: `var mine = ${i}`, session: s })));
      const reads = await Promise.all(["a", "b", "c", "d"].map((s) => sp.run({ language: "javascript", code: "mine += 10; print(mine)", session: s })));
      expect(reads.map((r) => r.stdout)).toEqual(["10\n", "11\n", "12\n", "13\n"]);
      expect((await sp.run({ language: "javascript", code: "print(typeof mine)" })).stdout).toBe("undefined\n");
      await sp.closeSession("a");
      expect((await sp.run({ language: "javascript", code: "print(typeof mine)", session: "a" })).stdout).toBe("undefined\n");
    } finally {
      await sp.close();
    }
  });

  it("1000 calls from 8 concurrent callers all return the right output", async () => {
    const callers = Array.from({ length: 8 }, async (_, c) => {
      const outs: string[] = [];
      for (let i = 0; i < 125; i++) outs.push((await pool.run({ language: "javascript", code: `print(${c} * 1000 + ${i})` })).stdout);
      return outs;
    });
    const all = await Promise.all(callers);
    all.forEach((outs, c) => expect(outs).toEqual(Array.from({ length: 125 }, (_, i) => `${c * 1000 + i}\n`)));
  });

  it("a closed pool answers with an error instead of throwing", async () => {
    const p = new SandboxPool({ javascriptWorkers: 1 });
    await p.close();
    expect(await p.run({ language: "javascript", code: "print(1)" })).toMatchObject({ status: "error", stderr: "SandboxError: the sandbox pool is closed\n" });
  });
});

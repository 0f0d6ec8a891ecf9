// QuickJS sandbox: the only module that imports quickjs-emscripten. Runtime-free apart from the library
// (QuickJS is itself WebAssembly), so it can run in a Node worker, a browser or an edge worker.
//
// Isolation: a QuickJS context has no host objects at all; the only host function it sees is the output
// writer behind print/console. Limits per call: memory (runtime heap), guest stack (≤ 256 KiB, see
// MAX_STACK_BYTES), a deadline checked by the interrupt handler, and output bytes (the handler also stops
// the guest once the budget is spent). Fresh calls get a new context on a scratch runtime; shared sessions
// own a runtime each. A runtime that hit a fatal condition is disposed; if disposing fails, the whole wasm
// module is dropped and a new one is instantiated before the next call.
// Runtimes that refuse to compile WebAssembly from bytes (workerd, the edge bundle) pass the precompiled
// module (`wasmModule`, imported as a module there); elsewhere the library loads its own .wasm file.
import { newQuickJSWASMModule, newVariant, RELEASE_SYNC } from "quickjs-emscripten";
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from "quickjs-emscripten";
import type { SandboxResult, SandboxStatus } from "../types.js";
import { DEFAULT_SESSION_MODE, OutputBuffer, resolveLimits } from "./sandbox.js";
import type { RunOptions, Sandbox, SandboxLimits, SessionMode } from "./sandbox.js";

export interface QuickJsOptions {
  sessionMode?: SessionMode;
  /** Shared sessions kept per sandbox; the least recently used is dropped beyond this. */
  maxSessions?: number;
  /** QuickJS's release-sync .wasm, already compiled (the library's emscripten-module.wasm). */
  wasmModule?: WebAssembly.Module;
  /**
   * Cap on the guest stack, below MAX_STACK_BYTES where the host's own stack is smaller than a Node
   * worker's (workerd): deep guest recursion must hit QuickJS's limit before the host's.
   */
  maxStackBytes?: number;
}

/** print/console formatting and the removal of shared memory, run once in every new context. */
const BOOTSTRAP = `(function (write) {
  "use strict";
  const fmt = (v) => {
    if (typeof v === "string") return v;
    if (v instanceof Error) return v.name + ": " + v.message;
    if (typeof v === "object" && v !== null) {
      try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); }
    }
    return String(v);
  };
  const line = (args) => args.map(fmt).join(" ") + "\\n";
  const out = (...a) => { write(0, line(a)); };
  const err = (...a) => { write(1, line(a)); };
  globalThis.print = out;
  globalThis.console = { log: out, info: out, debug: out, warn: err, error: err };
  delete globalThis.SharedArrayBuffer;
  delete globalThis.Atomics;
  delete globalThis.WebAssembly;
})`;

interface Slot {
  rt: QuickJSRuntime;
  ctx: QuickJSContext | null;
}

/** State of the call in progress, read by the runtime's interrupt handler and output writer. */
interface Active {
  deadline: number;
  out: OutputBuffer;
  timedOut: boolean;
}

export class QuickJsSandbox implements Sandbox {
  readonly language = "javascript" as const;
  readonly sessionMode: SessionMode;
  private module: QuickJSWASMModule | null = null;
  private scratch: QuickJSRuntime | null = null;
  private readonly sessions = new Map<string, Slot>();
  private readonly maxSessions: number;
  private readonly wasmModule?: WebAssembly.Module;
  private readonly maxStackBytes?: number;
  private active: Active | null = null;

  constructor(options: QuickJsOptions = {}) {
    this.sessionMode = options.sessionMode ?? DEFAULT_SESSION_MODE;
    this.maxSessions = options.maxSessions ?? 256;
    this.wasmModule = options.wasmModule;
    this.maxStackBytes = options.maxStackBytes;
  }

  /** Instantiates the wasm module (~10-30 ms) if there is none; `run` does this itself. */
  async ready(): Promise<void> {
    if (!this.module) this.module = await newQuickJSWASMModule(this.wasmModule ? newVariant(RELEASE_SYNC, { wasmModule: this.wasmModule }) : RELEASE_SYNC);
  }

  async run(code: string, limits?: Partial<SandboxLimits>, options?: RunOptions): Promise<SandboxResult> {
    const t0 = performance.now();
    try {
      await this.ready();
    } catch (e) {
      return { status: "error", stdout: "", stderr: `SandboxError: cannot start QuickJS: ${(e as Error).message}\n`, elapsedMs: performance.now() - t0 };
    }
    return this.runSync(code, limits, options);
  }

  /** Synchronous run on a ready module (see `ready`). Never throws. */
  runSync(code: string, limits?: Partial<SandboxLimits>, options: RunOptions = {}): SandboxResult {
    const t0 = performance.now();
    const lim = resolveLimits(limits);
    const out = new OutputBuffer(lim.outputBytes);
    const active: Active = { deadline: Date.now() + lim.timeoutMs, out, timedOut: false };
    const sessionKey = this.sessionMode === "shared" ? options.session : undefined;
    let slot: Slot | null = null;
    let status: SandboxStatus = "ok";
    let fatal = false;
    this.active = active;
    try {
      if (!this.module) throw new Error("QuickJS module is not ready");
      slot = sessionKey !== undefined ? this.sessionSlot(sessionKey) : { rt: this.scratchRuntime(), ctx: null };
      slot.rt.setMemoryLimit(lim.memoryBytes);
      slot.rt.setMaxStackSize(Math.min(lim.stackBytes, this.maxStackBytes ?? lim.stackBytes));
      if (!slot.ctx) slot.ctx = this.newContext(slot.rt);
      const ctx = slot.ctx;
      const pieces = options.prelude ? [options.prelude, code] : [code];
      let failed: QuickJSHandle | null = null;
      for (const piece of pieces) {
        const r = ctx.evalCode(piece, "tool.js");
        if (r.error) { failed = r.error; break; }
        r.value.dispose();
      }
      if (!failed) {
        const jobs = slot.rt.executePendingJobs(-1);
        if (jobs.error) failed = jobs.error;
      }
      if (failed) {
        const { name, message } = describeError(ctx, failed);
        failed.dispose();
        if (active.timedOut) status = "timeout";
        else if (out.exceeded) status = "output_limit";
        else if (message === "out of memory") status = "oom";
        else status = "error";
        if (status === "timeout") out.write("stderr", `TimeoutError: execution exceeded ${lim.timeoutMs} ms\n`);
        else if (status !== "output_limit") out.write("stderr", name ? `${name}: ${message}\n` : `Uncaught ${message}\n`);
        if (status === "error" && out.exceeded) status = "output_limit";
        fatal = status !== "error" || message === "stack overflow";
      } else if (active.timedOut || out.exceeded) {
        // An interrupted pending job ends executePendingJobs without an error handle.
        status = active.timedOut ? "timeout" : "output_limit";
        if (active.timedOut) out.write("stderr", `TimeoutError: execution exceeded ${lim.timeoutMs} ms\n`);
        fatal = true;
      }
    } catch (e) {
      status = "error";
      fatal = true;
      out.write("stderr", `SandboxError: ${(e as Error)?.message ?? String(e)}\n`);
    } finally {
      this.active = null;
      if (slot) this.release(slot, sessionKey, fatal);
    }
    return { status, stdout: out.stdout, stderr: out.stderr, elapsedMs: performance.now() - t0 };
  }

  async closeSession(session: string): Promise<void> {
    const slot = this.sessions.get(session);
    if (!slot) return;
    this.sessions.delete(session);
    this.disposeSlot(slot);
  }

  async close(): Promise<void> {
    for (const key of [...this.sessions.keys()]) await this.closeSession(key);
    if (this.scratch) this.disposeRuntime(this.scratch);
    this.scratch = null;
    this.module = null;
  }

  private scratchRuntime(): QuickJSRuntime {
    if (!this.scratch) this.scratch = this.newRuntime();
    return this.scratch;
  }

  private sessionSlot(key: string): Slot {
    const found = this.sessions.get(key);
    if (found) {
      this.sessions.delete(key);
      this.sessions.set(key, found); // most recently used last
      return found;
    }
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      void this.closeSession(oldest);
    }
    const slot: Slot = { rt: this.newRuntime(), ctx: null };
    this.sessions.set(key, slot);
    return slot;
  }

  private newRuntime(): QuickJSRuntime {
    const rt = this.module!.newRuntime();
    rt.setInterruptHandler(() => {
      const a = this.active;
      if (!a) return false;
      if (a.out.exceeded) return true;
      if (Date.now() > a.deadline) { a.timedOut = true; return true; }
      return false;
    });
    return rt;
  }

  private newContext(rt: QuickJSRuntime): QuickJSContext {
    const ctx = rt.newContext();
    const write = ctx.newFunction("write", (streamHandle, textHandle) => {
      const a = this.active;
      if (!a) return;
      a.out.write(ctx.getNumber(streamHandle) === 1 ? "stderr" : "stdout", ctx.getString(textHandle));
    });
    const boot = ctx.unwrapResult(ctx.evalCode(BOOTSTRAP, "bootstrap.js"));
    const called = ctx.callFunction(boot, ctx.undefined, write);
    boot.dispose();
    write.dispose();
    ctx.unwrapResult(called).dispose();
    return ctx;
  }

  /** Fresh contexts are always disposed; a runtime that hit a fatal condition goes with its context. */
  private release(slot: Slot, sessionKey: string | undefined, fatal: boolean): void {
    if (sessionKey === undefined) {
      if (slot.ctx) this.disposeContext(slot.ctx);
      slot.ctx = null;
      if (fatal && this.scratch) { this.disposeRuntime(this.scratch); this.scratch = null; }
      return;
    }
    if (fatal) {
      this.sessions.delete(sessionKey);
      this.disposeSlot(slot);
    }
  }

  private disposeSlot(slot: Slot): void {
    if (slot.ctx) this.disposeContext(slot.ctx);
    slot.ctx = null;
    this.disposeRuntime(slot.rt);
  }

  private disposeContext(ctx: QuickJSContext): void {
    try { ctx.dispose(); } catch { this.poison(); }
  }

  private disposeRuntime(rt: QuickJSRuntime): void {
    try { rt.removeInterruptHandler(); rt.dispose(); } catch { this.poison(); }
  }

  /** A failed dispose leaves the wasm heap in an unknown state: drop the module and everything on it. */
  private poison(): void {
    this.module = null;
    this.scratch = null;
    this.sessions.clear();
  }
}

/** Name and message of a thrown guest value, read without trusting it (getters may throw, memory may be gone). */
function describeError(ctx: QuickJSContext, error: QuickJSHandle): { name: string; message: string } {
  try {
    const dumped: unknown = ctx.dump(error);
    if (dumped && typeof dumped === "object" && "message" in dumped) {
      const d = dumped as { name?: unknown; message?: unknown };
      return { name: typeof d.name === "string" ? d.name : "Error", message: String(d.message) };
    }
    return { name: "", message: typeof dumped === "string" ? dumped : JSON.stringify(dumped) ?? String(dumped) };
  } catch {
    return { name: "Error", message: "(a thrown value that cannot be printed)" };
  }
}

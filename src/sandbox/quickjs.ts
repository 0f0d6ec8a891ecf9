// QuickJS sandbox: the only module that imports quickjs-emscripten. Runtime-free apart from the library
// (QuickJS is itself WebAssembly), so it can run in a Node worker, a browser or an edge worker.
//
// Isolation: a QuickJS context has no host objects besides print and its stderr twin (behind console.*).
// Limits per call: memory (runtime heap), guest stack (≤ 256 KiB, see MAX_STACK_BYTES), a deadline checked
// by the interrupt handler, and output bytes (the handler also stops the guest once the budget is spent).
// Every fresh call gets a runtime of its own, with one never-used context, disposed after the call (a
// shared runtime's job queue carried FinalizationRegistry callbacks into later calls); `prepare` makes the
// next one ahead of time. Shared sessions own a runtime each, dropped when it hit a fatal condition. If
// disposing fails, the whole wasm module is dropped and a new one is instantiated before the next call.
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

/**
 * Guest-side formatting of a value print/console cannot format on the host (objects, functions, symbols,
 * bigints), compiled in a context the first time it is needed. Strings, numbers and undefined are
 * formatted on the host: compiling this per context cost more than the rest of its set-up.
 */
const FORMAT = `(function (v) {
  if (v instanceof Error) return v.name + ": " + v.message;
  if (typeof v === "object" && v !== null) {
    try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); }
  }
  return String(v);
})`;

/** Shared memory and the like, removed from every new context. */
const REMOVE_GLOBALS = "delete globalThis.SharedArrayBuffer; delete globalThis.Atomics; delete globalThis.WebAssembly";

/** A runtime with its one context. Fresh calls each get one that no earlier call touched; sessions keep theirs. */
interface Slot {
  rt: QuickJSRuntime;
  ctx: QuickJSContext;
  /** FORMAT, once compiled in this context. */
  format: QuickJSHandle | null;
}

/** State of the call in progress, read by the runtime's interrupt handler and output writer. */
interface Active {
  deadline: number;
  out: OutputBuffer;
  /** A line longer than this many UTF-16 units cannot fit the output budget (a unit is ≥ 1 UTF-8 byte). */
  outputBytes: number;
  timedOut: boolean;
}

/** Median µs per fresh call of each step (see `QuickJsSandbox.profileFresh`). */
export interface FreshProfile {
  runtime: number;
  context: number;
  output: number;
  call: number;
  dispose: number;
}

export class QuickJsSandbox implements Sandbox {
  readonly language = "javascript" as const;
  readonly sessionMode: SessionMode;
  private module: QuickJSWASMModule | null = null;
  private readonly sessions = new Map<string, Slot>();
  /** The next fresh call's runtime and context, created ahead of time by `prepare` (never used yet). */
  private spare: Slot | null = null;
  /** Fresh runtimes whose call is over, disposed by `prepare` (after the reply) or by the next call. */
  private readonly spent: Slot[] = [];
  private readonly maxSessions: number;
  private readonly wasmModule?: WebAssembly.Module;
  private readonly maxStackBytes?: number;
  private active: Active | null = null;
  private readonly interrupt = (): boolean => {
    const a = this.active;
    if (!a) return false;
    if (a.out.exceeded) return true;
    if (Date.now() > a.deadline) { a.timedOut = true; return true; }
    return false;
  };

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

  /**
   * Work the next call should not wait for; a host calls it once a reply is on its way. Disposes the
   * runtimes of finished fresh calls and creates the next fresh call's runtime and context (with
   * print/console), so that a fresh call only sets its limits and evaluates. Never throws.
   */
  prepare(): void {
    this.disposeSpent();
    if (this.spare || !this.module) return;
    try { this.spare = this.newSlot(); } catch { /* the next call creates its own */ }
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
    const active: Active = { deadline: Date.now() + lim.timeoutMs, out, outputBytes: lim.outputBytes, timedOut: false };
    const sessionKey = this.sessionMode === "shared" ? options.session : undefined;
    let slot: Slot | null = null;
    let status: SandboxStatus = "ok";
    let fatal = false;
    this.disposeSpent(); // used in process, without a host calling prepare()
    this.active = active;
    try {
      if (!this.module) throw new Error("QuickJS module is not ready");
      slot = sessionKey !== undefined ? this.sessionSlot(sessionKey) : this.freshSlot();
      slot.rt.setMemoryLimit(lim.memoryBytes);
      slot.rt.setMaxStackSize(Math.min(lim.stackBytes, this.maxStackBytes ?? lim.stackBytes));
      const { ctx, rt } = slot;
      const pieces = options.prelude ? [options.prelude, code] : [code];
      let failed: QuickJSHandle | null = null;
      for (const piece of pieces) {
        const r = ctx.evalCode(piece, "tool.js");
        if (r.error) { failed = r.error; break; }
        r.value.dispose();
      }
      if (!failed) {
        const jobs = rt.executePendingJobs(-1);
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
    if (this.spare) this.spent.push(this.spare);
    this.spare = null;
    this.disposeSpent();
    this.module = null;
  }

  /**
   * Median µs of each step of a fresh call, over `calls` calls of `code` (bench/sandbox's breakdown): the
   * steps `prepare` takes off the call's path (runtime, context, print/console, dispose) and the call's own.
   */
  async profileFresh(code: string, calls = 1000): Promise<FreshProfile> {
    await this.ready();
    const steps: Record<keyof FreshProfile, number[]> = { runtime: [], context: [], output: [], call: [], dispose: [] };
    for (let i = 0; i < calls; i++) {
      let t = performance.now();
      const tick = (step: keyof FreshProfile) => { const now = performance.now(); steps[step].push((now - t) * 1000); t = now; };
      const rt = this.module!.newRuntime();
      rt.setInterruptHandler(this.interrupt);
      tick("runtime");
      const slot: Slot = { rt, ctx: rt.newContext(), format: null };
      tick("context");
      this.installOutput(slot);
      tick("output");
      this.spare = slot;
      const r = this.runSync(code);
      if (r.status !== "ok") throw new Error(`profileFresh: ${r.stderr}`);
      tick("call");
      this.disposeSpent();
      tick("dispose");
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
    return { runtime: median(steps.runtime), context: median(steps.context), output: median(steps.output), call: median(steps.call), dispose: median(steps.dispose) };
  }

  /** A runtime and context no earlier call touched: the one prepared ahead of time, else a new one. */
  private freshSlot(): Slot {
    const slot = this.spare ?? this.newSlot();
    this.spare = null;
    return slot;
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
    const slot = this.newSlot();
    this.sessions.set(key, slot);
    return slot;
  }

  /**
   * A runtime of its own for every context: runtime-wide state (the job queue, which FinalizationRegistry
   * callbacks join when the collector finds their targets; the heap the memory limit counts; atoms) is
   * then never shared between calls. It costs no more than a context on a shared runtime (measured).
   */
  private newSlot(): Slot {
    const rt = this.module!.newRuntime();
    try {
      rt.setInterruptHandler(this.interrupt);
      const ctx = rt.newContext();
      const slot: Slot = { rt, ctx, format: null };
      this.installOutput(slot);
      return slot;
    } catch (e) {
      this.disposeRuntime(rt);
      throw e;
    }
  }

  /** print and console.*: host functions (the only host objects a guest sees); shared memory removed. */
  private installOutput(slot: Slot): void {
    const { ctx } = slot;
    const print = ctx.newFunction("print", (...args) => this.writeLine(slot, "stdout", args));
    const printError = ctx.newFunction("error", (...args) => this.writeLine(slot, "stderr", args));
    const console = ctx.newObject();
    for (const name of ["log", "info", "debug"]) ctx.setProp(console, name, print);
    for (const name of ["warn", "error"]) ctx.setProp(console, name, printError);
    ctx.setProp(ctx.global, "print", print);
    ctx.setProp(ctx.global, "console", console);
    console.dispose();
    print.dispose();
    printError.dispose();
    ctx.unwrapResult(ctx.evalCode(REMOVE_GLOBALS, "bootstrap.js")).dispose();
  }

  /** One print/console call: its arguments formatted and joined by spaces, as one line. */
  private writeLine(slot: Slot, stream: "stdout" | "stderr", args: QuickJSHandle[]): QuickJSHandle | { error: QuickJSHandle } | void {
    const a = this.active;
    if (!a) return;
    let line = "";
    for (let i = 0; i < args.length; i++) {
      const text = this.format(slot, args[i]);
      if (typeof text !== "string") return text; // the guest threw while formatting: rethrow there
      line += i === 0 ? text : " " + text;
      if (line.length > a.outputBytes) break; // past the budget already: the rest could not be kept
    }
    a.out.write(stream, line + "\n");
  }

  private format(slot: Slot, value: QuickJSHandle): string | { error: QuickJSHandle } {
    const { ctx } = slot;
    const type = ctx.typeof(value);
    if (type === "string") return ctx.getString(value);
    if (type === "number") return String(ctx.getNumber(value)); // Number::toString is exact in both engines
    if (type === "undefined") return "undefined";
    if (!slot.format) {
      const compiled = ctx.evalCode(FORMAT, "format.js");
      if (compiled.error) return { error: compiled.error };
      slot.format = compiled.value;
    }
    const r = ctx.callFunction(slot.format, ctx.undefined, value);
    if (r.error) return { error: r.error };
    const text = ctx.getString(r.value);
    r.value.dispose();
    return text;
  }

  /** A fresh slot is never reused; a session's is dropped when its runtime hit a fatal condition. */
  private release(slot: Slot, sessionKey: string | undefined, fatal: boolean): void {
    if (sessionKey === undefined) { this.spent.push(slot); return; }
    if (fatal) {
      this.sessions.delete(sessionKey);
      this.disposeSlot(slot);
    }
  }

  private disposeSpent(): void {
    while (this.spent.length > 0) this.disposeSlot(this.spent.pop()!);
  }

  private disposeSlot(slot: Slot): void {
    try {
      slot.format?.dispose();
      slot.format = null;
      slot.ctx.dispose();
    } catch {
      this.poison();
    }
    this.disposeRuntime(slot.rt);
  }

  private disposeRuntime(rt: QuickJSRuntime): void {
    if (!rt.alive) return;
    try { rt.removeInterruptHandler(); rt.dispose(); } catch { this.poison(); }
  }

  /** A failed dispose leaves the wasm heap in an unknown state: drop the module and everything on it. */
  private poison(): void {
    this.module = null;
    this.spare = null;
    this.spent.length = 0;
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

// The one Sandbox interface, its limits and the helpers every implementation shares. Runtime-free: this
// file runs unchanged in Node, a browser or an edge worker.
import type { SandboxResult, SandboxStatus } from "../types.js";

/** Tool languages. `python` runs on Pyodide (Node only), `javascript` on QuickJS. */
export type Language = "python" | "javascript";
export const LANGUAGES: readonly Language[] = ["python", "javascript"];

/** Per-call limits. Every field is enforced per call; see docs/sandbox.md for what each means per language. */
export interface SandboxLimits {
  /** Wall time of the call (ms). QuickJS: deadline interrupt; Pyodide: the host process is killed. */
  timeoutMs: number;
  /** QuickJS: the runtime's heap limit. Pyodide: growth of the wasm heap above the warm interpreter's size. */
  memoryBytes: number;
  /** Guest stack (QuickJS only). Clamped to MAX_STACK_BYTES: a larger guest stack can overflow the host's. */
  stackBytes: number;
  /** stdout + stderr bytes (UTF-8) kept; more output ends the call with status `output_limit`. */
  outputBytes: number;
}

/** Above this, deep guest recursion overflows the host V8 stack before QuickJS notices (DESIGN.md). */
export const MAX_STACK_BYTES = 256 * 1024;

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  timeoutMs: 3000,
  memoryBytes: 128 * 1024 * 1024,
  stackBytes: MAX_STACK_BYTES,
  outputBytes: 64 * 1024,
});

/** Full limits from partial ones; out-of-range values are clamped, never trusted. */
export function resolveLimits(partial: Partial<SandboxLimits> = {}, base: SandboxLimits = DEFAULT_LIMITS): SandboxLimits {
  const pick = (v: number | undefined, d: number, lo: number, hi: number) =>
    Math.min(hi, Math.max(lo, Math.floor(typeof v === "number" && Number.isFinite(v) ? v : d)));
  return {
    timeoutMs: pick(partial.timeoutMs, base.timeoutMs, 1, 10 * 60_000),
    memoryBytes: pick(partial.memoryBytes, base.memoryBytes, 1024 * 1024, 4 * 1024 * 1024 * 1024),
    stackBytes: pick(partial.stackBytes, base.stackBytes, 16 * 1024, MAX_STACK_BYTES),
    outputBytes: pick(partial.outputBytes, base.outputBytes, 1, 64 * 1024 * 1024),
  };
}

/** Extra inputs of one call. */
export interface RunOptions {
  /** Code run first in the same fresh state (e.g. the TIR `final_answer` helper); its output counts. */
  prelude?: string;
  /**
   * Session key. Calls with the same key share state (notebook style) when the session mode is `shared`;
   * ignored in `fresh` mode. A session whose runtime hit a fatal condition starts over empty.
   */
  session?: string;
}

/**
 * Runs untrusted code. `run` never throws and never rejects: every failure is a SandboxResult.
 * A runtime that hit a fatal condition (timeout, out of memory, output limit, host fault) is disposed
 * and replaced, never reused.
 */
export interface Sandbox {
  readonly language: Language;
  run(code: string, limits?: Partial<SandboxLimits>, options?: RunOptions): Promise<SandboxResult>;
  /** Forget a shared session's state. */
  closeSession?(session: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Whether calls of one trajectory share state. TAO-RL.md §1 (and the reference) run each block fresh,
 * so `fresh` is the default; `shared` keeps variables between the blocks of a session, as a notebook.
 */
export type SessionMode = "fresh" | "shared";
export const DEFAULT_SESSION_MODE: SessionMode = "fresh";

/** Status precedence when several conditions hold at once: the most severe wins. */
const SEVERITY: Record<SandboxStatus, number> = { ok: 0, error: 1, output_limit: 2, oom: 3, timeout: 4 };
export function worstStatus(a: SandboxStatus, b: SandboxStatus): SandboxStatus {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

/**
 * Collects stdout and stderr under one byte budget (UTF-8). Output past the budget is dropped and
 * `exceeded` is set; what fit is kept.
 */
export class OutputBuffer {
  stdout = "";
  stderr = "";
  exceeded = false;
  private used = 0;
  constructor(private readonly limit: number) {}

  write(stream: "stdout" | "stderr", text: string): void {
    if (this.exceeded || text.length === 0) return;
    const bytes = utf8Length(text);
    if (this.used + bytes <= this.limit) {
      this.used += bytes;
      if (stream === "stdout") this.stdout += text; else this.stderr += text;
      return;
    }
    const kept = utf8Prefix(text, this.limit - this.used);
    this.used = this.limit;
    if (stream === "stdout") this.stdout += kept; else this.stderr += kept;
    this.exceeded = true;
  }
}

/** UTF-8 byte length without allocating (lone surrogates count as 3, as TextEncoder writes U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `bytes`, never splitting a code point. */
export function utf8Prefix(s: string, bytes: number): string {
  let n = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    const w = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (n + w > bytes) break;
    n += w;
    i += pair ? 2 : 1;
  }
  return s.slice(0, i);
}

/** A result for a call that never reached a runtime (lost worker, invalid request, internal fault). */
export function failure(reason: string, elapsedMs = 0, status: SandboxStatus = "error"): SandboxResult {
  return { status, stdout: "", stderr: reason.endsWith("\n") ? reason : `${reason}\n`, elapsedMs };
}

// Messages between the sandbox pool and its hosts (worker threads for QuickJS, child processes for
// Pyodide). Types only. Every request gets exactly one reply; errors cross as {name, message, stack}.
// (They live here rather than in src/protocol/ because the sandbox layer may import only src/types.ts.)
import type { SandboxResult } from "../types.js";
import type { Language, SandboxLimits } from "./sandbox.js";

export type HostRequest =
  | { type: "run"; id: number; language: Language; code: string; limits: SandboxLimits; prelude?: string; session?: string }
  | { type: "close_session"; id: number; session: string };

export interface WireError {
  name: string;
  message: string;
  stack?: string;
}

export type HostReply =
  /** Sent once, when the host's sandboxes are loaded and it accepts requests. */
  | { type: "ready"; languages: Language[] }
  /** `retire`: the host cannot be trusted with another call (its runtime failed fatally); replace it. */
  | { type: "result"; id: number; result: SandboxResult; retire?: boolean }
  | { type: "done"; id: number }
  | { type: "error"; id: number; error: WireError };

// The edge side of the HTTP API (what src/cli/serve-deps.ts is for Node), for workerd and other fetch-handler
// runtimes: no threads, no processes, no disk, and no WebAssembly compiled from bytes, so every wasm arrives
// precompiled (the worker's modules) and everything runs in the request that asked for it.
// - JavaScript tool calls: QuickJS in-process (same limits and statuses as the Node pool's workers).
// - Python tool calls: a remote sandbox (TAORL_SANDBOX_URL: a `taorl serve`'s POST /run_code), else 501.
import { QuickJsSandbox } from "../sandbox/quickjs.js";
import { RemoteSandbox } from "../sandbox/remote.js";
import { ToolRouter } from "../sandbox/router.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import type { EdgeCapabilities, EdgeEnv } from "../server/edge.js";

/** What the worker entry imports as modules of the worker. */
export interface EdgeModules {
  /** QuickJS's release-sync .wasm. */
  quickjs: WebAssembly.Module;
}

/**
 * Guest stack of QuickJS on workerd. Its host stack is smaller than a Node worker's: at 256 KiB a guest
 * toString recursion overflowed the host first, at 128 KiB a deeply nested JSON.parse did (measured); 64 KiB
 * lets every hostile program of the test suite hit QuickJS's own limit (about 370 plain JS frames deep).
 */
export const EDGE_STACK_BYTES = 64 * 1024;

export const PYTHON_ON_THE_EDGE =
  "Python does not run on the edge (Pyodide needs a process to kill on timeout): set the worker's TAORL_SANDBOX_URL to a taorl serve, whose POST /run_code runs it";

export function edgeCapabilities(env: EdgeEnv, modules: EdgeModules): EdgeCapabilities {
  const sandboxUrl = env.TAORL_SANDBOX_URL || undefined;
  const sandboxes: Partial<Record<"javascript" | "python", Sandbox>> = { javascript: new QuickJsSandbox({ wasmModule: modules.quickjs, maxStackBytes: EDGE_STACK_BYTES }) };
  if (sandboxUrl) sandboxes.python = new RemoteSandbox("python", { url: sandboxUrl, token: env.TAORL_SANDBOX_TOKEN || undefined });
  const tools = new ToolRouter(sandboxes, { python: PYTHON_ON_THE_EDGE });
  return {
    tools,
    info: () => ({
      sandbox: { javascript: "quickjs (in-process)", python: sandboxUrl ? `remote (${new URL(sandboxUrl).origin}/run_code)` : null },
    }),
  };
}

// The edge side of the HTTP API (what src/cli/serve-deps.ts is for Node), for workerd and other fetch-handler
// runtimes: no threads, no processes, no disk, and no WebAssembly compiled from bytes, so every wasm arrives
// precompiled (the worker's modules) and everything runs in the request that asked for it.
// - JavaScript tool calls: QuickJS in-process (same limits and statuses as the Node pool's workers).
// - Python tool calls: a remote sandbox (TAORL_SANDBOX_URL: a `taorl serve`'s POST /run_code), else 501.
// - Generation (/v1/generate, JSON and SSE) and evaluation (/v1/evaluate, run within the request: edge-jobs.ts)
//   with the embedded default policy on onnxruntime-web (one thread: no SharedArrayBuffer on the edge),
//   one engine request at a time (429 while busy). Training answers 501.
import { OrtWebEngine } from "../engine/ort-web.js";
import { modelFromFiles, type ModelFiles } from "../model/files.js";
import { QuickJsSandbox } from "../sandbox/quickjs.js";
import { RemoteSandbox } from "../sandbox/remote.js";
import { ToolRouter } from "../sandbox/router.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import type { EdgeCapabilities, EdgeEnv } from "../server/edge.js";
import { InRequestJobs } from "./edge-jobs.js";
import { EngineGate, EngineGenerator, positionsOf, type LoadedPolicy } from "./generator.js";

/** What the worker entry imports as modules of the worker. */
export interface EdgeModules {
  /** QuickJS's release-sync .wasm. */
  quickjs: WebAssembly.Module;
  /** onnxruntime-web's ort-wasm-simd-threaded.wasm; without it (or `policy`) generation answers 501. */
  ort?: WebAssembly.Module;
  /** The embedded default policy's files (models/default). */
  policy?: ModelFiles;
}

/**
 * Guest stack of QuickJS on workerd. Its host stack is smaller than a Node worker's: at 256 KiB a guest
 * toString recursion overflowed the host first, at 128 KiB a deeply nested JSON.parse did (measured); 64 KiB
 * lets every hostile program of the test suite hit QuickJS's own limit (about 370 plain JS frames deep).
 */
export const EDGE_STACK_BYTES = 64 * 1024;

export const PYTHON_ON_THE_EDGE =
  "Python does not run on the edge (Pyodide needs a process to kill on timeout): set the worker's TAORL_SANDBOX_URL to a taorl serve, whose POST /run_code runs it";

/** The name the embedded policy goes by in errors and /v1/info. */
const POLICY_NAME = "models/default (embedded)";

export function edgeCapabilities(env: EdgeEnv, modules: EdgeModules): EdgeCapabilities {
  const sandboxUrl = env.TAORL_SANDBOX_URL || undefined;
  const sandboxes: Partial<Record<"javascript" | "python", Sandbox>> = {
    javascript: new QuickJsSandbox({ wasmModule: modules.quickjs, maxStackBytes: EDGE_STACK_BYTES }),
  };
  if (sandboxUrl) sandboxes.python = new RemoteSandbox("python", { url: sandboxUrl, token: env.TAORL_SANDBOX_TOKEN || undefined });
  const tools = new ToolRouter(sandboxes, { python: PYTHON_ON_THE_EDGE });
  const sandbox = { javascript: "quickjs (in-process)", python: sandboxUrl ? `remote (${new URL(sandboxUrl).origin}/run_code)` : null };
  const { ort, policy } = modules;
  if (!ort || !policy) {
    return { tools, info: () => ({ sandbox }), policyUnavailable: "this edge bundle was built without onnxruntime-web or the default policy" };
  }
  const load = async (): Promise<LoadedPolicy> => {
    const { config, weights, tokenizer } = modelFromFiles(policy, POLICY_NAME);
    const maxPositions = positionsOf(config.maxPositionEmbeddings);
    const engine = await OrtWebEngine.create(config, { weights, maxPositions, weightsMode: "initializers", wasmModule: ort, numThreads: 1 });
    return { engine, tokenizer, maxPositions };
  };
  const gate = new EngineGate();
  const runTool = tools.run.bind(tools);
  const generator = new EngineGenerator(load, runTool, 0, gate);
  const jobs = new InRequestJobs({ policy: () => generator.load(), runTool, gate });
  return {
    tools, generator, jobs,
    info: () => ({
      sandbox,
      model: POLICY_NAME,
      engine: "onnxruntime-web (wasm, 1 thread, precompiled module)",
      jobs: { kinds: ["evaluate"], runs: "within the request (200 with the finished job)", persisted: false, training: "501 on the edge" },
    }),
  };
}

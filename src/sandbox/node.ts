// Node-only part of the sandbox: the pool of worker threads (QuickJS) and permission-model child
// processes (Pyodide).
export { SandboxPool, resolveHostFile } from "./pool.js";
export type { PoolCall, PoolOptions, PoolStats } from "./pool.js";

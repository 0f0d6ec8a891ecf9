// Public, runtime-free part of the sandbox: the interface, limits, the TIR protocol, the QuickJS sandbox
// (which runs anywhere WebAssembly does) and the request shapes. The Node-only part is ./node.ts.
export * from "./sandbox.js";
export * from "./tir.js";
export * from "./request.js";
export { QuickJsSandbox } from "./quickjs.js";
export { RemoteSandbox, type RemoteSandboxOptions } from "./remote.js";
export { ToolRouter } from "./router.js";
export type { FreshProfile, QuickJsOptions } from "./quickjs.js";

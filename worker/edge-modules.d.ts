// Modules of the edge worker that are not JavaScript (workerd: `wasm` and `data` modules, see build.mjs).
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}

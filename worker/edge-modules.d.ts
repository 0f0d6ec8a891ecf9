// Modules of the edge worker that are not JavaScript (workerd `wasm` and `data` modules, see build.mjs).
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
declare module "*/default-policy/config.json" {
  const bytes: ArrayBuffer;
  export default bytes;
}
declare module "*/default-policy/model.safetensors" {
  const bytes: ArrayBuffer;
  export default bytes;
}
declare module "*/default-policy/tokenizer.json" {
  const bytes: ArrayBuffer;
  export default bytes;
}
declare module "*/default-policy/tokenizer_config.json" {
  const bytes: ArrayBuffer;
  export default bytes;
}

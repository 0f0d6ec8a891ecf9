// Edge-worker entry (workerd): a module worker whose WebAssembly and model files are modules of the worker
// (dist/edge/workerd.capnp lists them), because workerd compiles no WebAssembly from bytes.
import quickjs from "./quickjs.wasm";
import ort from "./ort-wasm-simd-threaded.wasm";
import config from "./default-policy/config.json";
import weights from "./default-policy/model.safetensors";
import tokenizer from "./default-policy/tokenizer.json";
import tokenizerConfig from "./default-policy/tokenizer_config.json";
import { edgeCapabilities } from "../src/cli/edge-deps.js";
import { edgeWorker } from "../src/server/edge.js";

export default edgeWorker((env) => edgeCapabilities(env, { quickjs, ort, policy: { config, weights, tokenizer, tokenizerConfig } }));

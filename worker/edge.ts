// Edge-worker entry (workerd): a module worker whose WebAssembly and model files are modules of the worker
// (dist/edge/workerd.capnp lists them), because workerd compiles no WebAssembly from bytes.
import quickjs from "./quickjs.wasm";
import { edgeCapabilities } from "../src/cli/edge-deps.js";
import { edgeWorker } from "../src/server/edge.js";

export default edgeWorker((env) => edgeCapabilities(env, { quickjs }));

import { TfjsWasmEngine } from "../../src/engine/tfjs-wasm.js";
import { OrtWebEngine } from "../../src/engine/ort-web.js";
import { engineConformance } from "./conformance.js";

engineConformance("tfjs-wasm", (cfg, weights) => TfjsWasmEngine.create(cfg, { weights }));
engineConformance("onnxruntime-web", (cfg, weights) => OrtWebEngine.create(cfg, { weights, maxPositions: 32 }));
engineConformance("onnxruntime-web, weights as initializers", (cfg, weights) => OrtWebEngine.create(cfg, { weights, maxPositions: 32, weightsMode: "initializers" }));

// Worker thread hosting the inference engine (onnxruntime-web): announce readiness, answer every request.
import { parentPort } from "node:worker_threads";
import { enginePortEndpoint, serveEngineHost } from "../src/engine/worker-host.js";

serveEngineHost(enginePortEndpoint(parentPort!), "rollout");

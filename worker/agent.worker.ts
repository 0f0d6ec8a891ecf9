// Worker thread running whole multi-turn rollouts (engine, tokenizer, sandbox pool): see src/trainer/rollout-workers.ts.
import { parentPort } from "node:worker_threads";
import { serveRolloutWorker } from "../src/trainer/rollout-workers.js";

serveRolloutWorker(parentPort as never);

// The inside of an engine worker: the rollout worker hosts OrtWebEngine, the trainer worker hosts
// TfjsWasmEngine. Requests are served one at a time in arrival order; each gets exactly one reply, and
// an error becomes an `error` reply (the worker lives on). Weights leave by transfer (engine-messages.ts).
import type { EngineReply, EngineRequest, EngineRole } from "../protocol/engine-messages.js";
import { parseHfConfig } from "../model/config.js";
import { EngineInputError, type Engine, type TrainableEngine } from "./engine.js";
import { OrtWebEngine } from "./ort-web.js";
import { TfjsWasmEngine } from "./tfjs-wasm.js";
import { weightsFromWire, weightsToWire } from "./wire.js";

export interface EngineHostEndpoint {
  post(message: EngineReply, transfer?: ArrayBuffer[]): void;
  listen(handler: (message: EngineRequest) => void): void;
}

/** A worker_threads MessagePort (parentPort) or a Web Worker's global scope. */
export function enginePortEndpoint(port: {
  postMessage(m: unknown, transfer?: ArrayBuffer[]): void;
  on(event: "message", f: (m: EngineRequest) => void): unknown;
}): EngineHostEndpoint {
  return { post: (m, t) => port.postMessage(m, t ?? []), listen: (f) => void port.on("message", f) };
}

export function serveEngineHost(endpoint: EngineHostEndpoint, role: EngineRole): void {
  let engine: Engine | null = null;
  const need = (): Engine => {
    if (!engine) throw new EngineInputError(`${role} worker: no engine loaded (send "load" first)`);
    return engine;
  };
  const trainer = (type: string): TrainableEngine => {
    const e = need();
    if (!(e instanceof TfjsWasmEngine)) throw new EngineInputError(`${role} worker: "${type}" needs the training engine (the trainer worker)`);
    return e;
  };
  const handle = async (m: EngineRequest): Promise<[EngineReply, ArrayBuffer[]?]> => {
    switch (m.type) {
      case "load": {
        const config = parseHfConfig(m.config);
        const weights = m.weights ? weightsFromWire(m.weights) : undefined;
        engine?.dispose();
        engine = null;
        if (role === "trainer") engine = await TfjsWasmEngine.create(config, { weights, seed: m.seed, optim: m.optim });
        else {
          if (!weights) throw new EngineInputError(`rollout worker: "load" needs weights`);
          engine = await OrtWebEngine.create(config, { weights, maxPositions: m.maxPositions, weightsMode: m.weightsMode });
        }
        const { name, parameters, trainable } = engine.info();
        return [{ type: "loaded", id: m.id, info: { name, parameters, trainable } }];
      }
      case "score": {
        const s = await need().score({ B: m.B, T: m.T, tokens: m.tokens }, { temperature: m.temperature });
        return [{ type: "scored", id: m.id, logp: s.logp, entropy: s.entropy }, [s.logp.buffer as ArrayBuffer, s.entropy.buffer as ArrayBuffer]];
      }
      case "generate": {
        const e = need();
        if (!e.generate) throw new EngineInputError(`${role} worker: its engine (${e.info().name}) does not generate`);
        const generations = await e.generate(m.prompts, m.sampling, { eosTokenIds: m.eosTokenIds });
        return [{ type: "generated", id: m.id, generations }];
      }
      case "step": {
        const result = await trainer("step").step({ B: m.B, T: m.T, tokens: m.tokens }, { w: m.w, v: m.v }, { temperature: m.temperature, microBatch: m.microBatch });
        return [{ type: "stepped", id: m.id, result }];
      }
      case "get_weights": {
        const e = need();
        if (!(e instanceof TfjsWasmEngine)) throw new EngineInputError(`${role} worker: "get_weights" needs the training engine (the trainer worker)`);
        const { tensors, transfer } = weightsToWire(await e.weights());
        return [{ type: "weights", id: m.id, weights: tensors }, transfer];
      }
      case "set_weights":
        await need().setWeights(weightsFromWire(m.weights));
        return [{ type: "done", id: m.id }];
      case "dispose":
        engine?.dispose();
        engine = null;
        return [{ type: "done", id: m.id }];
      default:
        throw new EngineInputError(`${role} worker: unknown request type ${JSON.stringify((m as { type?: unknown }).type)}`);
    }
  };
  let chain: Promise<void> = Promise.resolve();
  endpoint.listen((m) => {
    chain = chain.then(async () => {
      let reply: EngineReply, transfer: ArrayBuffer[] | undefined;
      try {
        [reply, transfer] = await handle(m);
      } catch (e) {
        const err = e as Error;
        reply = { type: "error", id: m?.id ?? -1, error: { name: err?.name ?? "Error", message: err?.message ?? String(e), stack: err?.stack } };
      }
      endpoint.post(reply, transfer);
    });
  });
  endpoint.post({ type: "ready", role });
}

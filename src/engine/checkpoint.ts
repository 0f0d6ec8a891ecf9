// Trainer checkpoints: a Hugging Face folder (config.json, model.safetensors) plus optimizer.safetensors
// (AdamW moments "m.<name>" / "v.<name>" in HF layout, the step count in its metadata). The folder is
// written beside the target and renamed into place, so a crash leaves the previous checkpoint whole.
// Node only (node:fs).
import { rename, rm, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { saveCheckpoint, loadCheckpoint, weightsFromSafetensors } from "../model/checkpoint.js";
import { writeSafetensors, readSafetensors, SafetensorsError, type SafeDtype } from "../model/safetensors.js";
import type { Weights } from "../model/config.js";
import { TfjsWasmEngine, type TfjsEngineOptions } from "./tfjs-wasm.js";

export const OPTIMIZER_FILE = "optimizer.safetensors";

export async function saveTrainer(dir: string, engine: TfjsWasmEngine, opts: { dtype?: SafeDtype; extra?: Record<string, Uint8Array | string> } = {}): Promise<void> {
  const state = await engine.optimizerState();
  const moments = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of state.m) moments.set(`m.${name}`, t);
  for (const [name, t] of state.v) moments.set(`v.${name}`, t);
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await saveCheckpoint(tmp, engine.config, await engine.weights(), {
    dtype: opts.dtype,
    extra: { ...opts.extra, [OPTIMIZER_FILE]: writeSafetensors(moments, { step: String(state.step) }) },
  });
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/** A trainer from a checkpoint folder; optimizer state is restored when optimizer.safetensors is present. */
export async function loadTrainer(dir: string, opts: Omit<TfjsEngineOptions, "weights" | "seed"> = {}): Promise<TfjsWasmEngine> {
  const { config, weights } = await loadCheckpoint(dir);
  const engine = await TfjsWasmEngine.create(config, { ...opts, weights });
  const path = join(dir, OPTIMIZER_FILE);
  if (existsSync(path)) {
    const bytes = new Uint8Array(await readFile(path));
    const step = Number(readSafetensors(bytes).metadata.step);
    if (!Number.isInteger(step) || step < 0) throw new SafetensorsError(`${path}: metadata "step" must be a non-negative integer`);
    const all = weightsFromSafetensors(bytes);
    const m: Weights = new Map(), v: Weights = new Map();
    for (const [name, t] of all) {
      if (name.startsWith("m.")) m.set(name.slice(2), t);
      else if (name.startsWith("v.")) v.set(name.slice(2), t);
      else throw new SafetensorsError(`${path}: unexpected tensor "${name}" (expected m.<param> or v.<param>)`);
    }
    await engine.setOptimizerState({ step, m, v });
  }
  return engine;
}

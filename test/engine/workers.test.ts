// The engine workers (bundled by the global setup): the trainer worker steps, its weights move to the
// rollout worker by transfer, and both score alike; errors cross with their names; a worker killed
// mid-step rejects its pending call and every later one.
import { afterAll, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { EngineWorkerClient, EngineWorkerError, startEngineWorker } from "../../src/engine/worker-client.js";
import { randomTokens, tinyConfig, TINY_VARIANTS } from "./naive.js";

const dist = (name: string) => fileURLToPath(new URL(`../../dist/node/${name}.worker.mjs`, import.meta.url));
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const started: EngineWorkerClient[] = [];
afterAll(async () => { for (const c of started) await c.close(); });

describe("engine workers (rollout: onnxruntime-web, trainer: tfjs-wasm)", () => {
  const cfg = tinyConfig(TINY_VARIANTS[1][1]);
  const B = 3, T = 12;
  const batch = { B, T, tokens: randomTokens(B, T, cfg.vocabSize, 3) };

  it("trainer steps, sends its weights (transferred) to the rollout worker, and both score within 1e-4", async () => {
    const [trainer, rollout] = await Promise.all([startEngineWorker(dist("trainer"), "trainer worker"), startEngineWorker(dist("rollout"), "rollout worker")]);
    started.push(trainer, rollout);
    expect((await trainer.load(cfg, { seed: 4, optim: { lr: 1e-2 } })).trainable).toBe(true);
    // Weights baked into the sessions: setWeights rebuilds them inside the worker.
    expect((await rollout.load(cfg, { weights: await trainer.weights(), maxPositions: 32, weightsMode: "initializers" })).name).toBe("onnxruntime-web");
    const before = await rollout.score(batch);
    expect(maxAbs(before.logp, (await trainer.score(batch)).logp)).toBeLessThan(1e-4);

    const w = new Float32Array(B * T).fill(-0.1), v = new Float32Array(B * T).fill(0.02);
    for (let i = 1; i <= 3; i++) expect((await trainer.step(batch, { w, v })).step).toBe(i);
    const weights = await trainer.weights();
    const embed = weights.get("model.embed_tokens.weight")!.data;
    expect(embed.length).toBe(cfg.vocabSize * cfg.hiddenSize);
    await rollout.setWeights(weights);
    expect(embed.length).toBe(0); // moved to the rollout worker, not copied

    const [a, b] = [await trainer.score(batch, { temperature: 0.8 }), await rollout.score(batch, { temperature: 0.8 })];
    const err = Math.max(maxAbs(a.logp, b.logp), maxAbs(a.entropy, b.entropy));
    expect(maxAbs(before.logp, b.logp)).toBeGreaterThan(1e-2); // the steps moved the policy the rollout worker scores
    expect(err).toBeLessThan(1e-4);
    console.log(`trainer worker vs rollout worker after 3 steps: max abs ${err.toExponential(1)}`);

    const gens = await rollout.generate([batch.tokens.subarray(0, 4)], { temperature: 0, maxNewTokens: 5 });
    expect(gens[0].tokens.length).toBe(5);
  });

  it("errors cross as {name, message, stack} and the worker lives on; wrong-role requests are refused", async () => {
    const rollout = started[1];
    const bad = { B: 1, T: 2, tokens: Int32Array.of(1, cfg.vocabSize) };
    const e = await rollout.score(bad).then(() => null, (x: Error) => x);
    expect(e?.name).toBe("EngineInputError");
    expect(e?.message).toMatch(new RegExp(`id ${cfg.vocabSize} at row 0, slot 1`));
    expect(e?.stack).toMatch(/thrown in the rollout worker/);
    await expect(rollout.step(batch, { w: new Float32Array(B * T), v: new Float32Array(B * T) })).rejects.toThrow(/"step" needs the training engine/);
    expect((await rollout.score(batch)).logp.length).toBe(B * T); // still serving
  });

  it("a worker killed mid-step rejects the pending call and every later one with a clear error", async () => {
    const trainer = started[0];
    const w = new Float32Array(B * T).fill(-0.1), v = new Float32Array(B * T);
    const pending = trainer.step(batch, { w, v });
    const ports = trainer as unknown as { worker: { terminate(): Promise<number> } };
    await ports.worker.terminate(); // as a crash would: not through close()
    await expect(pending).rejects.toThrow(/trainer worker exited unexpectedly \(code 1\); its "step" request #\d+ got no reply/);
    await expect(trainer.score(batch)).rejects.toBeInstanceOf(EngineWorkerError);
  });
});

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { afterAll, describe, expect, it } from "vitest";
import { benchmarksAvailable, loadBenchmark } from "../../src/agent/benchmarks.js";
import { answersEqual } from "../../src/agent/answer.js";
import { generateTasks, taskProblem } from "../../src/agent/tasks.js";
import { UsageError } from "../../src/cli/args.js";
import { runExport, runExportOnnx } from "../../src/cli/export.js";
import { TfjsWasmEngine } from "../../src/engine/tfjs-wasm.js";
import { loadCheckpoint } from "../../src/model/checkpoint.js";

const dir = mkdtempSync(join(tmpdir(), "taorl-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function read(file: string): Promise<Array<Record<string, any>>> {
  const buf = readFileSync(file);
  return parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) });
}

describe("taorl export verl", () => {
  it("writes the task family in verl's dataset schema, read back by hyparquet", async () => {
    const { files } = runExport(["verl", "--out", dir, "--task-count", "16", "--seed", "3", "--benchmarks", "none"], { stdout: () => {} });
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(["task_train.parquet", "task_test.parquet", "task_ood.parquet"]);
    const rows = await read(join(dir, "task_train.parquet"));
    expect(rows).toHaveLength(16);
    const tasks = generateTasks(3, "train", 16).map(taskProblem);
    rows.forEach((r, i) => {
      expect(r.data_source).toBe("taorl_tasks");
      expect(r.ability).toBe("math");
      expect(r.agent_name).toBe("taorl_tir");
      expect(r.prompt).toEqual([{ role: "user", content: expect.stringContaining(tasks[i].question) }]);
      expect(r.reward_model).toEqual({ style: "rule", ground_truth: tasks[i].answer });
      expect(r.extra_info).toMatchObject({ split: "train", index: BigInt(i), id: tasks[i].id, tool_prelude: tasks[i].toolPrelude.python });
    });
    expect(await read(join(dir, "task_test.parquet"))).toHaveLength(2);
  });

  it.skipIf(!benchmarksAvailable())("writes benchmarks with their answers and check options", async () => {
    runExport(["verl", "--out", dir, "--task-count", "1", "--benchmarks", "aime24,minerva"], { stdout: () => {} });
    for (const name of ["aime24", "minerva"] as const) {
      const rows = await read(join(dir, `${name}.parquet`));
      const recs = loadBenchmark(name);
      expect(rows).toHaveLength(recs.length);
      rows.forEach((r, i) => {
        expect(r.extra_info.split).toBe("test");
        expect(answersEqual(r.reward_model.ground_truth, recs[i].answer, recs[i].check)).toBe(true);
      });
    }
    const m = (await read(join(dir, "minerva.parquet")))[0];
    expect(m.extra_info.check).toMatchObject({ relTol: 1e-2, sigFigs: true });
  });

  it("rejects bad arguments with a usage error", () => {
    expect(() => runExport(["verl"], { stdout: () => {} })).toThrow(UsageError);
    expect(() => runExport(["hf", "--out", dir], { stdout: () => {} })).toThrow(UsageError);
    expect(() => runExport(["verl", "--out", dir, "--benchmarks", "nope"], { stdout: () => {} })).toThrow(/unknown/);
  });
});

describe("taorl export onnx", () => {
  const model = join(process.cwd(), "models", "default");

  it("writes the embedded policy as a standalone .onnx that a fresh onnxruntime session runs like tfjs", async () => {
    const out = join(dir, "default.onnx");
    await runExportOnnx(["onnx", "--model", model, "--out", out, "--max-positions", "64"], { stdout: () => {} });
    const bytes = readFileSync(out);
    expect(bytes.toString("latin1")).not.toContain("com.microsoft");
    const ort = await import("onnxruntime-web");
    const session = await ort.InferenceSession.create(new Uint8Array(bytes), { executionProviders: ["wasm"] });
    expect([...session.inputNames].sort()).toEqual(["input_ids", "targets", "temperature"]);
    const B = 1, T = 12;
    const tokens = Int32Array.from({ length: T }, (_, i) => (i * 37 + 5) % 600);
    const res = await session.run({
      input_ids: new ort.Tensor("int64", BigInt64Array.from(tokens, BigInt), [B, T]),
      targets: new ort.Tensor("int64", new BigInt64Array(B * T), [B, T]),
      temperature: new ort.Tensor("float32", Float32Array.of(1), [1]),
    }, ["logits"]);
    const { config, weights } = await loadCheckpoint(model);
    const tj = await TfjsWasmEngine.create(config, { weights });
    const want = await tj.forwardLogits({ B, T, tokens });
    tj.dispose();
    await session.release();
    const got = res.logits.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeLessThan(1e-4);
  });

  it("rejects a bad kind, a missing folder and missing flags with clear errors", async () => {
    await expect(runExportOnnx(["onnx", "--model", model, "--out", join(dir, "x.onnx"), "--kind", "train"], { stdout: () => {} })).rejects.toThrow(/--kind: expected score or decode/);
    await expect(runExportOnnx(["onnx", "--out", join(dir, "x.onnx")], { stdout: () => {} })).rejects.toThrow(UsageError);
    await expect(runExportOnnx(["onnx", "--model", join(dir, "nope"), "--out", join(dir, "x.onnx")], { stdout: () => {} })).rejects.toThrow(/nope: no such model folder/);
  });
});

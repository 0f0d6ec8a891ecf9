import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { afterAll, describe, expect, it } from "vitest";
import { benchmarksAvailable, loadBenchmark } from "../../src/agent/benchmarks.js";
import { answersEqual } from "../../src/agent/answer.js";
import { generateTasks, taskProblem } from "../../src/agent/tasks.js";
import { UsageError } from "../../src/cli/args.js";
import { runExport } from "../../src/cli/export.js";

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

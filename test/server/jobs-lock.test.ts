// One taorl serve per jobs folder: a second server on the same folder would take up the first one's
// running job and write its run folder. The lock names a live process → refused; a dead one → taken over.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { JobQueue, JobsDirInUseError } from "../../src/cli/serve-deps.js";

const root = mkdtempSync(join(tmpdir(), "taorl-jobs-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const runTool = async () => ({ status: "ok" as const, stdout: "", stderr: "", elapsedMs: 0 });

describe("the jobs folder lock", () => {
  it("refuses a folder held by a live process, takes over a dead one's, and releases on close", async () => {
    const dir = join(root, "jobs");
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      const q0 = new JobQueue({ dir, model: join(root, "no-model"), runTool });
      await q0.close();
      expect(existsSync(join(dir, ".lock"))).toBe(false);

      writeFileSync(join(dir, ".lock"), `${other.pid}\n`);
      expect(() => new JobQueue({ dir, model: join(root, "no-model"), runTool })).toThrow(JobsDirInUseError);
      expect(() => new JobQueue({ dir, model: join(root, "no-model"), runTool })).toThrow(new RegExp(`pid ${other.pid}`));
      other.kill("SIGKILL");
      await new Promise((r) => other.once("exit", r));

      const q = new JobQueue({ dir, model: join(root, "no-model"), runTool });
      expect(readFileSync(join(dir, ".lock"), "utf8").trim()).toBe(String(process.pid));
      expect(q.list()).toEqual([]);
      await q.close();
      expect(existsSync(join(dir, ".lock"))).toBe(false);
    } finally {
      other.kill("SIGKILL");
    }
  });
});

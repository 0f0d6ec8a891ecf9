// A Python host busy in a runaway program has its event loop blocked, so it cannot notice that its parent
// died. When the parent is SIGKILLed (no cleanup runs), the kernel must kill the host (setpriv --pdeathsig
// on Linux), or it spins on as an orphan for as long as the program runs.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnServe } from "../server/spawn-serve.js";

const root = mkdtempSync(join(tmpdir(), "taorl-orphan-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const children = (pid: number): number[] => {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const linuxWithSetpriv = process.platform === "linux" && ["/usr/bin/setpriv", "/bin/setpriv"].some((f) => existsSync(f));

describe.runIf(linuxWithSetpriv)("a Python sandbox host whose server was SIGKILLed", () => {
  it("dies with it instead of spinning on", async () => {
    const { proc: server, base } = await spawnServe(["--model", join(root, "none"), "--jobs", join(root, "jobs")]);
    try {
      // the Python hosts are up once a first call has its answer
      const warm = await fetch(`${base}/v1/sandbox/run`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ language: "python", code: "print(1)" }),
      });
      expect((await warm.json()).stdout).toBe("1\n");
      // a runaway program with a long wall-time limit; the request never gets its answer
      void fetch(`${base}/v1/sandbox/run`, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ language: "python", code: "while True:\n    pass", timeout_ms: 120_000 }),
      }).catch(() => undefined);
      // the host that runs it: a child of the server burning CPU
      let hosts: number[] = [];
      for (let i = 0; i < 100 && hosts.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        hosts = children(server.pid!).filter((pid) => {
          try {
            return /pyodide\.worker\.mjs/.test(execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }));
          } catch {
            return false;
          }
        });
      }
      expect(hosts.length).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 1000)); // it is inside the loop now
      expect(hosts.every(alive)).toBe(true);

      server.kill("SIGKILL");
      const deadline = Date.now() + 5000;
      while (hosts.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(hosts.filter(alive)).toEqual([]);
    } finally {
      server.kill("SIGKILL");
    }
  }, 60_000);
});

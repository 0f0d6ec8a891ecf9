// Starts the bundled `taorl serve` (dist/node/cli.mjs) on a free loopback port for a test and resolves
// with its URL once it prints "serving on …"; rejects if it exits first.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/node/cli.mjs", import.meta.url));

export interface Served {
  proc: ChildProcess;
  base: string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** `args` after `serve --port 0`; `env` is added to the test's environment. */
export async function spawnServe(args: readonly string[], env: Record<string, string> = {}): Promise<Served> {
  const proc = spawn(process.execPath, [CLI, "serve", "--port", "0", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const base = await new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d) => {
      out += d;
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`taorl serve exited with ${code} before serving`)));
  });
  return { proc, base, exited };
}

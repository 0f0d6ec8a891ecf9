// The Python with torch that the PyTorch-backed tests and benchmarks use, found as gpu/pytest.mjs finds
// it: $TAORL_PYTHON, then python3, then /usr/bin/python3 (Debian's python3-torch). When none has torch,
// `reasons` says what each candidate answered, so a test can assert and print why it could not compare.
import { spawnSync } from "node:child_process";

export interface TorchPython {
  /** The interpreter, or null when no candidate imports torch. */
  python: string | null;
  torchVersion: string | null;
  /** One line per candidate that failed: "<exe>: <why>". */
  reasons: string[];
}

export const TORCH_INSTALL_HINT = "Debian: apt-get install python3-torch libopenblas0-pthread; or set TAORL_PYTHON";

export function findTorchPython(): TorchPython {
  const candidates = [process.env.TAORL_PYTHON, "python3", "/usr/bin/python3"].filter((x): x is string => !!x);
  const reasons: string[] = [];
  for (const exe of candidates) {
    const r = spawnSync(exe, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
    if (r.status === 0) return { python: exe, torchVersion: r.stdout.trim(), reasons };
    const why = r.error ? r.error.message : (r.stderr.trim().split("\n").pop() ?? `exit ${r.status}`);
    reasons.push(`${exe}: ${why}`);
  }
  return { python: null, torchVersion: null, reasons };
}

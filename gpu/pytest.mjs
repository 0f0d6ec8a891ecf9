// Runs the PyTorch mirror's tests (gpu/tests) when a Python with torch and pytest is present; otherwise
// says clearly that they were skipped and why. Part of `npm test`; CI installs Debian's python3-torch.
import { spawnSync } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const candidates = [process.env.TAORL_PYTHON, "python3", "/usr/bin/python3"].filter(Boolean);
const probe = "import torch, pytest; print(torch.__version__)";

let python;
for (const exe of candidates) {
  const r = spawnSync(exe, ["-c", probe], { encoding: "utf8" });
  if (r.status === 0) { python = exe; console.log(`gpu/tests: ${exe} with torch ${r.stdout.trim()}`); break; }
}
if (!python) {
  console.log("gpu/tests: SKIPPED, no python3 with torch and pytest found " +
    "(Debian: apt-get install python3-torch python3-pytest libopenblas0-pthread; or set TAORL_PYTHON)");
  process.exit(0);
}
const r = spawnSync(python, ["-m", "pytest", "gpu/tests", "-q", "-p", "no:cacheprovider"], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);

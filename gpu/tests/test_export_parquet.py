"""`taorl export verl` files read back by pyarrow (what verl's RLHFDataset uses through `datasets`).

Skips when pyarrow is absent (Debian bookworm has no python3-pyarrow; trixie has) or when
dist/node/cli.mjs is missing or predates the export command (npm run build).
"""
import shutil
import subprocess
from pathlib import Path

import pytest

pq = pytest.importorskip("pyarrow.parquet", reason="SKIPPED: pyarrow is not installed (apt-get install python3-pyarrow on Debian trixie, or pip)")
ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "dist/node/cli.mjs"


def test_task_family_schema(tmp_path):
    if shutil.which("node") is None or not CLI.exists():
        pytest.skip("SKIPPED: needs node and dist/node/cli.mjs (npm run build)")
    r = subprocess.run(["node", str(CLI), "export", "verl", "--out", str(tmp_path), "--task-count", "8", "--benchmarks", "none"],
                       cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0 and "unknown command" in (r.stderr + r.stdout):
        pytest.skip("SKIPPED: dist/node/cli.mjs predates `taorl export` (npm run build)")
    assert r.returncode == 0, r.stderr
    t = pq.read_table(tmp_path / "task_train.parquet")
    rows = t.to_pylist()
    assert len(rows) == 8
    first = rows[0]
    assert first["prompt"][0]["role"] == "user" and isinstance(first["prompt"][0]["content"], str)
    assert first["reward_model"]["style"] == "rule" and first["data_source"] == "taorl_tasks"
    assert first["extra_info"]["split"] == "train" and first["extra_info"]["index"] == 0
    assert first["extra_info"]["tool_prelude"].startswith("q = [")

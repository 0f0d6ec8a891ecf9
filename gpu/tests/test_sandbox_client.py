"""The verl agent loop's sandbox client against a real `taorl serve` (POST /run_code): ok, error, timeout."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from taorl_verl.verl_plugin.sandbox_client import SandboxClient, first_code_block, format_observation, SandboxResult, turn_kind

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "dist/node/cli.mjs"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if shutil.which("node") is None or not CLI.exists():
        pytest.skip("SKIPPED: needs node and dist/node/cli.mjs (npm run build)")
    # a jobs folder and (absent) model of its own: only the sandbox is needed, and a running `npm start`
    # keeps the repository's runs/jobs
    tmp = tmp_path_factory.mktemp("taorl-serve")
    p = subprocess.Popen(["node", str(CLI), "serve", "--port", "0", "--jobs", str(tmp / "jobs"), "--model", str(tmp / "no-model")],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = p.stdout.readline()
        m = re.search(r"serving on (http://\S+)", line)
        assert m, f"taorl serve said: {line!r}"
        yield m.group(1)
    finally:
        p.terminate()
        p.wait(timeout=10)


def test_protocol_text():
    t = "think\n```python\nprint(1)\n```\nignored ```python\nprint(2)\n```"
    b = first_code_block(t)
    assert b.code == "print(1)\n" and t[:b.end].endswith("```") and turn_kind(t) == "code"
    assert first_code_block("```text\nx\n```\n```py\nprint(3)\n```").code == "print(3)\n"
    assert turn_kind("so \\boxed{3}") == "answer" and turn_kind("hmm") == "void"
    long = format_observation(SandboxResult("ok", "x" * 600, "", 1.0))
    assert "truncated to stay below 512" in long and long.startswith("\nCode execution result: ")


def test_code_turns(server):
    c = SandboxClient(server, timeout_s=2.0)
    _, r, outcome, obs, answered = c.code_turn("```python\nprint(sum(q))\n```", prelude="q = [1, 2, 3]\n")
    assert (r.status, outcome, obs, answered) == ("ok", "valid", "\nCode execution result: 6\n\n", False)  # stdout verbatim, as in tir.ts
    _, r, outcome, obs, _ = c.code_turn("```python\n1/0\n```")
    assert outcome == "error" and obs == "\nCode execution result: ZeroDivisionError: division by zero\n"
    _, r, outcome, obs, _ = c.code_turn("```python\nwhile True: pass\n```")
    assert outcome == "timeout" and obs == "\nCode execution result: interpreter timeout\n"
    _, r, outcome, obs, answered = c.code_turn("```python\nfinal_answer(42)\n```")
    assert outcome == "valid" and answered and "\\boxed{42}" in obs
    _, r, outcome, obs, _ = c.code_turn("```python\nx = 1\n```")
    assert outcome == "empty" and obs == "\nCode execution result: \n"

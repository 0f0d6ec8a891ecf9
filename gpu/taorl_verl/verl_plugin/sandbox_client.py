"""The TIR protocol's code turns (TAO-RL.md §1) against taorl's sandbox server, over HTTP, stdlib only.

`taorl serve` answers SandboxFusion's POST /run_code; this client sends one fresh program per code block
(the final_answer helper and the task's tool prelude first, as taorl's rollout does) and reads the answer
back as taorl's SandboxResult: status ok | error | timeout | oom | output_limit. Outcome classification
and observation text follow src/sandbox/tir.ts rule for rule. Needs no verl and no torch.
"""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass

FINAL_ANSWER_PRELUDE = 'def final_answer(x):\n    print("\\\\boxed{" + str(x) + "}")\n'
TRUNCATION_MARKER = "\n..._This content has been truncated to stay below 512 characters_...\n"
OBSERVATION_PREFIX = "\nCode execution result: "
INTERPRETER_TIMEOUT = "interpreter timeout"
_FENCE_LANGUAGES = {"python": "python", "py": "python"}


@dataclass
class CodeBlock:
    code: str
    start: int
    end: int  # just past the closing fence: the turn's text is cut here


def first_code_block(text: str):
    """The first complete ```python / ```py / bare fenced block (firstCodeBlock in src/sandbox/tir.ts)."""
    frm = 0
    while True:
        opening = text.find("```", frm)
        if opening < 0:
            return None
        line_end = text.find("\n", opening + 3)
        if line_end < 0:
            return None
        header = text[opening + 3:line_end].strip()
        if not re.fullmatch(r"[A-Za-z0-9_+.-]*", header):
            frm = opening + 3
            continue
        closing = text.find("```", line_end + 1)
        if closing < 0:
            return None
        if header == "" or header.lower() in _FENCE_LANGUAGES:
            return CodeBlock(text[line_end + 1:closing], opening, closing + 3)
        frm = closing + 3


def turn_kind(text: str) -> str:
    """code | answer | void (TAO-RL.md §1)."""
    if first_code_block(text):
        return "code"
    return "answer" if "\\boxed{" in text else "void"


@dataclass
class SandboxResult:
    status: str  # ok | error | timeout | oom | output_limit
    stdout: str
    stderr: str
    elapsed_ms: float


def classify_outcome(r: SandboxResult) -> str:
    """valid | error | timeout | oom | output_limit | empty."""
    if r.status != "ok":
        return r.status
    if r.stderr:
        return "error"
    return "valid" if r.stdout.strip() else "empty"


def _last_line(text: str) -> str:
    for line in reversed(text.split("\n")):
        if line.strip():
            return line.rstrip("\r")
    return ""


def format_observation(r: SandboxResult, max_chars: int = 512) -> str:
    """`\\nCode execution result: <text>\\n`, <text> cut to max_chars with the reference's marker."""
    if r.status in ("timeout", "oom", "output_limit"):
        text = r.stdout if r.stdout else INTERPRETER_TIMEOUT
    elif r.stderr:
        text = _last_line(r.stderr)
    else:
        text = r.stdout
    if len(text) > max_chars:
        half = max_chars // 2
        text = text[:half] + TRUNCATION_MARKER + text[len(text) - half:]
    return OBSERVATION_PREFIX + text + "\n"


class SandboxClient:
    """POST /run_code on a taorl sandbox server (`taorl serve`), or any SandboxFusion endpoint."""

    def __init__(self, url: str, timeout_s: float = 3.0, memory_mb: int = 128, http_slack_s: float = 30.0):
        self.url = url.rstrip("/") + "/run_code"
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.http_slack_s = http_slack_s

    def run(self, code: str, prelude: str = "") -> SandboxResult:
        body = json.dumps({"code": FINAL_ANSWER_PRELUDE + prelude + code, "language": "python",
                           "run_timeout": self.timeout_s, "memory_limit_MB": self.memory_mb}).encode()
        req = urllib.request.Request(self.url, data=body, headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s + self.http_slack_s) as resp:
                res = json.loads(resp.read())
        except (urllib.error.URLError, TimeoutError, ValueError) as e:
            return SandboxResult("error", "", f"SandboxError: {e}\n", 0.0)
        run = res.get("run_result")
        if res.get("status") == "SandboxError" or not run:
            return SandboxResult("error", "", f"SandboxError: {res.get('message', '')}\n", 0.0)
        stdout, stderr = run.get("stdout") or "", run.get("stderr") or ""
        elapsed = (run.get("execution_time") or 0) * 1000
        if run.get("status") == "TimeLimitExceeded":
            return SandboxResult("timeout", stdout, stderr, elapsed)
        if res.get("status") == "Success" and run.get("return_code") == 0:
            return SandboxResult("ok", stdout, stderr, elapsed)
        # taorl puts its own status in `message` (oom, output_limit); SandboxFusion proper says less
        status = res.get("message") if res.get("message") in ("oom", "output_limit") else "error"
        return SandboxResult(status, stdout, stderr, elapsed)

    def code_turn(self, turn_text: str, prelude: str = "", max_obs_chars: int = 512):
        """Run a turn's first code block: (block, result, outcome, observation, answered); None without code."""
        block = first_code_block(turn_text)
        if block is None:
            return None
        r = self.run(block.code, prelude)
        return block, r, classify_outcome(r), format_observation(r, max_obs_chars), "\\boxed{" in r.stdout

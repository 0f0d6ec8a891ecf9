"""The Python reward port (verl's compute_score) agrees with taorl's checker on every exported case.

test/fixtures/answer-cases.json is written by test/gpu/answer-cases.test.ts from src/agent/answer.ts;
cases marked python_differs are known differences (with the reason) and must still differ.
"""
import json
from pathlib import Path

import pytest

from taorl_verl.verl_plugin.reward import answers_equal, compute_score, extract_boxed, reward

CASES = json.loads((Path(__file__).resolve().parents[2] / "test/fixtures/answer-cases.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['id']}-{c['source']}" for c in CASES])
def test_same_verdict_as_taorl(case):
    got = (extract_boxed(case["response"]), reward(case["response"], case["truth"], case.get("check")))
    want = (case["boxed"], case["reward"])
    if case.get("python_differs"):
        assert got != want, f"listed as a known difference but now agrees: {case['python_differs']}"
    else:
        assert got == want


def test_compute_score_signature():
    assert compute_score("math500", "so \\boxed{\\frac12}", "0.5", {"split": "test", "index": 0}) == 1.0
    assert compute_score("gsm_hard", "\\boxed{10.004}", "10", None) == 0.0
    assert compute_score("gsm_hard", "\\boxed{10.504}", "10.5", {"check": {"absTol": 0.01}}) == 1.0
    unset = {"relTol": None, "unordered": None, "sigFigs": None, "absTol": None}
    assert compute_score("taorl_tasks", "\\boxed{7}", "7", {"check": unset}) == 1.0
    assert compute_score("minerva", "\\boxed{1.61}", "1.62", {"check": dict(unset, relTol=1e-2, sigFigs=True)}) == 1.0
    assert answers_equal("garbage{", "5") is False

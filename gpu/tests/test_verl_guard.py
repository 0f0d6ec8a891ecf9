"""Without verl, the verl-facing modules refuse to import with a message naming the pinned commit; the trainer's
logic (batch.py) and the refill port import without it."""
import importlib.util
import re
from pathlib import Path

import pytest

PIN = re.search(r"^commit: ([0-9a-f]{40})$", (Path(__file__).resolve().parents[1] / "VERL_PIN").read_text(), re.M).group(1)


@pytest.mark.skipif(importlib.util.find_spec("verl") is not None, reason="verl is installed: the guard does not fire")
@pytest.mark.parametrize("module", ["taorl_verl.verl_plugin.agent_loop", "taorl_verl.verl_plugin.trainer",
                                    "taorl_verl.verl_plugin.main_tao"])
def test_guard_names_the_pin(module):
    with pytest.raises(ImportError, match=PIN):
        importlib.import_module(module)


def test_trainer_logic_imports_without_verl():
    for module in ("taorl_verl.verl_plugin.batch", "taorl_verl.refill"):
        importlib.import_module(module)

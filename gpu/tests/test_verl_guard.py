"""Without verl, the verl-facing modules refuse to import with a message naming the pinned commit."""
import importlib.util
import re
from pathlib import Path

import pytest

PIN = re.search(r"^commit: ([0-9a-f]{40})$", (Path(__file__).resolve().parents[1] / "VERL_PIN").read_text(), re.M).group(1)


@pytest.mark.skipif(importlib.util.find_spec("verl") is not None, reason="verl is installed: the guard does not fire")
@pytest.mark.parametrize("module", ["taorl_verl.verl_plugin.agent_loop"])
def test_guard_names_the_pin(module):
    with pytest.raises(ImportError, match=PIN):
        importlib.import_module(module)

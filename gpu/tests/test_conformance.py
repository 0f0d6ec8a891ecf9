"""taorl_verl reproduces every conformance vector of taorl (test/fixtures/conformance/*.json) in float64.

The vectors come from taorl's naive TypeScript reference; docs/conformance.md gives the schema and the
tolerance: |actual - expected| <= 1e-6 * max(1, |expected|). w and v are checked as autograd gradients.
"""
import glob
import json
import os

import pytest
import torch

from taorl_verl import TaoOptions, compute_advantages, filter_batch, policy_loss, post_tool_mask

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "conformance")
FILES = sorted(glob.glob(os.path.join(ROOT, "*.json")))
TOL = 1e-6
DEVICE = os.environ.get("TAORL_TEST_DEVICE", "cpu")


def close(actual, expected, what):
    a = torch.as_tensor(actual, dtype=torch.float64).flatten().cpu()
    e = torch.as_tensor(expected, dtype=torch.float64).flatten()
    assert a.shape == e.shape, f"{what}: shape {tuple(a.shape)} != {tuple(e.shape)}"
    err = (a - e).abs() - TOL * e.abs().clamp(min=1)
    assert bool((err <= 0).all()), f"{what}: max excess {float(err.max()):.3g} (actual {a.tolist()[:8]}, expected {e.tolist()[:8]})"


def load(path):
    c = json.load(open(path))
    i = c["input"]
    B, T = i["B"], i["T"]
    f64 = dict(dtype=torch.float64, device=DEVICE)
    tok = lambda k: torch.tensor(i[k], **f64).reshape(B, T)  # noqa: E731
    row = lambda k: torch.tensor(i[k], **f64)  # noqa: E731
    batch = dict(
        group=torch.tensor(i["group"], dtype=torch.long, device=DEVICE), reward=row("reward"),
        response_mask=tok("response_mask"), post_tool_mask=tok("post_tool_mask"),
        tool_calls=row("tool_calls"), valid_tool_calls=row("valid_tool_calls"),
        void=row("void"), truncated=row("truncated"),
        entropy=tok("entropy"), logp=tok("logp"), old_logp=tok("old_logp"),
        ref_logp=tok("ref_logp") if "ref_logp" in i else None,
    )
    return c, TaoOptions.from_dict(c["options"]), batch


def test_there_are_at_least_20_vectors():
    assert len(FILES) >= 20, f"expected >= 20 conformance files in {ROOT}, found {len(FILES)}"


@pytest.mark.parametrize("path", FILES, ids=[os.path.basename(f)[:-5] for f in FILES])
def test_vector(path):
    c, o, batch = load(path)
    ex = c["expected"]
    B, T = c["input"]["B"], c["input"]["T"]

    if "post_tool_mask" in ex:
        turns = c["input"]["turns"]
        g = post_tool_mask(batch["response_mask"], torch.tensor(turns["turn_index"]).reshape(B, T), turns["kinds"], o.post_tool_window)
        close(g, ex["post_tool_mask"], "post_tool_mask")

    f = filter_batch(batch, o)
    assert f.stats.ids.tolist() == ex["group_ids"]
    close(f.stats.mean, ex["group_mean"], "group_mean")
    std = [float("nan") if s is None else s for s in ex["group_std"]]
    assert [x is None for x in ex["group_std"]] == torch.isnan(f.stats.std).tolist()
    close(torch.nan_to_num(f.stats.std, nan=0.0), [0.0 if x != x else x for x in std], "group_std")
    assert f.group_kept.to(torch.int).tolist() == ex["group_kept"]
    assert f.reasons == ex["reasons"]
    close(f.weight, ex["weight"], "weight")
    close(f.loss_mask, ex["loss_mask"], "loss_mask")

    adv = compute_advantages(batch["reward"], f.stats, o.advantage, o.advantage_eps)
    close(adv, ex["advantage"], "advantage")

    logp = batch["logp"].clone().requires_grad_(True)
    H = batch["entropy"].clone().requires_grad_(True)
    loss, shaped, metrics = policy_loss(logp, batch["old_logp"], H, adv, f.loss_mask, batch["post_tool_mask"], o, batch["ref_logp"])
    close(shaped.detach(), ex["shaped_advantage"], "shaped_advantage")
    close((shaped * f.loss_mask).detach(), ex["token_advantage"], "token_advantage")
    close(loss.detach(), ex["loss"], "loss")
    w, v = torch.autograd.grad(loss, [logp, H], allow_unused=True)
    close(torch.zeros_like(logp) if w is None else w, ex["w"], "w")
    close(torch.zeros_like(H) if v is None else v, ex["v"], "v")

    em = ex["metrics"]
    for k, val in {**f.counts, **metrics}.items():
        if k in em:
            close(val, em[k], f"metrics.{k}")

"""The invariance properties of taorl's TypeScript suite, on the PyTorch mirror, over random batches."""
import torch

from taorl_verl import TaoOptions, compute_advantages, filter_batch, policy_loss


def random_batch(seed, B=12, T=9, G=3, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    rnd = lambda *s: torch.rand(*s, generator=gen, dtype=dtype)  # noqa: E731
    response = (rnd(B, T) < 0.7).to(dtype)
    calls = torch.randint(0, 3, (B,), generator=gen).to(dtype)
    return dict(
        group=torch.arange(B) % G, reward=(rnd(B) < 0.5).to(dtype),
        response_mask=response, post_tool_mask=response * (rnd(B, T) < 0.4).to(dtype),
        tool_calls=calls, valid_tool_calls=torch.minimum(calls, torch.randint(0, 2, (B,), generator=gen).to(dtype)),
        void=(rnd(B) < 0.1).to(dtype), truncated=(rnd(B) < 0.1).to(dtype),
        entropy=rnd(B, T) * 3, logp=-rnd(B, T) * 2, old_logp=-rnd(B, T) * 2,
    )


def loss_and_grads(batch, o):
    f = filter_batch(batch, o)
    adv = compute_advantages(batch["reward"], f.stats, o.advantage, o.advantage_eps)
    logp = batch["logp"].clone().requires_grad_(True)
    H = batch["entropy"].clone().requires_grad_(True)
    loss, _, _ = policy_loss(logp, batch["old_logp"], H, adv, f.loss_mask, batch["post_tool_mask"], o)
    w, v = torch.autograd.grad(loss, [logp, H], allow_unused=True)
    return loss.detach(), w, (torch.zeros_like(H) if v is None else v), adv


def test_reward_shift_leaves_grpo_advantages_unchanged():
    for seed in range(20):
        b = random_batch(seed)
        o = TaoOptions()
        a0 = compute_advantages(b["reward"], filter_batch(b, o).stats)
        b2 = dict(b, reward=b["reward"] + 3.25 * (b["group"] == 1).to(b["reward"].dtype))
        a1 = compute_advantages(b2["reward"], filter_batch(b2, o).stats)
        assert torch.allclose(a0, a1, atol=1e-9)


def test_garbage_in_masked_slots_changes_nothing():
    for seed in range(20):
        b = random_batch(seed)
        for detach in (True, False):
            o = TaoOptions(detach_entropy=detach, bonus_scope="all" if seed % 2 else "post_tool", entropy_coeff=0.01)
            l0, w0, v0, _ = loss_and_grads(b, o)
            m = b["response_mask"] <= 0
            junk = dict(b)
            for k, x in (("entropy", float("nan")), ("logp", 1e30), ("old_logp", -3e38)):
                junk[k] = torch.where(m, torch.full_like(b[k], x), b[k])
            l1, w1, v1, _ = loss_and_grads(junk, o)
            assert torch.equal(l0, l1) and torch.equal(w0, w1) and torch.equal(v0, v1)


def test_trajectories_without_tool_calls_are_never_flagged():
    for seed in range(20):
        b = random_batch(seed)
        f = filter_batch(b, TaoOptions())
        for i, r in enumerate(f.reasons):
            if b["tool_calls"][i] == 0:
                assert "all_tools_failed" not in r


def test_flagged_trajectory_still_counts_in_group_statistics():
    b = random_batch(0, B=4, T=5, G=1)
    b.update(reward=torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64), tool_calls=torch.tensor([2.0, 1, 1, 1], dtype=torch.float64),
             valid_tool_calls=torch.tensor([0.0, 1, 1, 1], dtype=torch.float64), void=torch.zeros(4, dtype=torch.float64),
             truncated=torch.zeros(4, dtype=torch.float64))
    o = TaoOptions()
    f = filter_batch(b, o)
    assert f.reasons[0] == ["all_tools_failed"] and float(f.weight[0]) == 0.0
    adv = compute_advantages(b["reward"], f.stats)
    std = torch.tensor([1.0, 0, 0, 1]).std()  # unbiased, all four members
    assert torch.allclose(adv[1], (0 - 0.5) / (std.double() + 1e-6))


def test_uniform_groups_are_dropped_with_their_reason():
    b = random_batch(1, B=8, T=4, G=2)
    b["reward"] = torch.tensor([1.0, 0, 1, 0, 1, 0, 1, 0], dtype=torch.float64)  # group 0 all 1, group 1 all 0
    b["truncated"] = torch.zeros(8, dtype=torch.float64)
    f = filter_batch(b, TaoOptions())
    assert f.group_kept.tolist() == [False, False]
    assert all(r[0] == ("group_all_correct" if i % 2 == 0 else "group_all_wrong") for i, r in enumerate(f.reasons))
    assert float(f.loss_mask.sum()) == 0.0

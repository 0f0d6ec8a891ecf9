"""What TAO-RL's math costs on a GPU trainer's batch, next to the plain PPO loss it replaces.

For batches of B trajectories x T token slots (the paper's 7B step is 256 prompts x 16 = 4096 rows),
times taorl_verl's filter, GRPO advantages, and the entropy-shaped clipped loss forward + backward, and
a plain clipped-PPO token-mean loss forward + backward as the peer (what the trainer computes anyway).
Prints a table and writes JSON.

    python3 gpu/bench_core.py [--device cuda] [--out gpu/results/bench-core.json]
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taorl_verl import TaoOptions, compute_advantages, filter_batch, policy_loss  # noqa: E402


def make_batch(B, T, n, device, dtype, seed=0):
    g = torch.Generator(device="cpu").manual_seed(seed)
    lengths = torch.randint(T // 4, T + 1, (B,), generator=g)
    ar = torch.arange(T)
    prompt = T // 8
    response = ((ar[None, :] >= prompt) & (ar[None, :] < lengths[:, None])).to(dtype)
    post = response * (torch.rand(B, T, generator=g) < 0.1).to(dtype)
    calls = torch.randint(0, 4, (B,), generator=g).to(dtype)
    b = dict(
        group=torch.arange(B) // n, reward=(torch.rand(B, generator=g) < 0.5).to(dtype),
        response_mask=response, post_tool_mask=post, tool_calls=calls,
        valid_tool_calls=torch.minimum(calls, torch.randint(0, 4, (B,), generator=g).to(dtype)),
        void=(torch.rand(B, generator=g) < 0.05).to(dtype), truncated=(torch.rand(B, generator=g) < 0.05).to(dtype),
        old_logp=-torch.rand(B, T, generator=g).to(dtype) * 3,
        entropy=torch.rand(B, T, generator=g).to(dtype) * 2,
    )
    b["logp"] = b["old_logp"] + (torch.rand(B, T, generator=g).to(dtype) - 0.5) * 0.4
    return {k: v.to(device) for k, v in b.items()}


def ppo_loss(logp, old, adv, mask, eps_low=0.2, eps_high=0.28):
    r = torch.exp(logp - old)
    A = adv[:, None]
    L = torch.maximum(-A * r, -A * torch.clamp(r, 1 - eps_low, 1 + eps_high))
    return (L * mask).sum() / mask.sum()


def timed(fn, device, repeats):
    out = []
    for i in range(repeats + 1):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if i > 0:  # the first run warms up
            out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", default=None)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    o = TaoOptions()
    shapes = [(256, 1024), (1024, 4096), (4096, 8192)] if a.device.startswith("cuda") else [(256, 1024), (1024, 4096)]
    rows = []
    for B, T in shapes:
        b = make_batch(B, T, 16, a.device, torch.float32)
        state = {}

        def tao_filter():
            state["f"] = filter_batch(b, o)

        def tao_adv():
            state["adv"] = compute_advantages(b["reward"], state["f"].stats, o.advantage, o.advantage_eps)

        def tao_loss():
            lp = b["logp"].clone().requires_grad_(True)
            loss, _, _ = policy_loss(lp, b["old_logp"], b["entropy"], state["adv"], state["f"].loss_mask, b["post_tool_mask"], o)
            loss.backward()

        def peer():
            lp = b["logp"].clone().requires_grad_(True)
            ppo_loss(lp, b["old_logp"], state["adv"], b["response_mask"]).backward()

        tf = timed(tao_filter, a.device, a.repeats)
        ta = timed(tao_adv, a.device, a.repeats)
        tl = timed(tao_loss, a.device, a.repeats)
        tp = timed(peer, a.device, a.repeats)
        row = dict(B=B, T=T, tokens=B * T, filter_ms=tf, advantage_ms=ta, loss_fwd_bwd_ms=tl, tao_total_ms=tf + ta + tl,
                   ppo_peer_ms=tp, ratio=(tf + ta + tl) / tp)
        rows.append(row)
        print(f"B={B:5d} T={T:5d}  filter {tf:8.2f} ms  advantage {ta:6.2f} ms  loss fwd+bwd {tl:8.2f} ms  "
              f"TAO-RL total {tf + ta + tl:8.2f} ms  | plain PPO loss fwd+bwd {tp:7.2f} ms  ratio {row['ratio']:.1f}x", flush=True)
        del b, state
        if a.device.startswith("cuda"):
            torch.cuda.empty_cache()
    dev = a.device + (f" ({torch.cuda.get_device_name()})" if a.device.startswith("cuda") else "")
    res = dict(device=dev, torch=torch.__version__, dtype="float32", group_size=16, repeats=a.repeats, rows=rows)
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(res, fh, indent=2)


if __name__ == "__main__":
    main()

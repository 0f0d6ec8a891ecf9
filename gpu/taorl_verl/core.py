"""TAO-RL's math in PyTorch, mirroring taorl's ``src/rl/`` exactly (TAO-RL.md §2-§5).

Pure tensor functions: no verl import here, so the math is testable anywhere torch runs (CPU or CUDA).
Shapes: ``B`` trajectories, ``T`` token slots; per-token tensors are ``(B, T)``, per-trajectory ``(B,)``.
Every function *selects* before it multiplies, so NaN or garbage in masked slots never leaks.
Conventions (same as ``src/rl/index.ts``):

- GRPO advantage ``(R - mean_g) / (std_g + 1e-6)`` with the **unbiased** std; a one-member group uses
  mean 0 and std 1. Statistics use every member, masked or not.
- Criterion 2 drops a group whose unbiased reward std < 1e-3 (all-correct when mean >= 0.5).
  Order: criterion 2, overlong, criterion 1 (all tools failed), void-turn mask.
- Entropy pool = tokens with loss mask > 0; ``z = (H - mean) / (std + 1e-8)`` with the **population**
  std, std := 1 when the pool has <= 1 token; ``Ã = A (1 + a s z)``, s = post-tool mask (or 1 for scope
  "all"). H is detached by default. The loss weight (mask) is applied once, in the aggregation.
- Loss: ``r = exp(clamp(logp - old, ±20))``, ``L = max(-Ã r, -Ã clip(r, 1-εl, 1+εh))``, dual clip
  ``min(L, -Ã c)`` where Ã < 0; ``agg`` is token-mean / seq-mean-token-mean / seq-mean-token-sum.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import torch

REASONS = ("group_all_correct", "group_all_wrong", "group_overlong", "truncated", "all_tools_failed", "void")


@dataclass(frozen=True)
class TaoOptions:
    """Every option of the algorithm with the TAO-RL.md default (snake_case names as in taorl)."""

    filter_uniform_groups: bool = True
    group_std_threshold: float = 1e-3
    correct_threshold: float = 0.5
    mask_truncated: bool = True
    min_valid_per_group: int = 4
    filter_tool_failures: bool = True
    tool_fail_strength: float = 1.0
    mask_void_turns: bool = True
    batch_prompts: int = 8
    oversample: float = 2
    refill: str = "duplicate"
    max_gen_rounds: int = 3
    post_tool_window: int = 0
    advantage: str = "grpo"
    advantage_eps: float = 1e-6
    entropy_bonus_coef: float = 0.01
    bonus_scope: str = "post_tool"
    detach_entropy: bool = True
    entropy_std_eps: float = 1e-8
    clip_ratio_low: float = 0.2
    clip_ratio_high: float = 0.28
    dual_clip: float = 3.0
    log_ratio_clamp: float = 20.0
    loss_agg: str = "token-mean"
    loss_eps: float = 1e-8
    entropy_coeff: float = 0.0
    kl_coef: float = 0.0
    kl_estimator: str = "k3"

    @staticmethod
    def from_dict(d: Dict) -> "TaoOptions":
        known = set(TaoOptions.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown TAO-RL option(s) {unknown}; valid: {sorted(known)}")
        return TaoOptions(**d)


@dataclass
class GroupStats:
    ids: torch.Tensor  # (G,) group ids in order of first appearance
    index: torch.Tensor  # (B,) dense group index of each trajectory
    size: torch.Tensor  # (G,)
    mean: torch.Tensor  # (G,)
    std: torch.Tensor  # (G,) unbiased; NaN for a one-member group


def group_stats(group: torch.Tensor, reward: torch.Tensor) -> GroupStats:
    """group: (B,) int, reward: (B,) float."""
    ids: List[int] = []
    seen: Dict[int, int] = {}
    dense: List[int] = []
    for g in group.tolist():  # one transfer; dense ids in order of first appearance
        if g not in seen:
            seen[g] = len(ids)
            ids.append(g)
        dense.append(seen[g])
    index = torch.tensor(dense, dtype=torch.long, device=group.device)
    G = len(ids)
    size = torch.zeros(G, dtype=reward.dtype, device=reward.device).index_add_(0, index, torch.ones_like(reward))
    mean = torch.zeros(G, dtype=reward.dtype, device=reward.device).index_add_(0, index, reward) / size
    dev = (reward - mean[index]) ** 2
    ss = torch.zeros(G, dtype=reward.dtype, device=reward.device).index_add_(0, index, dev)
    std = torch.where(size > 1, torch.sqrt(ss / (size - 1).clamp(min=1)), torch.full_like(ss, float("nan")))
    return GroupStats(torch.tensor(ids, device=group.device), index, size, mean, std)


@dataclass
class FilterResult:
    stats: GroupStats
    group_kept: torch.Tensor  # (G,) bool
    weight: torch.Tensor  # (B,) loss weight
    reasons: List[List[str]]  # (B,) reason names
    loss_mask: torch.Tensor  # (B, T) = response_mask * weight
    counts: Dict[str, int] = field(default_factory=dict)


def filter_batch(batch: Dict[str, torch.Tensor], o: TaoOptions) -> FilterResult:
    """batch: group (B,), reward (B,), response_mask (B, T), tool_calls, valid_tool_calls, void, truncated (B,).

    Vectorised: the only host transfers are the group ids (in ``group_stats``), the reason flags and the
    counts, once each, so a 4096-row batch on a GPU costs a few milliseconds.
    """
    reward = batch["reward"]
    dt, dev = reward.dtype, reward.device
    st = group_stats(batch["group"], reward)
    G = st.ids.shape[0]
    truncated = batch["truncated"] > 0
    # group code: 0 kept, 1 all correct, 2 all wrong, 3 overlong (criterion 2 first, then overlong)
    code = torch.zeros(G, dtype=torch.long, device=dev)
    if o.filter_uniform_groups:
        uniform = (st.size > 1) & (st.std < o.group_std_threshold)  # NaN std (one member) is never uniform
        code = torch.where(uniform, torch.where(st.mean >= o.correct_threshold, 1, 2), code)
    if o.mask_truncated:
        complete = torch.zeros(G, dtype=dt, device=dev).index_add_(0, st.index, (~truncated).to(dt))
        code = torch.where((code == 0) & (complete < st.size.clamp(max=o.min_valid_per_group)), 3, code)
    kept = code == 0
    in_kept = kept[st.index]
    no = torch.zeros_like(truncated)
    masked_trunc = truncated if o.mask_truncated else no
    failed = (batch["tool_calls"] > 0) & (batch["valid_tool_calls"] == 0) if o.filter_tool_failures else no
    void = batch["void"] > 0 if o.mask_void_turns else no
    weight = in_kept.to(dt)
    weight = torch.where(masked_trunc, torch.zeros_like(weight), weight)
    weight = torch.where(failed, weight * (1 - o.tool_fail_strength), weight)
    weight = torch.where(void, torch.zeros_like(weight), weight)

    group_reason = ("", "group_all_correct", "group_all_wrong", "group_overlong")
    flags = torch.stack([code[st.index], masked_trunc.long(), failed.long(), void.long()], dim=1).tolist()
    reasons: List[List[str]] = [
        ([group_reason[c]] if c else []) + (["truncated"] if t else []) + (["all_tools_failed"] if f else []) + (["void"] if v else [])
        for c, t, f, v in flags
    ]
    n = torch.stack([kept.sum(), (code == 1).sum(), (code == 2).sum(), (code == 3).sum(), (weight > 0).sum(),
                     (masked_trunc & in_kept).sum(), (failed & in_kept).sum(), (void & in_kept).sum(), failed.sum()]).tolist()
    counts = dict(groups=G, groups_kept=n[0], dropped_all_correct=n[1], dropped_all_wrong=n[2], dropped_overlong=n[3],
                  trajectories=int(reward.shape[0]), trajectories_kept=n[4], masked_truncated=n[5],
                  masked_all_tools_failed=n[6], masked_void=n[7], flagged_all_tools_failed=n[8])
    loss_mask = torch.where(batch["response_mask"] > 0, weight[:, None].expand_as(batch["response_mask"]), torch.zeros_like(batch["response_mask"], dtype=dt))
    return FilterResult(st, kept, weight, reasons, loss_mask, counts)


def compute_advantages(reward: torch.Tensor, st: GroupStats, kind: str = "grpo", eps: float = 1e-6) -> torch.Tensor:
    """(B,) per-trajectory advantages; a one-member group uses mean 0 and std 1."""
    single = st.size[st.index] == 1
    mean = torch.where(single, torch.zeros_like(reward), st.mean[st.index])
    if kind == "grpo":
        std = torch.where(single, torch.ones_like(reward), torch.nan_to_num(st.std[st.index], nan=1.0))
        return (reward - mean) / (std + eps)
    if kind == "dr_grpo":
        return reward - mean
    raise ValueError(f'unknown advantage estimator "{kind}"; valid: grpo, dr_grpo')


CODE = "code"


def post_tool_mask(response_mask: torch.Tensor, turn_index: torch.Tensor, kinds: List[List[str]], window: int = 0) -> torch.Tensor:
    """g (B, T): 1 on policy tokens of a turn right after a code turn; ``window`` K keeps the first K."""
    B, T = response_mask.shape
    g = torch.zeros_like(response_mask)
    for b in range(B):
        turn, seen = -2, 0
        for t in range(T):
            if response_mask[b, t] <= 0:
                continue
            k = int(turn_index[b, t])
            if k != turn:
                turn, seen = k, 0
            seen += 1
            if k >= 1 and kinds[b][k - 1] == CODE and (window <= 0 or seen <= window):
                g[b, t] = 1
    return g


def _masked(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.where(mask, x, torch.zeros_like(x))


def entropy_bonus(advantage: torch.Tensor, loss_mask: torch.Tensor, post_tool: torch.Tensor, entropy: torch.Tensor,
                  o: TaoOptions, detach: Optional[bool] = None):
    """Ã (B, T) and z (B, T) on pool tokens (0 elsewhere), and bonus metrics.

    ``entropy`` may require grad; with ``detach`` (default ``o.detach_entropy``) the bonus sees a constant H.
    """
    detach = o.detach_entropy if detach is None else detach
    pool = loss_mask > 0
    H = _masked(entropy.detach() if detach else entropy, pool)
    n = int(pool.sum())
    mean = H.sum() / n if n > 0 else H.sum() * 0
    dev = _masked(H - mean, pool)
    if n > 1:
        std = torch.sqrt((dev ** 2).sum() / n)
        scale = std if float(std.detach()) > 0 else std.detach()
    else:
        std = H.sum() * 0
        scale = std.detach() + 1
    z = _masked(dev / (scale + o.entropy_std_eps), pool)
    scope = pool if o.bonus_scope == "all" else pool & (post_tool > 0)
    factor = _masked(o.entropy_bonus_coef * z, scope)
    A = advantage[:, None].expand_as(loss_mask)
    shaped = _masked(A * (1 + factor), pool)
    post = pool & (post_tool > 0)
    nb = int(scope.sum())
    Hd = entropy.detach()
    metrics = dict(
        pool_size=n, pool_entropy_mean=float(mean), pool_entropy_std=float(std),
        bonus_tokens=nb,
        bonus_mean=float(factor[scope].mean()) if nb else 0.0,
        bonus_max=float(factor[scope].max()) if nb else 0.0,
        entropy_post_tool_mean=float(Hd[post].mean()) if int(post.sum()) else 0.0,
    )
    return shaped, z, metrics


def aggregation_weights(loss_mask: torch.Tensor, o: TaoOptions) -> torch.Tensor:
    """alpha (B, T) with agg(x) = Σ alpha x."""
    row = loss_mask.sum(dim=1)
    has = row > 0
    S = float(has.sum())
    if o.loss_agg == "token-mean":
        f = torch.full_like(row, 1.0 / (float(loss_mask.sum()) + o.loss_eps))
    elif o.loss_agg == "seq-mean-token-mean":
        f = 1.0 / ((row + o.loss_eps) * (S + o.loss_eps))
    elif o.loss_agg == "seq-mean-token-sum":
        f = torch.full_like(row, 1.0 / (S + o.loss_eps))
    else:
        raise ValueError(f'unknown loss_agg "{o.loss_agg}"; valid: token-mean, seq-mean-token-mean, seq-mean-token-sum')
    return loss_mask * torch.where(has, f, torch.zeros_like(f))[:, None]


def kl_penalty(logp: torch.Tensor, ref_logp: torch.Tensor, kind: str) -> torch.Tensor:
    d = logp - ref_logp
    if kind == "k1":
        return d
    if kind == "k2":
        return 0.5 * d * d
    if kind == "k3":
        x = torch.clamp(-d, -20, 20)
        return torch.clamp(torch.exp(x) - x - 1, -10, 10)
    raise ValueError(f'unknown kl_estimator "{kind}"; valid: k1, k2, k3')


def policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, entropy: torch.Tensor, advantage: torch.Tensor,
                loss_mask: torch.Tensor, post_tool: torch.Tensor, o: TaoOptions,
                ref_logp: Optional[torch.Tensor] = None):
    """The TAO-RL loss (scalar, differentiable in logp and entropy), Ã (B, T) and metrics.

    logp, old_logp, entropy, loss_mask, post_tool, ref_logp: (B, T); advantage: (B,).
    """
    pool = loss_mask > 0
    shaped, _, bonus = entropy_bonus(advantage, loss_mask, post_tool, entropy, o)
    alpha = aggregation_weights(loss_mask, o)
    lp = _masked(logp, pool)
    old = _masked(old_logp, pool)
    H = _masked(entropy, pool)
    delta = torch.clamp(lp - old, -o.log_ratio_clamp, o.log_ratio_clamp)
    r = torch.exp(delta)
    rc = torch.clamp(r, 1 - o.clip_ratio_low, 1 + o.clip_ratio_high)
    L1 = -shaped * r
    L2 = -shaped * rc
    unclipped = L1 >= L2
    L = torch.where(unclipped, L1, L2)
    L3 = -shaped * o.dual_clip
    dual = (shaped < 0) & (L > L3)
    L = torch.where(dual, L3, L)
    pg = (alpha * _masked(L, pool)).sum()
    ent = (alpha * H).sum()
    kl = torch.zeros((), dtype=logp.dtype, device=logp.device)
    if o.kl_coef > 0:
        if ref_logp is None:
            raise ValueError("kl_coef > 0 needs ref_logp (B, T)")
        kl = (alpha * _masked(kl_penalty(lp, _masked(ref_logp, pool), o.kl_estimator), pool)).sum()
    loss = pg - o.entropy_coeff * ent + o.kl_coef * kl
    n = int(pool.sum())
    low = pool & ~unclipped & (shaped < 0)
    high = pool & ~unclipped & (shaped > 0)
    rd = r.detach()
    frac = lambda m: float(m.sum()) / n if n else 0.0  # noqa: E731
    metrics = dict(
        bonus, loss=float(loss.detach()), pg_loss=float(pg.detach()), entropy_loss=float(ent.detach()), kl_loss=float(kl.detach()), loss_tokens=n,
        clipfrac_low=frac(low), clipfrac_high=frac(high), clipfrac_dual=frac(pool & dual),
        approx_kl=float(-delta.detach()[pool].mean()) if n else 0.0,
        ratio_mean=float(rd[pool].mean()) if n else 0.0, ratio_max=float(rd[pool].max()) if n else 0.0,
        entropy_mean=float(entropy.detach()[pool].mean()) if n else 0.0,
    )
    return loss, shaped, metrics


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k = 1 - C(n-c, k) / C(n, k), as the stable product."""
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n (got n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    miss = 1.0
    for i in range(n - c + 1, n + 1):
        miss *= 1 - k / i
    return 1 - miss

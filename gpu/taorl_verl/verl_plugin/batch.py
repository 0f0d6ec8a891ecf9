"""TAO-RL's per-step batch logic for verl, on plain torch tensors, lists and dicts: no verl import.

trainer.py (the verl trainer subclass) calls three functions of this module at two points of verl's step,
and nothing else of TAO-RL lives there:

- ``select_rows``, right after generation, before reward extraction and the old-log-prob / reference
  passes: criterion 2 and the overlong rule on the whole drawn batch (``batch_prompts × oversample``
  groups), then the refill to exactly ``batch_prompts`` groups (seeded subsample, or copies under new
  uids), plus the rollout and filter metrics of TAO-RL.md §5 over the drawn batch;
- ``minibatch_index`` and ``shape_advantages``, right before the actor update: the loss mask
  (truncated, criterion 1 and void rows get 0; they still count in their group's statistics), GRPO
  advantages and the entropy bonus over each optimizer mini-batch's pool, with the per-token entropy of
  verl's old-log-prob pass. The result goes to verl as per-token ``advantages`` and ``response_mask``.

The math is ``taorl_verl.core`` (checked against taorl's conformance vectors) and ``taorl_verl.refill``;
this module only adapts verl's layout: group ids are verl's ``uid`` strings, and per-trajectory tool
fields come from the ``extra_fields`` the ``taorl_tir`` agent loop emits (agent_loop.py): per row
``post_tool_mask`` (list, one entry per response token), ``turn_outcomes`` (list; None for a non-code
turn, else valid | error | timeout | oom | output_limit | empty), ``void`` and ``truncated`` (bools).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Sequence

import torch

from ..core import TaoOptions, compute_advantages, entropy_bonus, filter_batch
from ..refill import plan_refill, refill_rows

FAILURE_KINDS = ("error", "timeout", "oom", "output_limit", "empty")
# The agent loop's keys in the `tao:` config section (agent_loop.py reads them); `seed` seeds the refill.
AGENT_LOOP_KEYS = ("max_turns", "max_turn_tokens", "max_obs_tokens", "max_obs_chars", "sandbox_url", "sandbox_timeout_s")
TRAINER_KEYS = ("seed",)
# TaoOptions fields that verl's own config decides (set them there, not under `tao:`).
FROM_VERL = ("batch_prompts", "oversample", "clip_ratio_low", "clip_ratio_high", "dual_clip", "loss_agg",
             "entropy_coeff", "kl_coef", "kl_estimator", "log_ratio_clamp", "loss_eps")
REFILL_SALT = 0x7E11  # taorl's trainer seeds the refill with mix_seed(run_seed, step, 0x7e11)
_KL_NAMES = {"k1": "kl", "k2": "mse", "k3": "low_var_kl"}  # taorl's estimator → verl's kl_loss_type


def options_from_config(cfg: Mapping[str, Any]) -> TaoOptions:
    """TaoOptions from a resolved verl config (a plain dict): the ``tao:`` section, plus what verl decides.

    ``batch_prompts`` is ``data.train_batch_size``; ``oversample`` is ``data.gen_batch_size`` over it; clip,
    dual clip, aggregation, entropy and KL coefficients are the actor's (one source of truth each).
    ``post_tool_window: null`` (the agent loop's spelling of "whole turn") is taorl's 0.
    """
    tao = dict(cfg.get("tao") or {})
    unknown = sorted(set(tao) - set(TaoOptions.__dataclass_fields__) - set(AGENT_LOOP_KEYS) - set(TRAINER_KEYS))
    if unknown:
        raise ValueError(f"unknown key(s) in tao: {unknown}; valid: "
                         f"{sorted(set(TaoOptions.__dataclass_fields__) - set(FROM_VERL)) + list(AGENT_LOOP_KEYS + TRAINER_KEYS)}")
    clash = sorted(set(tao) & set(FROM_VERL))
    if clash:
        raise ValueError(f"tao.{clash} come from verl's own config (data.train_batch_size, data.gen_batch_size, "
                         "actor_rollout_ref.actor.*); set them there")
    opts = {k: v for k, v in tao.items() if k in TaoOptions.__dataclass_fields__}
    if opts.get("post_tool_window") is None:
        opts["post_tool_window"] = 0
    data = cfg.get("data") or {}
    actor = (cfg.get("actor_rollout_ref") or {}).get("actor") or {}
    train = int(data.get("train_batch_size") or TaoOptions.batch_prompts)
    gen = int(data.get("gen_batch_size") or train)
    kl_type = {v: k for k, v in _KL_NAMES.items()}.get(actor.get("kl_loss_type"), TaoOptions.kl_estimator)
    opts.update(
        batch_prompts=train, oversample=gen / train,
        clip_ratio_low=float(actor.get("clip_ratio_low", TaoOptions.clip_ratio_low)),
        clip_ratio_high=float(actor.get("clip_ratio_high", TaoOptions.clip_ratio_high)),
        dual_clip=float(actor.get("clip_ratio_c", TaoOptions.dual_clip)),
        loss_agg=str(actor.get("loss_agg_mode", TaoOptions.loss_agg)),
        entropy_coeff=float(actor.get("entropy_coeff", TaoOptions.entropy_coeff)),
        kl_coef=float(actor.get("kl_loss_coef", 0.0)) if actor.get("use_kl_loss") else 0.0,
        kl_estimator=kl_type,
    )
    return TaoOptions.from_dict(opts)


def check_verl_config(cfg: Mapping[str, Any], o: TaoOptions) -> List[str]:
    """What in a resolved verl config (plain dict) would make the trainer compute something else than
    TAO-RL.md; an empty list when nothing does. Each entry names the key and the value it needs."""
    data = cfg.get("data") or {}
    aro = cfg.get("actor_rollout_ref") or {}
    actor, rollout = aro.get("actor") or {}, aro.get("rollout") or {}
    trainer, algo = cfg.get("trainer") or {}, cfg.get("algorithm") or {}
    reward_model = cfg.get("reward_model") or {}
    out: List[str] = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            out.append(what)

    need((actor.get("policy_loss") or {}).get("loss_mode", "vanilla") == "vanilla",
         "actor_rollout_ref.actor.policy_loss.loss_mode=vanilla (the clipped loss with dual clip; the bonus is in the advantages)")
    need(actor.get("ppo_epochs", 1) == 1, "actor_rollout_ref.actor.ppo_epochs=1 (one pass; the bonus uses the old-log-prob pass's entropy)")
    need(not actor.get("shuffle", False), "actor_rollout_ref.actor.shuffle=False (the bonus pool follows verl's mini-batch slicing)")
    need(trainer.get("balance_batch", True), "trainer.balance_batch=True (the filter and refill run in the balancing hook)")
    need(trainer.get("use_legacy_worker_impl") == "disable",
         "trainer.use_legacy_worker_impl=disable (token-mean over the whole mini-batch; the legacy actor averages per micro-batch)")
    need(not algo.get("use_kl_in_reward", False), "algorithm.use_kl_in_reward=False (no KL in the reward)")
    need(not (algo.get("rollout_correction") or {}).get("bypass_mode", False),
         "algorithm.rollout_correction.bypass_mode=False (the old-log-prob pass gives the bonus its entropy)")
    need(not reward_model.get("launch_reward_fn_async", False), "reward_model.launch_reward_fn_async=False (rewards are read before the old-log-prob pass)")
    need(o.refill == "duplicate", f'tao.refill=duplicate (got "{o.refill}"; regeneration rounds would need a rewritten fit loop)')
    need(o.detach_entropy, "tao.detach_entropy=True (the bonus enters verl as a constant per-token advantage)")
    need(o.tool_fail_strength in (0.0, 1.0), "tao.tool_fail_strength in {0, 1} (verl's loss mask is boolean)")
    need(o.oversample >= 1, "data.gen_batch_size >= data.train_batch_size (oversample >= 1)")
    mini = actor.get("ppo_mini_batch_size")
    need(isinstance(mini, int) and mini > 0 and o.batch_prompts % mini == 0,
         f"actor_rollout_ref.actor.ppo_mini_batch_size divides data.train_batch_size ({mini} vs {o.batch_prompts})")
    need(o.kl_coef == 0 or actor.get("kl_loss_type") in _KL_NAMES.values(),
         f"actor_rollout_ref.actor.kl_loss_type in {sorted(_KL_NAMES.values())} when use_kl_loss")
    need(float(rollout.get("temperature", 1.0)) > 0, "actor_rollout_ref.rollout.temperature > 0 (entropy uses logits / temperature)")
    return out


@dataclass
class ToolFields:
    """Per-trajectory tool fields, as tensors."""

    post_tool: torch.Tensor  # (B, T) 1 on policy tokens of a turn right after a code turn
    tool_calls: torch.Tensor  # (B,) code turns
    valid_tool_calls: torch.Tensor  # (B,) code turns whose execution was valid
    void: torch.Tensor  # (B,) 1 when the trajectory has a void turn
    truncated: torch.Tensor  # (B,) 1 when it hit the response budget
    failures: Dict[str, int]  # failed code turns of the batch, by kind


def _rows(extra: Mapping[str, Sequence[Any]], key: str) -> Sequence[Any]:
    if key not in extra:
        raise KeyError(f'batch has no "{key}" per trajectory: it must come from the taorl_tir agent loop '
                       f"(agent_loop.py); non-tensor keys present: {sorted(extra)}")
    rows = extra[key]
    if any(r is None for r in rows):
        raise ValueError(f'"{key}" is missing for some trajectories (an agent loop other than taorl_tir in the batch?)')
    return rows


def tool_fields(extra: Mapping[str, Sequence[Any]], T: int, dtype: torch.dtype = torch.float32) -> ToolFields:
    """Parse the agent loop's extra_fields (verl's ``non_tensor_batch``: one entry per row) for T response slots."""
    post_rows, outcome_rows = _rows(extra, "post_tool_mask"), _rows(extra, "turn_outcomes")
    void, truncated = _rows(extra, "void"), _rows(extra, "truncated")
    B = len(post_rows)
    post = torch.zeros(B, T, dtype=dtype)
    calls = torch.zeros(B, dtype=dtype)
    valid = torch.zeros(B, dtype=dtype)
    failures = {k: 0 for k in FAILURE_KINDS}
    for b in range(B):
        g = [float(x) for x in list(post_rows[b])[:T]]
        if g:
            post[b, : len(g)] = torch.tensor(g, dtype=dtype)
        for outcome in list(outcome_rows[b]):
            if outcome is None:
                continue
            calls[b] += 1
            if outcome == "valid":
                valid[b] += 1
            elif outcome in failures:
                failures[outcome] += 1
            else:
                raise ValueError(f'unknown tool outcome "{outcome}" (row {b}); known: valid, {", ".join(FAILURE_KINDS)}')
    as_flag = lambda rows: torch.tensor([1.0 if bool(x) else 0.0 for x in rows], dtype=dtype)  # noqa: E731
    return ToolFields(post, calls, valid, as_flag(void), as_flag(truncated), failures)


def dense_groups(uid: Sequence[Any]) -> torch.Tensor:
    """(B,) long: each row's group as an integer, numbered in order of first appearance."""
    seen: Dict[Any, int] = {}
    return torch.tensor([seen.setdefault(u, len(seen)) for u in uid], dtype=torch.long)


def rollout_metrics(reward: torch.Tensor, response_mask: torch.Tensor, fields: ToolFields, group: torch.Tensor,
                    o: TaoOptions) -> Dict[str, float]:
    """TAO-RL.md §5's rollout metrics over a batch (taorl's rolloutMetrics), as ``tao/*`` floats."""
    B = reward.shape[0]
    correct = (reward >= o.correct_threshold).to(reward.dtype)
    G = int(group.max()) + 1 if B else 0
    size = torch.zeros(G, dtype=reward.dtype).index_add_(0, group, torch.ones_like(reward))
    hits = torch.zeros(G, dtype=reward.dtype).index_add_(0, group, correct)
    hist = [0] * 6  # groups by fraction correct: [0], (0, .25), [.25, .5), [.5, .75), [.75, 1), [1]
    for p in (hits / size).tolist():
        hist[0 if p == 0 else 5 if p == 1 else 1 if p < 0.25 else 2 if p < 0.5 else 3 if p < 0.75 else 4] += 1
    calls = float(fields.tool_calls.sum())
    failed = ((fields.tool_calls > 0) & (fields.valid_tool_calls == 0)).sum()
    per = lambda x: float(x) / B if B else 0.0  # noqa: E731
    m = {
        "tao/reward_mean": per(reward.sum()), "tao/accuracy": per(correct.sum()),
        "tao/tool_calls_per_traj": per(calls), "tao/valid_exec_rate": float(fields.valid_tool_calls.sum()) / calls if calls else 0.0,
        "tao/all_tools_failed_rate": per(failed), "tao/void_rate": per(fields.void.sum()),
        "tao/truncation_rate": per(fields.truncated.sum()), "tao/response_length_mean": per((response_mask > 0).sum()),
    }
    for name, n in zip(("0", "lt25", "lt50", "lt75", "lt100", "100"), hist):
        m[f"tao/pass_rate_hist/{name}"] = float(n)
    for kind, n in fields.failures.items():
        m[f"tao/tool_failure_rate/{kind}"] = n / calls if calls else 0.0
    return m


@dataclass
class Selection:
    """The rows verl keeps for the update, as ``batch.reorder(rows)`` wants them, and their uids."""

    action: str  # exact | subsample | duplicate | skip
    rows: torch.Tensor  # (K,) long: row indices into the drawn batch, group after group; K = batch_prompts × n
    uid: List[str]  # (K,) each kept row's uid; a copy of a group gets a new uid shared by its members
    metrics: Dict[str, float] = field(default_factory=dict)


def select_rows(uid: Sequence[Any], reward: torch.Tensor, response_mask: torch.Tensor, fields: ToolFields,
                o: TaoOptions, seed: int) -> Selection:
    """Criterion 2, the overlong rule and the refill on the drawn batch (TAO-RL.md §2.1, §2.2, §2.5).

    uid: (B,) verl's group ids; reward: (B,) raw rewards; response_mask: (B, T). When no group survives the
    step is skipped: ``action`` is "skip" and ``rows`` are the first ``batch_prompts`` groups, so verl's
    passes still see a batch of the configured size (trainer.py then skips the update).
    """
    group = dense_groups(uid)
    batch = dict(group=group, reward=reward, response_mask=response_mask, tool_calls=fields.tool_calls,
                 valid_tool_calls=fields.valid_tool_calls, void=fields.void, truncated=fields.truncated)
    f = filter_batch(batch, o)
    G = int(f.stats.ids.shape[0])
    survivors = [int(g) for g, kept in zip(f.stats.ids.tolist(), f.group_kept.tolist()) if kept]
    # verl's step generates once: this is the last generation round, so "regenerate" would duplicate
    plan = plan_refill(survivors, next_group_id=G, seed=seed, batch_prompts=o.batch_prompts, refill=o.refill,
                       max_gen_rounds=o.max_gen_rounds, round=o.max_gen_rounds)
    if plan.action == "skip":
        first = list(range(min(G, o.batch_prompts)))
        plan = dataclasses.replace(plan, source=first, target=first)
    elif plan.action not in ("exact", "subsample", "duplicate"):
        raise ValueError(f'refill "{o.refill}" gave action "{plan.action}"; the verl trainer supports refill=duplicate only')
    rows, target = refill_rows(group.tolist(), plan)
    first_uid = {}
    for b, g in enumerate(group.tolist()):
        first_uid.setdefault(g, uid[b])
    copy_of = dict(zip(plan.target, plan.source))
    new_uid = [str(first_uid[t]) if t < G else f"{first_uid[copy_of[t]]}#tao-copy-{t}" for t in target]

    m = rollout_metrics(reward, response_mask, fields, group, o)
    for k, v in f.counts.items():
        m[f"tao/filter/{k}"] = float(v)
    m.update({"tao/refill/surviving_groups": float(len(survivors)), "tao/refill/duplicated_groups": float(plan.duplicated),
              "tao/refill/subsampled": float(plan.action == "subsample"), "tao/skipped_step": float(plan.action == "skip"),
              "tao/refill/groups_trained": 0.0 if plan.action == "skip" else float(len(plan.source))})
    return Selection(plan.action, torch.tensor(rows, dtype=torch.long), new_uid, m)


def minibatch_index(B: int, dp_size: int, rows_per_minibatch: int) -> torch.Tensor:
    """(B,) long: the optimizer mini-batch each row of verl's update batch lands in.

    verl's actor update cuts the batch into ``dp_size`` contiguous chunks (one per data-parallel rank),
    and each rank cuts its chunk into contiguous mini-batches of ``rows_per_minibatch / dp_size`` rows
    (``actor.shuffle=False``); global mini-batch k is the k-th piece of every rank.
    """
    if dp_size < 1 or B % dp_size or rows_per_minibatch % dp_size:
        raise ValueError(f"minibatch_index: B={B} and rows_per_minibatch={rows_per_minibatch} must be multiples of dp_size={dp_size}")
    per_rank, per_piece = B // dp_size, rows_per_minibatch // dp_size
    if per_piece == 0 or per_rank % per_piece:
        raise ValueError(f"minibatch_index: each rank's {per_rank} rows must split into pieces of {per_piece}")
    return (torch.arange(B) % per_rank) // per_piece


@dataclass
class Shaped:
    advantages: torch.Tensor  # (B, T) Ã on loss tokens, 0 elsewhere: verl's per-token "advantages"
    loss_mask: torch.Tensor  # (B, T) response mask × trajectory weight: verl's "response_mask" for the loss
    empty_minibatches: int  # mini-batches without a loss token (verl's token-mean would divide by 0)
    metrics: Dict[str, float] = field(default_factory=dict)


def shape_advantages(uid: Sequence[Any], reward: torch.Tensor, response_mask: torch.Tensor, fields: ToolFields,
                     entropy: torch.Tensor, minibatch: torch.Tensor, o: TaoOptions) -> Shaped:
    """Loss mask, GRPO advantages and the entropy bonus of the selected batch (TAO-RL.md §2.3-§4).

    uid: (B,); reward: (B,); response_mask, entropy: (B, T) with entropy from the old-log-prob pass
    (logits / rollout temperature); minibatch: (B,) from ``minibatch_index``. Statistics use every row,
    masked or not; the bonus pool is each mini-batch's loss tokens (std over the pool, not the batch).
    """
    group = dense_groups(uid)
    batch = dict(group=group, reward=reward, response_mask=response_mask, tool_calls=fields.tool_calls,
                 valid_tool_calls=fields.valid_tool_calls, void=fields.void, truncated=fields.truncated)
    f = filter_batch(batch, o)
    adv = compute_advantages(reward, f.stats, o.advantage, o.advantage_eps)
    shaped = torch.zeros_like(f.loss_mask)
    sums: Dict[str, float] = {}
    count = empty = 0
    for k in torch.unique(minibatch).tolist():
        rows = (minibatch == k).nonzero(as_tuple=True)[0]
        mask = f.loss_mask[rows]
        if not bool((mask > 0).any()):
            empty += 1
            continue
        part, _, bm = entropy_bonus(adv[rows], mask, fields.post_tool[rows], entropy[rows].to(mask.dtype), o)
        shaped[rows] = part
        count += 1
        for key, v in bm.items():
            sums[key] = max(sums.get(key, v), v) if key.endswith("_max") else sums.get(key, 0.0) + v
    m = {f"tao/bonus/{k}": (v if k.endswith("_max") or k in ("pool_size", "bonus_tokens") else v / count) for k, v in sums.items()}
    pool = f.loss_mask > 0
    post = pool & (fields.post_tool > 0)
    H = entropy.detach().to(f.loss_mask.dtype)
    m.update({
        "tao/entropy_mean": float(H[pool].mean()) if bool(pool.any()) else 0.0,
        "tao/entropy_post_tool_mean": float(H[post].mean()) if bool(post.any()) else 0.0,
        "tao/loss_tokens": float(pool.sum()), "tao/post_tool_tokens": float(post.sum()),
        "tao/advantage_abs_mean": float(shaped[pool].abs().mean()) if bool(pool.any()) else 0.0,
        "tao/empty_minibatches": float(empty),
    })
    for k in ("masked_truncated", "masked_all_tools_failed", "masked_void", "trajectories_kept"):
        m[f"tao/update/{k}"] = float(f.counts[k])
    return Shaped(shaped, f.loss_mask, empty, m)

"""TAO-RL's trainer for verl: a subclass of verl's RayPPOTrainer (verl's recipe pattern), written against
verl b178a3cd (gpu/VERL_PIN) and NOT run: verl, Ray and vLLM cannot be installed where taorl is developed.
Everything it computes is in batch.py (pure torch, tested in gpu/tests/test_trainer_batch.py); this file
only moves verl's tensors in and out, at three methods RayPPOTrainer.fit calls once per step, in order:

1. ``_balance_batch(batch, metrics)``, right after generation, before reward extraction and the
   old-log-prob / reference passes: read the rewards (``rm_scores``, scored by the agent-loop workers'
   reward loop), apply criterion 2 and the overlong rule to the drawn ``data.gen_batch_size`` groups, refill
   to exactly ``data.train_batch_size`` groups (``batch.reorder`` keeps, drops and copies rows in place;
   a copy gets a new ``uid``), log ``tao/*``; then verl's own sequence-length balancing.
2. ``_compute_old_log_prob(batch)``: verl's pass (which computes per-token entropy from logits / rollout
   temperature and then discards it), keeping that entropy in the batch as ``tao_entropys``.
3. ``_update_actor(batch)``: loss mask (truncated, criterion 1 and void rows → 0; they stay in the group
   statistics), GRPO advantages and the entropy bonus pooled per optimizer mini-batch (batch.py), written
   as verl's per-token ``advantages`` and ``response_mask``; then verl's update. A step whose groups were
   all dropped is skipped here (no optimizer step) and logged as ``tao/skipped_step``.

The loss is verl's own ``vanilla`` policy loss (core_algos.compute_policy_loss_vanilla), not taorl's through
``register_policy_loss`` (that registry exists at this commit). Why: vanilla already is TAO-RL.md §5 term by
term — r = exp(clamp(logp - old, ±20)), max(-A r, -A clip(r, 1 - clip_ratio_low, 1 + clip_ratio_high)),
and where A < 0 min(that, -A clip_ratio_c) — with per-token advantages, and a registered loss receives
(old_log_prob, log_prob, advantages, response_mask, loss_agg_mode, config, rollout_is_weights) but no entropy
and no post-tool mask, so taorl's loss could not compute the bonus there either. The bonus therefore enters
as the per-token advantage Ã = A (1 + a g z); the clipped loss is positively homogeneous in A, so this is
exactly taorl's loss when H is detached (the default; ``detach_entropy=false`` is refused).
``token-mean`` divides by the mini-batch's loss tokens only in verl's engine workers
(``trainer.use_legacy_worker_impl=disable``: losses.ppo_loss passes the all-reduced ``batch_num_tokens``); the
legacy FSDP actor averages per micro-batch token means, and divides 0 by 0 on a micro-batch whose rows are
all masked, so the trainer refuses it (batch.check_verl_config lists every such requirement).

Departures from TAO-RL.md, all forced by verl's step: H is the old-log-prob pass's (the policy at the start
of the step; the same as the training forward pass for the first mini-batch, one update behind for the
second of 256/128); mini-batches are verl's row slices after sequence balancing, so a group may straddle two;
``refill=regenerate`` is not supported (it needs a rewritten fit loop, as verl-recipe's DAPO does).
"""
from __future__ import annotations

import time

from ..refill import mix_seed
from .batch import (REFILL_SALT, check_verl_config, minibatch_index, options_from_config, select_rows,
                    shape_advantages, tool_fields)

from . import VERL_PIN
try:
    import numpy as np
    import torch
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.trainer.ppo.ray_trainer import RayPPOTrainer
except ImportError as e:  # pragma: no cover - verl is absent where taorl is developed
    raise ImportError(
        f"taorl_verl.verl_plugin.trainer needs verl ({VERL_PIN}; pip install verl at that commit). "
        "Its logic, taorl_verl.verl_plugin.batch, works without it.") from e

ENTROPY_KEY = "tao_entropys"


class TaoRLTrainer(RayPPOTrainer):
    """RayPPOTrainer plus TAO-RL's filtering, refill, loss mask and entropy-guided advantages."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cfg = OmegaConf.to_container(self.config, resolve=True)
        self.tao = options_from_config(cfg)
        problems = check_verl_config(cfg, self.tao)
        if problems:
            raise ValueError("TaoRLTrainer: this verl config would not compute TAO-RL.md; set:\n  " + "\n  ".join(problems))
        self.tao_seed = int((cfg.get("tao") or {}).get("seed", 0))
        self._tao_skip = False

    def _rewards(self, batch) -> "torch.Tensor":
        """(B,) rewards. With verl's reward loop the agent-loop workers already put ``rm_scores`` in the batch;
        otherwise score here and store ``rm_scores`` so that fit's reward step only reads them back."""
        if "rm_scores" not in batch.batch.keys():
            scores, extra = self._compute_or_extract_reward(batch, reward_fn=self.reward_fn, reward_for_val=False)
            batch.batch["rm_scores"] = scores
            for k, v in (extra or {}).items():
                batch.non_tensor_batch[k] = np.array(v)
            batch.meta_info["reward_extra_keys"] = list((extra or {}).keys())
        return batch.batch["rm_scores"].sum(dim=-1).float().cpu()

    def _balance_batch(self, batch, metrics, logging_prefix="global_seqlen", keep_minibatch=False):
        t0 = time.perf_counter()
        T = batch.batch["responses"].shape[1]
        reward = self._rewards(batch)
        fields = tool_fields(batch.non_tensor_batch, T)
        sel = select_rows(list(batch.non_tensor_batch["uid"]), reward, batch.batch["response_mask"].cpu(), fields,
                          self.tao, seed=mix_seed(self.tao_seed, self.global_steps, REFILL_SALT))
        batch.reorder(sel.rows)
        batch.non_tensor_batch["uid"] = np.array(sel.uid, dtype=object)
        self._tao_skip = sel.action == "skip"
        metrics.update(sel.metrics)
        metrics["tao/time/select_s"] = time.perf_counter() - t0
        super()._balance_batch(batch, metrics, logging_prefix=logging_prefix, keep_minibatch=keep_minibatch)

    def _compute_old_log_prob(self, batch):
        old_log_prob, mfu = super()._compute_old_log_prob(batch)
        old_log_prob.batch[ENTROPY_KEY] = old_log_prob.batch["entropys"]  # fit pops "entropys" after its metric
        return old_log_prob, mfu

    def _skip(self, reason: str):
        self._tao_skip = False
        return DataProto.from_single_dict(data={}, meta_info={"metrics": {"tao/skipped_step": 1.0, f"tao/skip/{reason}": 1.0}})

    def _update_actor(self, batch):
        entropy = batch.batch.pop(ENTROPY_KEY).float().cpu()
        if self._tao_skip:
            return self._skip("no_group_survived")
        t0 = time.perf_counter()
        B, T = batch.batch["responses"].shape
        actor, rollout = self.config.actor_rollout_ref.actor, self.config.actor_rollout_ref.rollout
        minibatch = minibatch_index(B, self._get_dp_size(self.actor_rollout_wg, "actor"), actor.ppo_mini_batch_size * rollout.n)
        response_mask = batch.batch["response_mask"]
        reward = batch.batch["token_level_scores"].sum(dim=-1).float().cpu()
        shaped = shape_advantages(list(batch.non_tensor_batch["uid"]), reward, response_mask.float().cpu(),
                                  tool_fields(batch.non_tensor_batch, T), entropy, minibatch, self.tao)
        if shaped.empty_minibatches:
            return self._skip("minibatch_without_loss_tokens")
        device = batch.batch["advantages"].device
        batch.batch["advantages"] = shaped.advantages.to(device=device, dtype=batch.batch["advantages"].dtype)
        batch.batch["response_mask"] = (shaped.loss_mask > 0).to(device=response_mask.device, dtype=response_mask.dtype)
        shape_s = time.perf_counter() - t0
        out = super()._update_actor(batch)
        out.meta_info.setdefault("metrics", {}).update(shaped.metrics)
        out.meta_info["metrics"].update({"tao/skipped_step": 0.0, "tao/time/shape_s": shape_s})
        return out

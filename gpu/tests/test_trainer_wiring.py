"""TaoRLTrainer's three hooks, driven in the order verl's fit calls them, over a STAND-IN for verl.

verl cannot be installed here, so this does not test verl: the stand-in below has only the names trainer.py
uses (RayPPOTrainer's hooks, DataProto's batch / non_tensor_batch / meta_info / reorder / from_single_dict,
OmegaConf.to_container), shaped as at verl b178a3cd. What it does test is trainer.py's own code: that it runs,
moves the right tensors between verl's batch and batch.py, and that what reaches the actor update is what
batch.py computes on the same rows.
"""
import importlib
import sys
import types

import numpy as np
import pytest
import torch

from taorl_verl.verl_plugin.batch import minibatch_index, shape_advantages, tool_fields

N_PROMPTS, N_DRAWN, N_ROLLOUTS, T = 4, 8, 4, 6


class Cfg(dict):
    """DictConfig-like attribute access over a plain dict."""

    def __getattr__(self, k):
        v = self[k]
        return Cfg(v) if isinstance(v, dict) else v


class DataProto:
    def __init__(self, batch=None, non_tensor_batch=None, meta_info=None):
        self.batch, self.non_tensor_batch, self.meta_info = dict(batch or {}), dict(non_tensor_batch or {}), dict(meta_info or {})

    @classmethod
    def from_single_dict(cls, data, meta_info=None):
        return cls(batch=data, meta_info=meta_info)

    def reorder(self, indices):
        self.batch = {k: v[indices] for k, v in self.batch.items()}
        self.non_tensor_batch = {k: v[indices.numpy()] for k, v in self.non_tensor_batch.items()}


class RayPPOTrainer:
    """Records what the base hooks receive."""

    def __init__(self, config):
        self.config, self.global_steps, self.calls = config, 3, []
        self.actor_rollout_wg = object()  # set by verl's init_workers

    def _balance_batch(self, batch, metrics, logging_prefix="global_seqlen", keep_minibatch=False):
        self.calls.append(("balance", len(batch.non_tensor_batch["uid"])))

    def _compute_old_log_prob(self, batch):
        B = batch.batch["responses"].shape[0]
        self.calls.append(("old_log_prob", B))
        gen = torch.Generator().manual_seed(1)
        return DataProto(batch={"old_log_probs": -torch.rand(B, T, generator=gen), "entropys": torch.rand(B, T, generator=gen) * 2}), 0.0

    def _get_dp_size(self, worker_group, role):
        return 2

    def _update_actor(self, batch):
        self.calls.append(("update", batch.batch["advantages"].clone(), batch.batch["response_mask"].clone()))
        return DataProto(meta_info={"metrics": {"actor/pg_loss": 0.0}})


@pytest.fixture
def trainer_module(monkeypatch):
    stubs = {
        "omegaconf": types.SimpleNamespace(OmegaConf=types.SimpleNamespace(to_container=lambda c, resolve=True: dict(c))),
        "verl": types.SimpleNamespace(DataProto=DataProto),
        "verl.trainer": types.ModuleType("verl.trainer"), "verl.trainer.ppo": types.ModuleType("verl.trainer.ppo"),
        "verl.trainer.ppo.ray_trainer": types.SimpleNamespace(RayPPOTrainer=RayPPOTrainer),
    }
    for name, mod in stubs.items():
        monkeypatch.setitem(sys.modules, name, mod)
    sys.modules.pop("taorl_verl.verl_plugin.trainer", None)
    yield importlib.import_module("taorl_verl.verl_plugin.trainer")
    sys.modules.pop("taorl_verl.verl_plugin.trainer", None)


def config():
    return Cfg(
        data=dict(train_batch_size=N_PROMPTS, gen_batch_size=N_DRAWN),
        actor_rollout_ref=dict(
            actor=dict(ppo_mini_batch_size=2, ppo_epochs=1, shuffle=False, clip_ratio_low=0.2, clip_ratio_high=0.28,
                       clip_ratio_c=3.0, loss_agg_mode="token-mean", entropy_coeff=0, use_kl_loss=False,
                       policy_loss=dict(loss_mode="vanilla")),
            rollout=dict(n=N_ROLLOUTS, temperature=1.0)),
        trainer=dict(balance_batch=True, use_legacy_worker_impl="disable"),
        algorithm=dict(use_kl_in_reward=False), reward_model=dict(launch_reward_fn_async=False),
        tao=dict(seed=0),
    )


def generated(correct_per_group):
    """The batch after generation, as fit holds it when it calls _balance_batch (rewards from the reward loop)."""
    B = N_DRAWN * N_ROLLOUTS
    gen = torch.Generator().manual_seed(0)
    lengths = torch.randint(3, T + 1, (B,), generator=gen)
    mask = (torch.arange(T)[None, :] < lengths[:, None]).long()
    reward = torch.tensor([float(r < k) for k in correct_per_group for r in range(N_ROLLOUTS)])
    rm = torch.zeros(B, T)
    rm[torch.arange(B), lengths - 1] = reward
    post = np.empty(B, dtype=object)
    post[:] = [[0, 0] + [1] * (int(n) - 2) for n in lengths]
    outcomes = np.empty(B, dtype=object)
    outcomes[:] = [["valid" if b % 5 else "error", None] for b in range(B)]
    return DataProto(
        batch={"responses": torch.zeros(B, T, dtype=torch.long), "response_mask": mask, "rm_scores": rm},
        non_tensor_batch={"uid": np.array([f"u{g}" for g in range(N_DRAWN) for _ in range(N_ROLLOUTS)], dtype=object),
                          "post_tool_mask": post, "turn_outcomes": outcomes,
                          "void": np.array([False] * B, dtype=object), "truncated": np.array([False] * B, dtype=object)})


def run_step(trainer, batch):
    """fit's order at verl b178a3cd: balance, reward, old log-prob (entropys popped), advantage, update."""
    metrics = {}
    trainer._balance_batch(batch, metrics=metrics)
    batch.batch["token_level_scores"] = batch.batch["rm_scores"]
    old, _ = trainer._compute_old_log_prob(batch)
    old.batch.pop("entropys")
    batch.batch.update(old.batch)
    batch.batch["advantages"] = torch.zeros(batch.batch["responses"].shape)
    out = trainer._update_actor(batch)
    return metrics, out


def test_hooks_filter_before_the_passes_and_hand_tao_advantages_to_the_update(trainer_module):
    trainer = trainer_module.TaoRLTrainer(config())
    batch = generated([4, 0, 1, 2, 4, 3, 2, 1])  # 3 uniform groups dropped, 5 survive, 4 kept
    metrics, out = run_step(trainer, batch)
    rows = N_PROMPTS * N_ROLLOUTS
    assert trainer.calls[0] == ("balance", rows) and trainer.calls[1] == ("old_log_prob", rows)
    assert not {"u0", "u1", "u4"} & set(batch.non_tensor_batch["uid"])
    assert "tao_entropys" not in batch.batch  # not shipped to the workers
    _, adv, mask = trainer.calls[2]
    fields = tool_fields(batch.non_tensor_batch, T)
    entropy = trainer._compute_old_log_prob(batch)[0].batch["entropys"]
    expect = shape_advantages(list(batch.non_tensor_batch["uid"]), batch.batch["rm_scores"].sum(-1), batch.batch["response_mask"].float(),
                              fields, entropy, minibatch_index(rows, 2, 2 * N_ROLLOUTS), trainer.tao)
    assert torch.allclose(adv, expect.advantages.float())
    assert torch.equal(mask, (expect.loss_mask > 0).long())
    assert metrics["tao/filter/dropped_all_correct"] == 2 and metrics["tao/filter/dropped_all_wrong"] == 1
    assert out.meta_info["metrics"]["tao/skipped_step"] == 0 and "tao/bonus/bonus_max" in out.meta_info["metrics"]


def test_a_step_without_survivors_skips_the_update(trainer_module):
    trainer = trainer_module.TaoRLTrainer(config())
    metrics, out = run_step(trainer, generated([4, 0] * 4))
    assert [c[0] for c in trainer.calls] == ["balance", "old_log_prob"]
    assert metrics["tao/skipped_step"] == 1 and out.meta_info["metrics"]["tao/skipped_step"] == 1


def test_a_config_that_computes_something_else_is_refused(trainer_module):
    cfg = config()
    cfg["trainer"]["use_legacy_worker_impl"] = "auto"
    with pytest.raises(ValueError, match="use_legacy_worker_impl=disable"):
        trainer_module.TaoRLTrainer(cfg)

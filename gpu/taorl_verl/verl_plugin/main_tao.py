"""Entry point of the TAO-RL recipe on verl (gpu/recipe/tao_rl_7b/run.sh): verl's PPO main with TaoRLTrainer.

verl b178a3cd's ``run_ppo(config, task_runner_class=...)`` takes a TaskRunner class "for recipe to change
TaskRunner"; TaskRunner.run builds the trainer class inline, so TaoTaskRunner.run does the same assembly
from TaskRunner's own building blocks (worker roles, resource pool, reward managers, datasets) and builds
TaoRLTrainer instead. Written against verl b178a3cd, import-guarded like agent_loop.py, NOT run here.

    python3 -m taorl_verl.verl_plugin.main_tao [hydra overrides]   # config: gpu/recipe/tao_rl_7b/tao_rl_7b.yaml
"""
from __future__ import annotations

import os
import socket

from . import VERL_PIN
try:
    import hydra
    import ray
    from omegaconf import OmegaConf
    from verl.trainer.main_ppo import TaskRunner, create_rl_dataset, create_rl_sampler, run_ppo
    from verl.trainer.ppo.reward import load_reward_manager
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config
    from verl.utils.device import auto_set_device
except ImportError as e:  # pragma: no cover - verl is absent where taorl is developed
    raise ImportError(
        f"taorl_verl.verl_plugin.main_tao needs verl ({VERL_PIN}; pip install verl at that commit), "
        "with its ray and hydra.") from e

from .trainer import TaoRLTrainer


class TaoTaskRunner(TaskRunner):
    """verl's TaskRunner, building TaoRLTrainer."""

    def run(self, config):
        from verl.utils import hf_processor, hf_tokenizer
        from verl.utils.dataset.rl_dataset import collate_fn
        from verl.utils.fs import copy_to_local

        print(f"TaoTaskRunner on {socket.gethostname()}, pid {os.getpid()}")
        OmegaConf.resolve(config)
        actor_rollout_cls, worker_group_cls = self.add_actor_rollout_worker(config)
        self.add_critic_worker(config)
        self.add_reward_model_worker(config)
        self.add_ref_policy_worker(config, actor_rollout_cls)
        validate_config(config=config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))

        model = copy_to_local(config.actor_rollout_ref.model.path, use_shm=config.actor_rollout_ref.model.get("use_shm", False))
        remote_code = config.data.get("trust_remote_code", False)
        tokenizer = hf_tokenizer(model, trust_remote_code=remote_code)
        processor = hf_processor(model, trust_remote_code=remote_code, use_fast=True)
        reward_kwargs = config.reward_model.get("reward_kwargs", {})
        train = create_rl_dataset(config.data.train_files, config.data, tokenizer, processor, is_train=True,
                                  max_samples=config.data.get("train_max_samples", -1))
        val = create_rl_dataset(config.data.val_files, config.data, tokenizer, processor, is_train=False,
                                max_samples=config.data.get("val_max_samples", -1))
        trainer = TaoRLTrainer(
            config=config, tokenizer=tokenizer, processor=processor,
            role_worker_mapping=self.role_worker_mapping, resource_pool_manager=self.init_resource_pool_mgr(config),
            ray_worker_group_cls=worker_group_cls,
            reward_fn=load_reward_manager(config, tokenizer, num_examine=0, **reward_kwargs),
            val_reward_fn=load_reward_manager(config, tokenizer, num_examine=1, **reward_kwargs),
            train_dataset=train, val_dataset=val, collate_fn=collate_fn,
            train_sampler=create_rl_sampler(config.data, train),
        )
        trainer.init_workers()
        trainer.fit()


@hydra.main(config_path="../../recipe/tao_rl_7b", config_name="tao_rl_7b", version_base=None)
def main(config):
    auto_set_device(config)
    run_ppo(config, task_runner_class=ray.remote(num_cpus=1)(TaoTaskRunner))


if __name__ == "__main__":
    main()

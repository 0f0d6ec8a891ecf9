"""taorl_verl: TAO-RL's math for PyTorch trainers (verl), identical to taorl's src/rl/."""
from .core import (  # noqa: F401
    REASONS, TaoOptions, GroupStats, FilterResult, group_stats, filter_batch, compute_advantages,
    post_tool_mask, entropy_bonus, aggregation_weights, kl_penalty, policy_loss, pass_at_k,
)

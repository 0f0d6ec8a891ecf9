"""TAO-RL's TIR agent loop (TAO-RL.md §1) as a verl agent loop, registered as "taorl_tir".

Written against verl b178a3cd (gpu/VERL_PIN): verl.experimental.agent_loop's register / AgentLoopBase /
AgentLoopOutput and AsyncLLMServerManager.generate(request_id, prompt_ids=, sampling_params=). verl is
imported only here and only when this module is imported, i.e. when verl loads it through
VERL_USE_EXTERNAL_MODULES=taorl_verl.verl_plugin.agent_loop (driver and every worker). It has NOT been
run: verl, Ray and vLLM cannot be installed where taorl is developed. What it calls that is tested:
sandbox_client.py (against a real `taorl serve`) and reward.py (against taorl's checker).

Per turn: generate; keep the sampled tokens up to the end of the first complete code block (the
smallest token prefix whose decoding holds it: tokens are never re-encoded); run the block in the taorl
sandbox with the task's tool prelude (extra_info["tool_prelude"], written by `taorl export verl`);
append the observation's tokens (cut to max_obs_tokens) with mask 0. Output extra_fields: post_tool_mask
and turn_index (per response token), turn_kinds, turn_outcomes, void, truncated, answer.
"""
from __future__ import annotations

import os
from typing import Any
from uuid import uuid4

from .sandbox_client import SandboxClient, classify_outcome, first_code_block, format_observation, turn_kind
from .reward import extract_boxed

from . import VERL_PIN
try:
    from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput, register
except ImportError as e:  # pragma: no cover - verl is absent where taorl is developed
    raise ImportError(
        f"taorl_verl.verl_plugin.agent_loop needs verl ({VERL_PIN}; pip install verl at that commit). "
        "The rest of taorl_verl (core, reward, sandbox_client) works without it.") from e


def _cut_to_first_block(tokenizer, ids: list[int]) -> int:
    """The smallest k such that decode(ids[:k]) holds a complete code block (len(ids) when none does)."""
    if first_code_block(tokenizer.decode(ids, skip_special_tokens=True)) is None:
        return len(ids)
    lo, hi = 1, len(ids)  # containment is monotone in k: binary search
    while lo < hi:
        mid = (lo + hi) // 2
        if first_code_block(tokenizer.decode(ids[:mid], skip_special_tokens=True)) is None:
            lo = mid + 1
        else:
            hi = mid
    return lo


@register("taorl_tir")
class TaorlTirAgentLoop(AgentLoopBase):
    """TAO-RL.md §1 turns: code / answer / void; observations masked; post-tool mask g recorded."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rollout = self.config.actor_rollout_ref.rollout
        self.prompt_length = rollout.prompt_length
        self.response_length = rollout.response_length
        tao = self.config.get("tao", {}) or {}
        self.max_turns = int(tao.get("max_turns", 5))
        self.max_turn_tokens = int(tao.get("max_turn_tokens", self.response_length))
        self.max_obs_tokens = int(tao.get("max_obs_tokens", 256))
        self.max_obs_chars = int(tao.get("max_obs_chars", 512))
        self.post_tool_window = tao.get("post_tool_window")  # None: the whole turn
        url = tao.get("sandbox_url") or os.environ.get("TAORL_SANDBOX_URL", "http://127.0.0.1:8787")
        self.sandbox = SandboxClient(url, timeout_s=float(tao.get("sandbox_timeout_s", 3.0)))

    async def run(self, sampling_params: dict[str, Any], **kwargs) -> AgentLoopOutput:
        messages = list(kwargs["raw_prompt"])
        extra = kwargs.get("extra_info") or {}
        prelude = extra.get("tool_prelude", "") or ""
        prompt_ids = await self.apply_chat_template(messages)
        response_ids: list[int] = []
        response_mask: list[int] = []
        logprobs: list[float] = []
        post_tool: list[int] = []
        turn_index: list[int] = []
        kinds: list[str] = []
        outcomes: list[str | None] = []
        truncated = False
        after_code = False
        for turn in range(self.max_turns):
            budget = self.response_length - len(response_ids)
            if budget <= 0:
                truncated = True
                break
            params = dict(sampling_params, max_tokens=min(budget, self.max_turn_tokens))
            out = await self.server_manager.generate(uuid4().hex, prompt_ids=prompt_ids + response_ids, sampling_params=params)
            ids = list(out.token_ids)
            k = _cut_to_first_block(self.tokenizer, ids)
            ids = ids[:k]
            text = self.tokenizer.decode(ids, skip_special_tokens=True)
            g = 1 if after_code else 0
            for j in range(len(ids)):
                in_window = self.post_tool_window is None or j < int(self.post_tool_window)
                post_tool.append(g if in_window else 0)
            response_ids += ids
            response_mask += [1] * len(ids)
            logprobs += list(out.log_probs[:k]) if out.log_probs else [0.0] * len(ids)
            turn_index += [turn] * len(ids)
            kind = turn_kind(text)
            kinds.append(kind)
            if kind != "code":
                outcomes.append(None)
                break
            block = first_code_block(text)
            r = self.sandbox.run(block.code, prelude)
            outcomes.append(classify_outcome(r))
            obs_ids = self.tokenizer.encode(format_observation(r, self.max_obs_chars), add_special_tokens=False)[: self.max_obs_tokens]
            obs_ids = obs_ids[: max(0, self.response_length - len(response_ids))]
            response_ids += obs_ids
            response_mask += [0] * len(obs_ids)
            logprobs += [0.0] * len(obs_ids)
            post_tool += [0] * len(obs_ids)
            turn_index += [turn] * len(obs_ids)
            after_code = True
            if "\\boxed{" in r.stdout:
                break
        n = self.response_length
        truncated = truncated or (len(response_ids) >= n and (not kinds or kinds[-1] != "answer"))
        # the answer as the reward sees it: the whole response, final_answer's printed \boxed{} included
        response_text = self.tokenizer.decode(response_ids[:n], skip_special_tokens=True)
        return AgentLoopOutput(
            prompt_ids=prompt_ids,
            response_ids=response_ids[:n],
            response_mask=response_mask[:n],
            response_logprobs=logprobs[:n],
            num_turns=2 * len(kinds) + 1,
            metrics=AgentLoopMetrics(),
            extra_fields={
                "post_tool_mask": post_tool[:n], "turn_index": turn_index[:n],
                "turn_kinds": kinds, "turn_outcomes": outcomes,
                "void": bool(kinds) and kinds[-1] == "void", "truncated": truncated,
                "answer": extract_boxed(response_text),
            },
        )

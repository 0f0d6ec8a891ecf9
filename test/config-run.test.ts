// Rollout and optimizer options: every number of TAO-RL.md §1, §5, §6 is a named field with its default.
import { describe, expect, it } from "vitest";
import { resolveOptim, resolveRollout } from "../src/config.js";

describe("rollout and optimizer defaults (TAO-RL.md)", () => {
  it("rollout: 5 turns in training, 10 in evaluation, 512-char / 256-token observations, 3 s tools, eval top-p 0.7, k 16", () => {
    expect(resolveRollout()).toEqual({
      n: 8, max_turns: 5, eval_max_turns: 10, max_turn_tokens: 256, max_response_tokens: 1024,
      max_obs_chars: 512, max_obs_tokens: 256, sandbox_timeout_s: 3,
      temperature: 1, top_p: 1, eval_temperature: 1, eval_top_p: 0.7, eval_k: 16,
    });
  });
  it("optimizer: AdamW β 0.9/0.99, weight decay 0.01, clip 1.0, one epoch, lr 1e-6", () => {
    expect(resolveOptim()).toEqual({
      lr: 1e-6, adam_beta1: 0.9, adam_beta2: 0.99, adam_eps: 1e-8, weight_decay: 0.01, grad_clip: 1, ppo_epochs: 1, mini_batch_prompts: 4,
    });
  });
  it("rejects unknown keys and out-of-range values by name", () => {
    expect(() => resolveRollout({ max_turn: 3 })).toThrow(/max_turn/);
    expect(() => resolveRollout({ eval_top_p: 1.5 })).toThrow(/eval_top_p/);
    expect(() => resolveOptim({ adam_beta2: 1 })).toThrow(/adam_beta2/);
  });
});

"""PyTorch CPU peer of bench/engine.ts: the training step of the same architecture and batch, one thread.

    python3 bench/engine_torch.py '{"config": {...HF config.json...}, "B": 16, "T": 128, "steps": 5, "warmup": 2}'

The step is what TfjsWasmEngine.step does: forward, the surrogate sum(w * logp + v * H) over slots 1..T-1,
backward, global-norm clipping, AdamW. The model is test/engine/reference_llama.py's, in float32.
Prints one JSON line: median step time, peak RSS, torch version and threads.
"""
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "engine"))
from reference_llama import logits  # noqa: E402


def shapes(cfg):
    D, F, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    dh = cfg.get("head_dim") or D // H
    out = {"model.embed_tokens.weight": (V, D), "model.norm.weight": (D,)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        out.update({
            p + "input_layernorm.weight": (D,), p + "post_attention_layernorm.weight": (D,),
            p + "self_attn.q_proj.weight": (H * dh, D), p + "self_attn.k_proj.weight": (KV * dh, D),
            p + "self_attn.v_proj.weight": (KV * dh, D), p + "self_attn.o_proj.weight": (D, H * dh),
            p + "mlp.gate_proj.weight": (F, D), p + "mlp.up_proj.weight": (F, D), p + "mlp.down_proj.weight": (D, F),
        })
    if not cfg.get("tie_word_embeddings", False):
        out["lm_head.weight"] = (V, D)
    return out


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg, B, T = spec["config"], spec["B"], spec["T"]
    W = {}
    for name, shape in shapes(cfg).items():
        t = torch.ones(shape) if name.endswith("norm.weight") else torch.randn(shape) * 0.02
        W[name] = t.requires_grad_(True)
    opt = torch.optim.AdamW(W.values(), lr=1e-3, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01)
    ids = torch.randint(0, cfg["vocab_size"], (B, T))
    w = torch.full((B, T - 1), -1.0 / (B * T))
    v = torch.full((B, T - 1), 1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        lp = torch.log_softmax(logits(cfg, W, ids[:, :-1]), dim=-1)
        logp = lp.gather(-1, ids[:, 1:, None]).squeeze(-1)
        ent = -(lp.exp() * lp).sum(-1)
        (w * logp + v * ent).sum().backward()
        torch.nn.utils.clip_grad_norm_(W.values(), 1.0)
        opt.step()

    for _ in range(spec.get("warmup", 2)):
        step()
    times = []
    for _ in range(spec["steps"]):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({
        "step_ms": statistics.median(times), "step_ms_all": times,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "parameters": sum(t.numel() for t in W.values()),
    }))


if __name__ == "__main__":
    main()

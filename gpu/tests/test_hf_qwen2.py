"""A Qwen2 checkpoint written by taorl loads in transformers and computes what taorl's engines compute.

test/fixtures/hf-qwen2/ (kept current by test/gpu/hf-qwen2.test.ts) is a seeded Qwen2-architecture folder:
grouped-query attention (4 query heads, 2 key/value heads), q/k/v bias, untied embeddings, rope_theta
1e6, weights in BF16 safetensors; expected.json holds per-token log-probs and entropies of three token
rows from onnxruntime-web and tfjs-wasm. Here the folder loads as a stock ``Qwen2ForCausalLM`` (float32)
on TAORL_TEST_DEVICE (cpu by default; cuda on a GPU machine, TF32 off). Skips without transformers.
"""
import json
import os

import pytest
import torch

transformers = pytest.importorskip("transformers", reason="transformers is not installed (pip install transformers)")

DIR = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "hf-qwen2")
DEVICE = os.environ.get("TAORL_TEST_DEVICE", "cpu")


def test_qwen2_checkpoint_scores_like_taorl():
    torch.backends.cuda.matmul.allow_tf32 = False
    ex = json.load(open(os.path.join(DIR, "expected.json")))
    B, T = ex["B"], ex["T"]
    try:
        model = transformers.Qwen2ForCausalLM.from_pretrained(DIR, dtype=torch.float32, attn_implementation="eager")
    except TypeError:  # transformers < 4.56 names it torch_dtype
        model = transformers.Qwen2ForCausalLM.from_pretrained(DIR, torch_dtype=torch.float32, attn_implementation="eager")
    cfg = model.config
    assert (cfg.num_attention_heads, cfg.num_key_value_heads, cfg.tie_word_embeddings) == (4, 2, False)
    assert model.model.layers[0].self_attn.q_proj.bias is not None and model.model.layers[0].self_attn.o_proj.bias is None
    model.to(DEVICE).eval()
    tokens = torch.tensor(ex["tokens"], dtype=torch.long, device=DEVICE).reshape(B, T)
    with torch.no_grad():
        logq = torch.log_softmax(model(input_ids=tokens).logits.double()[:, :-1], dim=-1)
    zero = torch.zeros(B, 1, dtype=torch.float64, device=DEVICE)
    logp = torch.cat([zero, logq.gather(-1, tokens[:, 1:, None]).squeeze(-1)], dim=1).flatten().cpu()
    ent = torch.cat([zero, -(logq.exp() * logq).sum(-1)], dim=1).flatten().cpu()
    report = {}
    for engine in ("ort", "tfjs"):
        d_lp = float((logp - torch.tensor(ex[engine]["logp"], dtype=torch.float64)).abs().max())
        d_h = float((ent - torch.tensor(ex[engine]["entropy"], dtype=torch.float64)).abs().max())
        report[engine] = dict(logp=d_lp, entropy=d_h)
        assert d_lp < 1e-4 and d_h < 1e-4, (engine, d_lp, d_h)
    print(json.dumps(dict(device=DEVICE, max_abs_diff=report)))

"""One TAO-RL update of taorl's embedded policy, redone with Hugging Face transformers and taorl_verl.

test/fixtures/hf-step/default-policy.json (written and kept current by test/gpu/hf-step.test.ts) holds
rollouts of models/default and what taorl computed from them with tfjs-wasm and src/rl. Here the same
checkpoint loads as a stock ``LlamaForCausalLM`` and the update is recomputed the way a GPU trainer
would: log-probs and entropies from the model's logits, the filter, GRPO advantages, the entropy bonus
and the clipped loss from ``taorl_verl``, then ``loss.backward()`` through the model. Every number must
match taorl's: the same model, the same algorithm, another engine.

Runs on the device named by TAORL_TEST_DEVICE (cpu by default; cuda on a GPU machine, with TF32 off so
float32 means float32). Skips when transformers is not installed. With TAORL_HF_STEP_REPORT=<file> it
also writes the measured differences there as JSON.
"""
import json
import os

import pytest
import torch

from taorl_verl import TaoOptions, compute_advantages, filter_batch, policy_loss

transformers = pytest.importorskip("transformers", reason="transformers is not installed (pip install transformers)")

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
MODEL = os.path.join(ROOT, "models", "default")
FIXTURE = os.path.join(ROOT, "test", "fixtures", "hf-step", "default-policy.json")
DEVICE = os.environ.get("TAORL_TEST_DEVICE", "cpu")


@pytest.fixture(scope="module")
def step():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    f = json.load(open(FIXTURE))
    ex = f["expected"]
    B, T = ex["B"], ex["T"]
    rows = f["rows"]
    try:
        model = transformers.LlamaForCausalLM.from_pretrained(MODEL, dtype=torch.float32, attn_implementation="eager")
    except TypeError:  # transformers < 4.56 names it torch_dtype
        model = transformers.LlamaForCausalLM.from_pretrained(MODEL, torch_dtype=torch.float32, attn_implementation="eager")
    model.to(DEVICE).train(False)

    def pad(key, dtype):
        out = torch.zeros(B, T, dtype=dtype)
        for b, r in enumerate(rows):
            out[b, : len(r[key])] = torch.tensor(r[key], dtype=dtype)
        return out.to(DEVICE)

    f64 = dict(dtype=torch.float64, device=DEVICE)
    batch = dict(
        group=torch.tensor([r["group"] for r in rows], dtype=torch.long, device=DEVICE),
        reward=torch.tensor([r["reward"] for r in rows], **f64),
        response_mask=pad("response_mask", torch.float64), post_tool_mask=pad("post_tool_mask", torch.float64),
        tool_calls=torch.tensor([r["tool_calls"] for r in rows], **f64),
        valid_tool_calls=torch.tensor([r["valid_tool_calls"] for r in rows], **f64),
        void=torch.tensor([float(r["void"]) for r in rows], **f64),
        truncated=torch.tensor([float(r["truncated"]) for r in rows], **f64),
        old_logp=pad("old_logp", torch.float64),
    )
    tokens = pad("tokens", torch.long)

    # per-token log-prob of each token and entropy of the distribution that produced it; slot 0 = 0
    logits = model(input_ids=tokens).logits.float() / f["temperature"]
    logq = torch.log_softmax(logits[:, :-1], dim=-1)
    logp = torch.cat([torch.zeros(B, 1, device=DEVICE), logq.gather(-1, tokens[:, 1:, None]).squeeze(-1)], dim=1)
    ent = torch.cat([torch.zeros(B, 1, device=DEVICE), -(logq.exp() * logq).sum(-1)], dim=1)

    o = TaoOptions()
    filt = filter_batch(batch, o)
    adv = compute_advantages(batch["reward"], filt.stats, o.advantage, o.advantage_eps)
    logp64 = logp.double()
    logp64.retain_grad()
    loss, shaped, metrics = policy_loss(logp64, batch["old_logp"], ent.double(), adv, filt.loss_mask, batch["post_tool_mask"], o)
    model.zero_grad()
    loss.backward()
    grad_norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters() if p.grad is not None))
    w = torch.as_tensor(ex["w"], dtype=torch.float64).reshape(B, T).to(DEVICE)
    v = torch.as_tensor(ex["v"], dtype=torch.float64).reshape(B, T).to(DEVICE)
    surrogate = float((w[:, 1:] * logp.double().detach()[:, 1:] + v[:, 1:] * ent.double().detach()[:, 1:]).sum())
    return dict(f=f, ex=ex, B=B, T=T, logp=logp.detach(), ent=ent.detach(), filt=filt, adv=adv, loss=loss.detach(),
                shaped=shaped.detach(), metrics=metrics, w=logp64.grad, grad_norm=float(grad_norm), surrogate=surrogate)


def err(actual, expected):
    a = torch.as_tensor(actual, dtype=torch.float64).flatten().cpu()
    e = torch.as_tensor(expected, dtype=torch.float64).flatten()
    assert a.shape == e.shape
    return float(((a - e).abs() / e.abs().clamp(min=1)).max())


def test_the_checkpoint_loads_as_a_stock_llama_and_scores_like_taorl(step):
    ex = step["ex"]
    assert err(step["logp"], ex["logp"]) < 1e-4
    assert err(step["ent"], ex["entropy"]) < 1e-4


def test_filter_advantage_and_loss_equal_taorl(step):
    ex, filt = step["ex"], step["filt"]
    assert filt.reasons == ex["reasons"]
    assert filt.group_kept.to(torch.int).tolist() == ex["group_kept"]
    assert err(filt.loss_mask, ex["loss_mask"]) == 0
    assert err(step["adv"], ex["advantage"]) < 1e-9
    assert err(step["shaped"], ex["shaped_advantage"]) < 1e-4
    assert err(step["loss"], ex["loss"]) < 1e-4
    assert err(step["w"], ex["w"]) < 1e-5
    for k, val in {**filt.counts, **step["metrics"]}.items():
        if k in ex["metrics"]:
            assert abs(float(val) - ex["metrics"][k]) <= 1e-4 * max(1.0, abs(ex["metrics"][k])), k


def test_the_gradient_through_the_model_equals_taorls(step):
    ex = step["ex"]
    assert abs(step["surrogate"] - ex["surrogate"]) <= 1e-4 * max(1.0, abs(ex["surrogate"]))
    assert abs(step["grad_norm"] - ex["grad_norm"]) <= 1e-3 * ex["grad_norm"]


def test_report(step):
    path = os.environ.get("TAORL_HF_STEP_REPORT")
    ex = step["ex"]
    report = dict(
        device=str(torch.device(DEVICE)) + (f" ({torch.cuda.get_device_name()})" if DEVICE.startswith("cuda") else ""),
        torch=torch.__version__, transformers=transformers.__version__, B=step["B"], T=step["T"],
        loss_tokens=ex["metrics"]["loss_tokens"], bonus_tokens=ex["metrics"]["bonus_tokens"],
        max_rel_err=dict(logp=err(step["logp"], ex["logp"]), entropy=err(step["ent"], ex["entropy"]),
                         shaped_advantage=err(step["shaped"], ex["shaped_advantage"]), w=err(step["w"], ex["w"])),
        loss=dict(taorl=ex["loss"], here=float(step["loss"])),
        grad_norm=dict(taorl=ex["grad_norm"], here=step["grad_norm"]),
        surrogate=dict(taorl=ex["surrogate"], here=step["surrogate"]),
    )
    if path:
        with open(path, "w") as fh:
            json.dump(report, fh, indent=2)
    print(json.dumps(report))

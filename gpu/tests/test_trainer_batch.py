"""The verl trainer's batch logic (taorl_verl.verl_plugin.batch) and the refill port (taorl_verl.refill).

Checked against taorl itself: the refill draws the same groups as src/rl/refill.ts for the same seed (the
TypeScript is bundled and run when node and esbuild are installed), the refill conformance vectors, and
every conformance vector's loss mask and token advantages pushed through verl's layout (uid strings,
agent-loop extra_fields, per-token advantages). Plus the properties the trainer relies on: uniform groups
never reach the old-log-prob pass, the batch is refilled to exactly batch_prompts groups, flagged rows
keep counting in their group's statistics, the bonus lands only on post-tool tokens, and folding the bonus
into per-token advantages of verl's clipped loss gives taorl's loss. Also the recipe yaml (gpu/recipe/).
"""
import glob
import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from taorl_verl import TaoOptions, compute_advantages, entropy_bonus, filter_batch, policy_loss
from taorl_verl.refill import mix_seed, permutation, plan_refill, refill_rows, seeded_random
from taorl_verl.verl_plugin.batch import (
    check_verl_config, minibatch_index, options_from_config, select_rows, shape_advantages, tool_fields)

GPU = Path(__file__).resolve().parents[1]
ROOT = GPU.parent
VECTORS = sorted(glob.glob(str(ROOT / "test" / "fixtures" / "conformance" / "*.json")))
RECIPE = GPU / "recipe" / "tao_rl_7b" / "tao_rl_7b.yaml"
F64 = torch.float64


# ---------------------------------------------------------------- refill: the same draws as taorl's TypeScript

def test_refill_conformance_vectors():
    cases = [p for p in VECTORS if "refill" in json.load(open(p))["input"]]
    assert len(cases) >= 4
    for path in cases:
        c = json.load(open(path))
        i, ex = c["input"], c["expected"]["refill"]
        o = TaoOptions.from_dict(c["options"])
        f = filter_batch(dict(group=torch.tensor(i["group"]), reward=torch.tensor(i["reward"], dtype=F64),
                              response_mask=torch.ones(i["B"], i["T"], dtype=F64),
                              **{k: torch.tensor(i[k], dtype=F64) for k in ("tool_calls", "valid_tool_calls", "void", "truncated")}), o)
        survivors = [g for g, k in zip(f.stats.ids.tolist(), f.group_kept.tolist()) if k]
        assert survivors == ex["survivors"], path
        r = i["refill"]
        plan = plan_refill(survivors, r["next_group_id"], r["seed"], o.batch_prompts, o.refill, o.max_gen_rounds, r["round"])
        assert (plan.action, len(plan.source), plan.duplicated, plan.need) == (ex["action"], ex["size"], ex["duplicated"], ex["need"]), path
        assert plan.target[len(plan.target) - plan.duplicated:] == ex["copy_ids"] if plan.duplicated else ex["copy_ids"] == []
        if plan.action == "subsample":
            assert len(set(plan.source)) == len(plan.source) and set(plan.source) <= set(survivors)
            assert plan.source == sorted(plan.source, key=survivors.index)
        if plan.action == "duplicate":
            assert plan.source[: len(survivors)] == survivors and set(plan.source) <= set(survivors)


def _typescript_refill(tmp_path, cases):
    node, esbuild = shutil.which("node"), ROOT / "node_modules" / ".bin" / "esbuild"
    if node is None or not esbuild.exists():
        pytest.skip("node and node_modules/.bin/esbuild are needed to run taorl's TypeScript refill (npm install)")
    entry = tmp_path / "refill-entry.ts"
    entry.write_text(
        f'import {{ planRefill }} from {json.dumps(str(ROOT / "src/rl/refill.ts"))};\n'
        f'import {{ mixSeed, seededRandom, permutation }} from {json.dumps(str(ROOT / "src/rl/rng.ts"))};\n'
        "const cases = JSON.parse(process.argv[2]);\n"
        "const out = {\n"
        "  mix: cases.mix.map((p: number[]) => mixSeed(...p)),\n"
        "  rand: cases.seeds.map((s: number) => { const r = seededRandom(s); return [r(), r(), r(), r(), r()]; }),\n"
        "  perm: cases.perm.map(([s, n]: number[]) => Array.from(permutation(seededRandom(s), n))),\n"
        "  plans: cases.plans.map((c: any) => { const p = planRefill({ survivors: Int32Array.from(c.survivors), nextGroupId: c.next,"
        " seed: c.seed }, { batchPrompts: c.N, refill: 'duplicate', maxGenRounds: 3 });"
        " return [p.action, Array.from(p.source), Array.from(p.target), p.duplicated]; }),\n"
        "};\n"
        "console.log(JSON.stringify(out));\n")
    bundle = tmp_path / "refill-entry.mjs"
    subprocess.run([str(esbuild), str(entry), "--bundle", "--platform=node", "--format=esm", "--log-level=warning",
                    f"--outfile={bundle}"], check=True, cwd=ROOT)
    res = subprocess.run([node, str(bundle), json.dumps(cases)], check=True, capture_output=True, text=True)
    return json.loads(res.stdout)


def test_refill_draws_the_same_groups_as_taorl_typescript(tmp_path):
    seeds = [0, 1, 7, 0x7E11, 2**31 + 5, 4294967295]
    cases = dict(
        mix=[[0], [1, 2, 3], [42, 7, 0x7E11], [1732500000000, 3], [-1, 5], [2**40 + 17, 2**33], [4294967295, 0]],
        seeds=seeds,
        perm=[[s, n] for s in seeds for n in (1, 2, 9, 64)],
        plans=[dict(survivors=list(range(0, 2 * S, 2)), next=2 * S + 1, seed=mix_seed(s, step, 0x7E11), N=N)
               for s in (0, 3) for step in (1, 2, 9) for S, N in ((13, 8), (3, 8), (8, 8), (1, 5), (256, 256), (300, 256), (40, 256))],
    )
    ts = _typescript_refill(tmp_path, cases)
    assert ts["mix"] == [mix_seed(*p) for p in cases["mix"]]
    assert ts["rand"] == [[r() for _ in range(5)] for r in map(seeded_random, seeds)]
    assert ts["perm"] == [permutation(seeded_random(s), n) for s, n in cases["perm"]]
    py = []
    for c in cases["plans"]:
        p = plan_refill(c["survivors"], c["next"], c["seed"], c["N"])
        py.append([p.action, p.source, p.target, p.duplicated])
    assert ts["plans"] == py


def test_refill_rows_keeps_groups_whole_and_in_plan_order():
    group = [5, 5, 9, 9, 5, 2, 2]
    plan = plan_refill([5, 9, 2], next_group_id=10, seed=3, batch_prompts=5)
    rows, ids = refill_rows(group, plan)
    assert len(rows) == sum(group.count(g) for g in plan.source)
    at = 0
    for src, tgt in zip(plan.source, plan.target):
        members = [b for b, g in enumerate(group) if g == src]
        assert rows[at:at + len(members)] == members and ids[at:at + len(members)] == [tgt] * len(members)
        at += len(members)


# ---------------------------------------------------------------- a drawn batch as verl holds it

def drawn(rewards, T=6, seed=0, truncated=None, outcomes=None, void=None):
    """verl's view of a step: uid per row (group members adjacent, as rollout.n repeats), rewards, response
    mask, and the taorl_tir agent loop's extra_fields."""
    gen = torch.Generator().manual_seed(seed)
    uid, reward = [], []
    for g, rs in enumerate(rewards):
        uid += [f"uid-{g:04d}"] * len(rs)
        reward += rs
    B = len(uid)
    lengths = torch.randint(2, T + 1, (B,), generator=gen)
    response_mask = (torch.arange(T)[None, :] < lengths[:, None]).to(F64)
    post = [[int(t >= 2) for t in range(int(lengths[b]))] for b in range(B)]
    extra = dict(
        post_tool_mask=post,
        turn_outcomes=outcomes or [["valid", None] for _ in range(B)],
        void=void or [False] * B, truncated=truncated or [False] * B,
    )
    return uid, torch.tensor(reward, dtype=F64), response_mask, extra


def opts(**kw):
    base = dict(batch_prompts=8, oversample=2)
    base.update(kw)
    return TaoOptions(**base)


def test_tool_fields_reads_the_agent_loop_extra_fields():
    extra = dict(post_tool_mask=[[0, 0, 1, 1], [0] * 7, []],
                 turn_outcomes=[["valid", "error", None], ["timeout", "oom", "output_limit"], [None]],
                 void=[False, True, False], truncated=[False, False, True])
    f = tool_fields(extra, T=5, dtype=F64)
    assert f.post_tool.tolist() == [[0, 0, 1, 1, 0], [0] * 5, [0] * 5]
    assert f.tool_calls.tolist() == [2, 3, 0] and f.valid_tool_calls.tolist() == [1, 0, 0]
    assert f.void.tolist() == [0, 1, 0] and f.truncated.tolist() == [0, 0, 1]
    assert f.failures == dict(error=1, timeout=1, oom=1, output_limit=1, empty=0)
    with pytest.raises(KeyError, match="taorl_tir"):
        tool_fields({k: v for k, v in extra.items() if k != "turn_outcomes"}, T=5)
    with pytest.raises(ValueError, match="unknown tool outcome"):
        tool_fields(dict(extra, turn_outcomes=[["crash"], [], []]), T=5)
    with pytest.raises(ValueError, match="missing for some"):
        tool_fields(dict(extra, void=[False, None, True]), T=5)


def mixed(n, k):
    """A group of n rewards with k correct."""
    return [1.0] * k + [0.0] * (n - k)


def test_uniform_groups_never_reach_the_old_log_prob_pass():
    n = 4
    rewards = [mixed(n, n)] * 4 + [mixed(n, 0)] * 2 + [mixed(n, 1 + g % 3) for g in range(10)]  # 16 drawn, 10 survive
    uid, reward, mask, extra = drawn(rewards)
    o = opts()
    sel = select_rows(uid, reward, mask, tool_fields(extra, mask.shape[1], F64), o, seed=11)
    kept = {uid[r] for r in sel.rows.tolist()}
    assert sel.action == "subsample" and len(sel.rows) == o.batch_prompts * n
    assert not kept & {f"uid-{g:04d}" for g in range(6)}
    assert sel.uid == [uid[r] for r in sel.rows.tolist()]  # a subsample keeps its uids
    for u in kept:  # whole groups, members adjacent
        at = [i for i, x in enumerate(sel.uid) if x == u]
        assert len(at) == n and at == list(range(at[0], at[0] + n))
    m = sel.metrics
    assert (m["tao/filter/dropped_all_correct"], m["tao/filter/dropped_all_wrong"], m["tao/filter/groups_kept"]) == (4, 2, 10)
    assert (m["tao/refill/surviving_groups"], m["tao/refill/groups_trained"], m["tao/skipped_step"]) == (10, 8, 0)
    assert m["tao/pass_rate_hist/100"] == 4 and m["tao/pass_rate_hist/0"] == 2
    assert m["tao/reward_mean"] == pytest.approx(float(reward.mean()))


def test_subsample_is_seeded():
    rewards = [mixed(2, 1)] * 16
    uid, reward, mask, extra = drawn(rewards)
    fields = tool_fields(extra, mask.shape[1], F64)
    pick = lambda s: select_rows(uid, reward, mask, fields, opts(), seed=s).rows.tolist()  # noqa: E731
    assert pick(5) == pick(5)
    assert len({tuple(pick(s)) for s in range(12)}) > 1
    plan = plan_refill(list(range(16)), 16, 5, 8)
    assert sorted({uid[r] for r in pick(5)}) == [f"uid-{g:04d}" for g in plan.source]


@pytest.mark.parametrize("survive,drawn_groups,batch_prompts", [(3, 16, 8), (8, 16, 8), (1, 4, 4), (256, 512, 256), (100, 512, 256)])
def test_refill_fills_the_batch_exactly(survive, drawn_groups, batch_prompts):
    n = 2
    rewards = [mixed(n, 1)] * survive + [mixed(n, n)] * (drawn_groups - survive)
    uid, reward, mask, extra = drawn(rewards, T=3)
    sel = select_rows(uid, reward, mask, tool_fields(extra, 3, F64), opts(batch_prompts=batch_prompts), seed=1)
    assert len(sel.rows) == len(sel.uid) == batch_prompts * n
    assert len(set(sel.uid)) == batch_prompts
    originals = {f"uid-{g:04d}" for g in range(survive)}
    assert originals <= set(sel.uid)  # every survivor once under its own uid
    copies = [u for u in dict.fromkeys(sel.uid) if u not in originals]
    assert len(copies) == max(0, batch_prompts - survive) and sel.metrics["tao/refill/duplicated_groups"] == len(copies)
    for u in copies:  # a copy: new uid shared by its members, rows of one surviving group
        rows = [r for r, x in zip(sel.rows.tolist(), sel.uid) if x == u]
        assert len(rows) == n and len({uid[r] for r in rows}) == 1 and uid[rows[0]] in originals


def test_no_survivor_skips_and_keeps_the_configured_size():
    rewards = [mixed(4, 4)] * 8 + [mixed(4, 0)] * 8
    uid, reward, mask, extra = drawn(rewards)
    sel = select_rows(uid, reward, mask, tool_fields(extra, mask.shape[1], F64), opts(), seed=0)
    assert sel.action == "skip" and sel.metrics["tao/skipped_step"] == 1
    assert sel.rows.tolist() == list(range(8 * 4)) and sel.metrics["tao/refill/groups_trained"] == 0


def test_overlong_groups_are_dropped_before_the_passes():
    n = 4
    rewards = [mixed(n, 2)] * 3
    truncated = [True, True, False, False] + [False] * 8  # group 0: 2 complete < min(4, 4)
    uid, reward, mask, extra = drawn(rewards, truncated=truncated)
    sel = select_rows(uid, reward, mask, tool_fields(extra, mask.shape[1], F64), opts(batch_prompts=2), seed=0)
    assert "uid-0000" not in sel.uid and sel.metrics["tao/filter/dropped_overlong"] == 1


# ---------------------------------------------------------------- the update: loss mask, advantages, bonus

def rand_entropy(B, T, seed=0):
    return torch.rand(B, T, generator=torch.Generator().manual_seed(seed), dtype=F64) * 3


def test_flagged_rows_keep_counting_in_group_stats():
    rewards = [[1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 1.0, 1.0]]
    outcomes = [["error", "timeout"], ["valid"], [], ["valid", "empty"]] + [["valid"]] * 4
    void = [False, True] + [False] * 6
    uid, reward, mask, extra = drawn(rewards, outcomes=outcomes, void=void)
    fields = tool_fields(extra, mask.shape[1], F64)
    H = rand_entropy(*mask.shape)
    out = shape_advantages(uid, reward, mask, fields, H, torch.zeros(8, dtype=torch.long), opts())
    assert out.loss_mask[0].sum() == 0 and out.loss_mask[1].sum() == 0  # all tools failed; void
    assert torch.equal(out.loss_mask[2:], mask[2:])
    assert out.advantages[:2].abs().sum() == 0
    std = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=F64).std(unbiased=True)
    A2 = (0.0 - 0.5) / (float(std) + 1e-6)  # the masked rows 0 and 1 are in the mean and the std
    no_bonus = (mask[2] > 0) & (fields.post_tool[2] == 0)
    assert torch.allclose(out.advantages[2][no_bonus], torch.full_like(out.advantages[2][no_bonus], A2))
    assert out.metrics["tao/update/masked_all_tools_failed"] == 1 and out.metrics["tao/update/masked_void"] == 1


def test_bonus_only_on_post_tool_tokens():
    uid, reward, mask, extra = drawn([mixed(4, 1), mixed(4, 3)], T=8, seed=3)
    fields = tool_fields(extra, 8, F64)
    H = rand_entropy(8, 8, seed=4)
    one = torch.zeros(8, dtype=torch.long)
    o = opts()
    out = shape_advantages(uid, reward, mask, fields, H, one, o)
    f = filter_batch(dict(group=torch.arange(8) // 4, reward=reward, response_mask=mask, tool_calls=fields.tool_calls,
                          valid_tool_calls=fields.valid_tool_calls, void=fields.void, truncated=fields.truncated), o)
    A = compute_advantages(reward, f.stats)[:, None].expand_as(mask)
    loss, post = mask > 0, (mask > 0) & (fields.post_tool > 0)
    assert torch.equal(out.advantages[loss & ~post], A[loss & ~post])
    assert torch.equal(out.advantages[~loss], torch.zeros_like(out.advantages[~loss]))
    assert bool((out.advantages[post] != A[post]).all())
    everywhere = shape_advantages(uid, reward, mask, fields, H, one, opts(bonus_scope="all"))
    assert bool((everywhere.advantages[loss & ~post] != A[loss & ~post]).all())


def test_bonus_pool_is_each_minibatch():
    uid, reward, mask, extra = drawn([mixed(4, g % 4 + 1) for g in range(3)] + [mixed(4, 2)], T=7, seed=5)
    fields = tool_fields(extra, 7, F64)
    H = rand_entropy(16, 7, seed=6)
    mb = minibatch_index(16, dp_size=2, rows_per_minibatch=8)
    o = opts()
    out = shape_advantages(uid, reward, mask, fields, H, mb, o)
    f = filter_batch(dict(group=torch.arange(16) // 4, reward=reward, response_mask=mask, tool_calls=fields.tool_calls,
                          valid_tool_calls=fields.valid_tool_calls, void=fields.void, truncated=fields.truncated), o)
    adv = compute_advantages(reward, f.stats)
    for k in (0, 1):
        rows = (mb == k).nonzero(as_tuple=True)[0]
        shaped, _, _ = entropy_bonus(adv[rows], f.loss_mask[rows], fields.post_tool[rows], H[rows], o)
        assert torch.equal(out.advantages[rows], shaped)
    whole, _, _ = entropy_bonus(adv, f.loss_mask, fields.post_tool, H, o)
    assert not torch.equal(out.advantages, whole)  # per-mini-batch pools differ from one pool over the step


def test_minibatch_index_follows_verls_slicing():
    # 2 ranks get rows 0-7 and 8-15; each cuts its chunk into mini-batches of 8 / 2 = 4 rows
    assert minibatch_index(16, 2, 8).tolist() == [0] * 4 + [1] * 4 + [0] * 4 + [1] * 4
    assert minibatch_index(4096, 8, 2048).bincount().tolist() == [2048, 2048]
    assert minibatch_index(6, 1, 6).tolist() == [0] * 6
    for bad in ((15, 2, 8), (16, 3, 6), (16, 2, 3), (16, 4, 12)):
        with pytest.raises(ValueError):
            minibatch_index(*bad)


def _verl_layout(c):
    """A conformance vector as verl would hand it to the trainer: uid strings and agent-loop extra_fields."""
    i = c["input"]
    B, T = i["B"], i["T"]
    post = torch.tensor(i["post_tool_mask"], dtype=F64).reshape(B, T)
    extra = dict(
        post_tool_mask=[post[b].tolist() for b in range(B)],
        turn_outcomes=[["valid"] * int(v) + ["error"] * int(n - v) for n, v in zip(i["tool_calls"], i["valid_tool_calls"])],
        void=[bool(x) for x in i["void"]], truncated=[bool(x) for x in i["truncated"]],
    )
    uid = [f"{g}-{'x' * (g % 3)}" for g in i["group"]]
    return uid, torch.tensor(i["reward"], dtype=F64), torch.tensor(i["response_mask"], dtype=F64).reshape(B, T), extra, \
        torch.tensor(i["entropy"], dtype=F64).reshape(B, T)


def _vectors_verl_can_take():
    out = []
    for p in VECTORS:
        o = json.load(open(p))["options"]
        if o["detach_entropy"] and o["tool_fail_strength"] in (0, 1):
            out.append(p)
    return out


@pytest.mark.parametrize("path", _vectors_verl_can_take(), ids=lambda p: os.path.basename(p)[:-5])
def test_conformance_vectors_through_verls_layout(path):
    c = json.load(open(path))
    ex, B, T = c["expected"], c["input"]["B"], c["input"]["T"]
    uid, reward, mask, extra, H = _verl_layout(c)
    out = shape_advantages(uid, reward, mask, tool_fields(extra, T, F64), H, torch.zeros(B, dtype=torch.long),
                           TaoOptions.from_dict(c["options"]))
    expect = lambda k: torch.tensor(ex[k], dtype=F64).reshape(B, T)  # noqa: E731
    assert torch.allclose(out.loss_mask, expect("loss_mask"), rtol=0, atol=0)
    assert torch.allclose(out.advantages, expect("token_advantage"), rtol=1e-9, atol=1e-9)


def clipped_token_mean(logp, old, adv, mask, low, high, c):
    """TAO-RL.md §5's clipped loss with per-token advantages (what verl's vanilla loss computes with
    loss_agg_mode token-mean and the mini-batch token count as denominator)."""
    r = torch.exp(torch.clamp(logp - old, -20, 20))
    L = torch.maximum(-adv * r, -adv * torch.clamp(r, 1 - low, 1 + high))
    L = torch.where(adv < 0, torch.minimum(L, -adv * c), L)
    return (L * mask).sum() / mask.sum()


@pytest.mark.parametrize("path", [p for p in _vectors_verl_can_take() if (lambda o: o["loss_agg"] == "token-mean"
                                  and o["entropy_coeff"] == 0 and o["kl_coef"] == 0)(json.load(open(p))["options"])],
                         ids=lambda p: os.path.basename(p)[:-5])
def test_bonus_folded_into_advantages_gives_taorls_loss(path):
    c = json.load(open(path))
    B, T = c["input"]["B"], c["input"]["T"]
    o = TaoOptions.from_dict(c["options"])
    uid, reward, mask, extra, H = _verl_layout(c)
    out = shape_advantages(uid, reward, mask, tool_fields(extra, T, F64), H, torch.zeros(B, dtype=torch.long), o)
    if not bool((out.loss_mask > 0).any()):
        pytest.skip("no loss token: the trainer skips such a step")
    old = torch.tensor(c["input"]["old_logp"], dtype=F64).reshape(B, T)
    logp = torch.tensor(c["input"]["logp"], dtype=F64).reshape(B, T)
    pool = out.loss_mask > 0
    logp_v = torch.where(pool, logp, old).clone().requires_grad_(True)  # masked slots hold garbage in some vectors
    ours = clipped_token_mean(logp_v, old, out.advantages, pool.to(F64), o.clip_ratio_low, o.clip_ratio_high, o.dual_clip)
    (w_ours,) = torch.autograd.grad(ours, [logp_v])
    f = filter_batch(dict(group=torch.tensor(c["input"]["group"]), reward=reward, response_mask=mask,
                          **{k: torch.tensor(c["input"][k], dtype=F64) for k in ("tool_calls", "valid_tool_calls", "void", "truncated")}), o)
    adv = compute_advantages(reward, f.stats, o.advantage, o.advantage_eps)
    logp_t = logp.clone().requires_grad_(True)
    theirs, _, _ = policy_loss(logp_t, old, H, adv, f.loss_mask, torch.tensor(c["input"]["post_tool_mask"], dtype=F64).reshape(B, T), o)
    (w_theirs,) = torch.autograd.grad(theirs, [logp_t])
    # verl divides by the token count, taorl by (count + loss_eps 1e-8): relative 1e-8 / tokens apart
    assert float(ours) == pytest.approx(float(theirs), rel=1e-7, abs=1e-12)
    assert torch.allclose(w_ours, w_theirs, rtol=1e-7, atol=1e-12)


# ---------------------------------------------------------------- the recipe and the config checks

def load_yaml(text):
    yaml = pytest.importorskip("yaml", reason="PyYAML reads the recipe (Debian: python3-yaml, a python3-torch dependency)")
    return yaml.safe_load(text)


def recipe():
    return load_yaml(RECIPE.read_text())


def test_recipe_is_the_papers_7b_setup():
    cfg = recipe()
    o = options_from_config(cfg)
    aro = cfg["actor_rollout_ref"]
    assert (o.batch_prompts, o.oversample, aro["actor"]["ppo_mini_batch_size"], aro["rollout"]["n"]) == (256, 2.0, 128, 16)
    assert (o.clip_ratio_low, o.clip_ratio_high, o.dual_clip, o.loss_agg) == (0.2, 0.28, 3.0, "token-mean")
    assert (aro["actor"]["optim"]["lr"], aro["rollout"]["temperature"], cfg["tao"]["max_turns"]) == (1e-6, 1.0, 5)
    assert aro["model"]["path"] == "Qwen/Qwen2.5-7B"
    assert (o.entropy_bonus_coef, o.bonus_scope, o.detach_entropy, o.post_tool_window, o.kl_coef) == (0.01, "post_tool", True, 0, 0.0)
    assert o == TaoOptions(batch_prompts=256, oversample=2.0)  # everything else is TAO-RL.md's default
    assert check_verl_config(cfg, o) == []


def test_config_check_names_what_is_wrong():
    cfg = recipe()
    cfg["trainer"]["use_legacy_worker_impl"] = "auto"
    cfg["actor_rollout_ref"]["actor"]["policy_loss"]["loss_mode"] = "gspo"
    cfg["actor_rollout_ref"]["actor"]["ppo_mini_batch_size"] = 100
    cfg["tao"].update(refill="regenerate", detach_entropy=False, tool_fail_strength=0.5)
    problems = "\n".join(check_verl_config(cfg, options_from_config(cfg)))
    for key in ("use_legacy_worker_impl=disable", "loss_mode=vanilla", "ppo_mini_batch_size", "tao.refill",
                "tao.detach_entropy", "tao.tool_fail_strength"):
        assert key in problems


def test_options_refuse_unknown_and_verl_owned_keys():
    with pytest.raises(ValueError, match="unknown key"):
        options_from_config(dict(tao=dict(entropy_bonus_cof=0.01)))
    with pytest.raises(ValueError, match="come from verl"):
        options_from_config(dict(tao=dict(clip_ratio_high=0.3)))
    o = options_from_config(dict(tao=dict(post_tool_window=2), data=dict(train_batch_size=4, gen_batch_size=12),
                                 actor_rollout_ref=dict(actor=dict(use_kl_loss=True, kl_loss_coef=0.01, kl_loss_type="mse"))))
    assert (o.post_tool_window, o.batch_prompts, o.oversample, o.kl_coef, o.kl_estimator) == (2, 4, 3.0, 0.01, "k2")


def _verl_generated_config():
    path = os.environ.get("TAORL_VERL_CONFIG")
    if not path and importlib.util.find_spec("verl") is not None:
        path = str(Path(importlib.util.find_spec("verl").origin).parent / "trainer" / "config" / "_generated_ppo_trainer.yaml")
    if not path or not os.path.exists(path):
        pytest.skip("verl is not installed (or set TAORL_VERL_CONFIG to its trainer/config/_generated_ppo_trainer.yaml)")
    return load_yaml(open(path).read())


def _keys(d, prefix=()):
    for k, v in d.items():
        if isinstance(v, dict) and v:
            yield from _keys(v, prefix + (k,))
        else:
            yield prefix + (k,)


def test_recipe_keys_exist_in_verls_config():
    verl = _verl_generated_config()
    ours = {k: v for k, v in recipe().items() if k not in ("hydra", "defaults", "tao")}
    missing = []
    for key in _keys(ours):
        if key == ("data", "gen_batch_size"):  # read by RayPPOTrainer._create_dataloader, see the recipe's header
            continue
        node = verl
        for part in key:
            if not isinstance(node, dict) or part not in node:
                missing.append(".".join(key))
                break
            node = node[part]
    assert missing == []

"""Batch refill (TAO-RL.md §2.5) and taorl's seeded randomness, ported from src/rl/refill.ts and src/rl/rng.ts.

Bit-for-bit the same choices as taorl's trainer for the same seed (gpu/tests/test_trainer_batch.py runs the
TypeScript next to this port): mulberry32 floats, Fisher-Yates permutations, SplitMix32-style seed mixing,
all in unsigned 32-bit arithmetic. Plain Python, no torch.

- more survivors than ``batch_prompts``: a uniform subset of ``batch_prompts`` groups, kept in survivor order;
- fewer: every survivor once, then copies drawn round-robin over a seeded order of survivors, each copy
  under a new group id (``next_group_id``, ``next_group_id + 1``, ...);
- none: skip the step.
``refill = "regenerate"`` (DAPO dynamic sampling) is the caller's loop; here it falls back to duplication
once ``round >= max_gen_rounds``, as in taorl.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

_M32 = 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    """Math.imul on uint32 bit patterns."""
    return (a * b) & _M32


def mix_seed(*parts: int) -> int:
    """mixSeed(...parts): one uint32 seed from integers (e.g. run seed, step, a salt)."""
    h = 0x9E3779B9
    for p in parts:
        p = int(p)
        h = _imul(h ^ (p & _M32), 0x85EBCA6B)
        h = _imul(h ^ (h >> 13), 0xC2B2AE35)
        h ^= h >> 16
        hi = (p // 4294967296) & _M32  # Math.floor(p / 2^32) | 0
        if hi != 0:
            h = _imul(h ^ hi, 0x27D4EB2F)
    return h & _M32


def seeded_random(seed: int) -> Callable[[], float]:
    """mulberry32: uniform floats in [0, 1) from a uint32 seed."""
    state = [int(seed) & _M32]

    def rand() -> float:
        state[0] = (state[0] + 0x6D2B79F5) & _M32
        t = state[0]
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & _M32
        return ((t ^ (t >> 14)) & _M32) / 4294967296

    return rand


def random_int(rand: Callable[[], float], n: int) -> int:
    return min(n - 1, int(rand() * n))


def permutation(rand: Callable[[], float], n: int) -> List[int]:
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = random_int(rand, i + 1)
        p[i], p[j] = p[j], p[i]
    return p


@dataclass
class RefillPlan:
    action: str  # exact | subsample | duplicate | regenerate | skip | keep
    source: List[int]  # source group id of each output group, in output order
    target: List[int]  # group id of each output group: the source id, or a fresh id for a copy
    duplicated: int
    need: int  # for "regenerate": how many more surviving groups are wanted


def plan_refill(survivors: Sequence[int], next_group_id: int, seed: int, batch_prompts: int,
                refill: str = "duplicate", max_gen_rounds: int = 3, round: int = 1) -> RefillPlan:
    """planRefill of src/rl/refill.ts. ``survivors``: surviving group ids in a stable order."""
    S, N = len(survivors), batch_prompts
    survivors = list(survivors)
    if S == 0 and not (refill == "regenerate" and round < max_gen_rounds):
        return RefillPlan("skip", [], [], 0, 0)
    if refill == "none":
        return RefillPlan("keep", survivors[:], survivors[:], 0, 0)
    if S == N:
        return RefillPlan("exact", survivors[:], survivors[:], 0, 0)
    rand = seeded_random(seed)
    if S > N:
        chosen = sorted(permutation(rand, S)[:N])
        source = [survivors[i] for i in chosen]
        return RefillPlan("subsample", source, source[:], 0, 0)
    if refill == "regenerate" and round < max_gen_rounds:
        return RefillPlan("regenerate", survivors[:], survivors[:], 0, N - S)
    order = permutation(rand, S)
    offset = random_int(rand, S)
    source = survivors[:] + [survivors[order[(i - S + offset) % S]] for i in range(S, N)]
    target = survivors[:] + [next_group_id + (i - S) for i in range(S, N)]
    return RefillPlan("duplicate", source, target, N - S, 0)


def refill_rows(group: Sequence[int], plan: RefillPlan) -> Tuple[List[int], List[int]]:
    """refillRows: for each output group its member rows (batch order), and each output row's group id."""
    members: Dict[int, List[int]] = {}
    for b, g in enumerate(group):
        members.setdefault(int(g), []).append(b)
    rows: List[int] = []
    ids: List[int] = []
    for src, tgt in zip(plan.source, plan.target):
        if src not in members:
            raise IndexError(f"refill: group {src} has no rows in the batch")
        rows += members[src]
        ids += [tgt] * len(members[src])
    return rows, ids

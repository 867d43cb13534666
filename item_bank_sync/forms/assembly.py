"""Blueprint form assembly: N parallel linear forms from a scheme and the approved pool.

Constraints, in order of strength:

1. **Blueprint, exactly**: each form holds exactly ``items`` approved items from each area.
2. **Enemies never together**: at most one item of each enemy group on a form.
3. **Exposure spread**: items are taken least-used first (ties broken by the seeded generator),
   so within an area every item's use differs by at most one when enemies allow; the report
   gives the largest overlap between any two forms and the highest exposure of any item.
4. **Difficulty balance** (when item statistics exist): swaps within an area move each form's
   mean p-value towards the pool's mean, never raising an item above its area's exposure cap
   and never breaking constraints 1-2. Items without statistics count as the pool mean.

Everything random comes from ``random.Random(seed)`` and every choice iterates sorted lists
(never sets of strings, whose order changes between runs), so a seed always yields the same forms.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from exam_core.errors import InvigilError
from item_bank_sync.forms.schemes import Scheme

MAX_FORM_ATTEMPTS = 200
BALANCE_PASSES = 50


@dataclass(frozen=True)
class PoolItem:
    item_id: str
    version: int
    area: str
    p: float | None = None


@dataclass
class AssembledForm:
    index: int
    items: list[PoolItem]
    mean_p: float | None = None


@dataclass
class AssemblyReport:
    forms: list[AssembledForm]
    max_overlap: int
    max_overlap_fraction: float
    max_exposure: int
    target_p: float | None
    mean_p_range: float | None
    pool_sizes: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"max_overlap": self.max_overlap, "max_overlap_fraction": round(self.max_overlap_fraction, 4),
                "max_exposure": self.max_exposure, "target_p": self.target_p, "mean_p_range": self.mean_p_range,
                "pool_sizes": self.pool_sizes}


class BlueprintUnsatisfiable(InvigilError):
    """The approved pool cannot fill the blueprint; ``shortfalls`` says which area lacks what."""

    def __init__(self, shortfalls: list[dict[str, Any]]) -> None:
        self.shortfalls = shortfalls
        lines = [f"area {s['area']}: needs {s['needed']}, {s['reason']}" for s in shortfalls]
        super().__init__("the bank cannot satisfy the blueprint: " + "; ".join(lines))


def assemble(scheme: Scheme, pool: list[PoolItem], count: int, seed: int) -> AssemblyReport:
    """Build ``count`` forms; raise BlueprintUnsatisfiable with per-area reasons when impossible."""
    if count < 1:
        raise InvigilError("--count must be at least 1")
    by_area = _pool_by_area(scheme, pool)
    enemies = _enemy_index(scheme)
    _check_feasible(scheme, by_area, enemies)
    rng = random.Random(seed)  # noqa: S311 - a reproducible build from its seed, not a secret
    usage: Counter[str] = Counter()
    forms = []
    for index in range(1, count + 1):
        chosen = _one_form(scheme, by_area, enemies, usage, rng)
        for item in chosen:
            usage[item.item_id] += 1
        forms.append(AssembledForm(index, chosen))
    target = _balance(scheme, forms, by_area, enemies, usage, count)
    for form in forms:
        form.items = _delivery_order(scheme, form.items, rng)
        form.mean_p = _mean_p(form.items, target) if target is not None else None
    return _report(forms, usage, target, {a: len(v) for a, v in sorted(by_area.items())})


def _pool_by_area(scheme: Scheme, pool: list[PoolItem]) -> dict[str, list[PoolItem]]:
    wanted = {a.area for a in scheme.blueprint}
    by_area: dict[str, list[PoolItem]] = {a.area: [] for a in scheme.blueprint}
    for item in sorted(pool, key=lambda i: (i.item_id, i.version)):
        if item.area in wanted:
            by_area[item.area].append(item)
    return by_area


def _enemy_index(scheme: Scheme) -> dict[str, tuple[int, ...]]:
    index: dict[str, list[int]] = defaultdict(list)
    for number, group in enumerate(scheme.enemy_groups):
        for item_id in group:
            index[item_id].append(number)
    return {k: tuple(v) for k, v in index.items()}


def _check_feasible(scheme: Scheme, by_area: dict[str, list[PoolItem]],
                    enemies: dict[str, tuple[int, ...]]) -> None:
    """Per-area upper bounds: approved count, and enemy groups counting once each."""
    shortfalls = []
    for area in scheme.blueprint:
        items = by_area[area.area]
        if len(items) < area.items:
            shortfalls.append({"area": area.area, "needed": area.items, "available": len(items),
                               "missing": area.items - len(items),
                               "reason": f"the bank has {len(items)} approved item(s) in it "
                                         f"({area.items - len(items)} short)"})
            continue
        free = sum(1 for i in items if i.item_id not in enemies)
        groups = sorted({g for i in items for g in enemies.get(i.item_id, ())})
        bound = free + len(groups)
        if bound < area.items:
            shortfalls.append({"area": area.area, "needed": area.items, "available": bound,
                               "missing": area.items - bound,
                               "reason": f"only {bound} of its {len(items)} approved items can share a form "
                                         f"(enemy groups {', '.join(str(g + 1) for g in groups)} allow one item each)"})
    if shortfalls:
        raise BlueprintUnsatisfiable(shortfalls)


def _area_order(scheme: Scheme, by_area: dict[str, list[PoolItem]]) -> list[tuple[str, int]]:
    """Tightest areas first, so enemy groups spanning areas are settled where choice is scarce."""
    return sorted(((a.area, a.items) for a in scheme.blueprint),
                  key=lambda pair: (len(by_area[pair[0]]) - pair[1], pair[0]))


def _least_used_first(pool: list[PoolItem], usage: Counter[str], rng: random.Random) -> list[PoolItem]:
    """The pool, least used first; ties in a random order (one draw per item, so the seed decides)."""
    tiebreak: dict[str, float] = {}
    return sorted(pool, key=lambda i: (usage[i.item_id], tiebreak.setdefault(i.item_id, rng.random())))


def _one_form(scheme: Scheme, by_area: dict[str, list[PoolItem]], enemies: dict[str, tuple[int, ...]],
              usage: Counter[str], rng: random.Random) -> list[PoolItem]:
    failed_area = ""
    for _ in range(MAX_FORM_ATTEMPTS):
        chosen: list[PoolItem] = []
        blocked: set[int] = set()
        for area, needed in _area_order(scheme, by_area):
            ranked = _least_used_first(by_area[area], usage, rng)
            taken = []
            for item in ranked:
                groups = enemies.get(item.item_id, ())
                if blocked.isdisjoint(groups):
                    taken.append(item)
                    blocked.update(groups)
                    if len(taken) == needed:
                        break
            if len(taken) < needed:
                failed_area = area
                break
            chosen.extend(taken)
        else:
            return chosen
    needed = next(a.items for a in scheme.blueprint if a.area == failed_area)
    raise BlueprintUnsatisfiable([{"area": failed_area, "needed": needed, "available": None, "missing": None,
                                   "reason": f"no way found in {MAX_FORM_ATTEMPTS} attempts to place them without "
                                             "putting enemy items together (enemy groups span several areas)"}])


def _mean_p(items: list[PoolItem], fallback: float) -> float:
    return round(sum(fallback if i.p is None else i.p for i in items) / len(items), 6)


def _balance(scheme: Scheme, forms: list[AssembledForm], by_area: dict[str, list[PoolItem]],
             enemies: dict[str, tuple[int, ...]], usage: Counter[str], count: int) -> float | None:
    """Swap items within areas to bring each form's mean p towards the pool mean; returns the target."""
    known = [i.p for items in by_area.values() for i in items if i.p is not None]
    if not known:
        return None
    target = sum(known) / len(known)
    value = {i.item_id: (target if i.p is None else i.p) for items in by_area.values() for i in items}
    caps = {a.area: max(1, math.ceil(count * a.items / len(by_area[a.area]))) for a in scheme.blueprint}
    sorted_pool = {area: sorted(items, key=lambda i: (value[i.item_id], i.item_id)) for area, items in by_area.items()}
    keys = {area: [value[i.item_id] for i in items] for area, items in sorted_pool.items()}
    for form in forms:
        for _ in range(BALANCE_PASSES):
            if not _improve(form, target, value, sorted_pool, keys, caps, enemies, usage):
                break
    for _ in range(BALANCE_PASSES * len(forms)):
        if not _exchange(forms, value, enemies):
            break
    return round(target, 6)


def _exchange(forms: list[AssembledForm], value: dict[str, float], enemies: dict[str, tuple[int, ...]]) -> bool:
    """Swap one same-area pair between the easiest and the hardest form (exposure unchanged)."""
    if len(forms) < 2:
        return False
    sums = [sum(value[i.item_id] for i in f.items) for f in forms]
    hi = max(range(len(forms)), key=lambda k: (sums[k], -k))
    lo = min(range(len(forms)), key=lambda k: (sums[k], k))
    diff = sums[hi] - sums[lo]
    if diff < 1e-9:
        return False
    high, low = forms[hi], forms[lo]
    on_high, on_low = {i.item_id for i in high.items}, {i.item_id for i in low.items}
    best: tuple[float, int, int] | None = None
    for a, x in enumerate(high.items):
        if x.item_id in on_low:
            continue
        for b, y in enumerate(low.items):
            if y.area != x.area or y.item_id in on_high or value[y.item_id] >= value[x.item_id]:
                continue
            remaining = abs(diff - 2 * (value[x.item_id] - value[y.item_id]))
            if remaining < diff - 1e-9 and (best is None or remaining < best[0]) \
                    and _fits(y, high.items, a, enemies) and _fits(x, low.items, b, enemies):
                best = (remaining, a, b)
    if best is None:
        return False
    _, a, b = best
    high.items[a], low.items[b] = low.items[b], high.items[a]
    return True


def _fits(item: PoolItem, items: list[PoolItem], replacing: int, enemies: dict[str, tuple[int, ...]]) -> bool:
    groups = enemies.get(item.item_id, ())
    if not groups:
        return True
    return not any(set(groups) & set(enemies.get(o.item_id, ())) for k, o in enumerate(items) if k != replacing)


def _improve(form: AssembledForm, target: float, value: dict[str, float], sorted_pool: dict[str, list[PoolItem]],
             keys: dict[str, list[float]], caps: dict[str, int], enemies: dict[str, tuple[int, ...]],
             usage: Counter[str]) -> bool:
    """Make the single best swap for this form; False when no swap improves its mean."""
    length = len(form.items)
    gap = target * length - sum(value[i.item_id] for i in form.items)
    if abs(gap) < 1e-9:
        return False
    on_form = {i.item_id for i in form.items}
    best: tuple[float, int, PoolItem] | None = None
    for position, out in enumerate(form.items):
        wanted = value[out.item_id] + gap
        others = {g for i in form.items if i is not out for g in enemies.get(i.item_id, ())}
        candidates = sorted_pool[out.area]
        at = bisect.bisect_left(keys[out.area], wanted)
        for idx in _outward(at, len(candidates), 6):
            cand = candidates[idx]
            if cand.item_id in on_form or usage[cand.item_id] >= caps[out.area]:
                continue
            if set(enemies.get(cand.item_id, ())) & others:
                continue
            remaining = abs(gap - (value[cand.item_id] - value[out.item_id]))
            if remaining < abs(gap) - 1e-9 and (best is None or remaining < best[0]):
                best = (remaining, position, cand)
    if best is None:
        return False
    _, position, cand = best
    usage[form.items[position].item_id] -= 1
    usage[cand.item_id] += 1
    form.items[position] = cand
    return True


def _outward(center: int, size: int, reach: int) -> list[int]:
    """Indices nearest ``center`` first, at most ``reach`` on each side."""
    out = []
    for step in range(reach):
        for idx in (center - 1 - step, center + step):
            if 0 <= idx < size:
                out.append(idx)
    return out


def _delivery_order(scheme: Scheme, items: list[PoolItem], rng: random.Random) -> list[PoolItem]:
    """Blueprint area order, seeded shuffle within each area."""
    ordered = []
    for area in scheme.blueprint:
        group = sorted((i for i in items if i.area == area.area), key=lambda i: i.item_id)
        rng.shuffle(group)
        ordered.extend(group)
    return ordered


def _report(forms: list[AssembledForm], usage: Counter[str], target: float | None,
            pool_sizes: dict[str, int]) -> AssemblyReport:
    sets = [{i.item_id for i in f.items} for f in forms]
    overlap = max((len(a & b) for a, b in combinations(sets, 2)), default=0)
    length = len(forms[0].items) if forms else 1
    means = [f.mean_p for f in forms if f.mean_p is not None]
    return AssemblyReport(forms, overlap, overlap / length, max(usage.values(), default=0), target,
                          round(max(means) - min(means), 6) if means else None, pool_sizes)

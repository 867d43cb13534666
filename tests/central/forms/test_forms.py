"""Schemes and blueprint form assembly: exact blueprint, enemies, exposure, difficulty, seeds."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from item_bank_sync.forms.assembly import BlueprintUnsatisfiable, PoolItem, assemble
from item_bank_sync.forms.schemes import BlueprintArea, Scheme, SchemeError, parse_scheme
from item_bank_sync.forms.store import record_item_stats
from item_bank_sync.items.synthetic import generate, scheme_yaml, write_package
from tests.support.central_db import central_db

SCHEME = """format: invigil-scheme/1
id: NET
version: 1
title: Network associate
eligibility: Six months of practice.
duration_minutes: 90
cut_score_percent: 65
accommodations_allowed: [extra_time_percent, large_text]
max_extra_time_percent: 25
blueprint:
  - {area: routing, items: 3, title: Routing}
  - {area: switching, items: 2}
enemy_groups:
  - [r1, r2]
instructions: <p>Answer <b>every</b> question.</p>
"""


def test_scheme_fields_and_errors() -> None:
    scheme = parse_scheme(SCHEME.encode(), "net.yaml")
    assert (scheme.form_length, scheme.duration_minutes, scheme.cut_score_percent) == (5, 90, 65.0)
    assert scheme.enemy_groups == (("r1", "r2"),)
    assert scheme.accommodations_allowed == ("extra_time_percent", "large_text")
    for change, message in [
        (("cut_score_percent: 65", "cut_score_percent: 165"), "cut_score_percent: must be a number from 0 to 100"),
        (("  - [r1, r2]", "  - [r1]"), "enemy_groups[0]: must list at least two"),
        (("[extra_time_percent, large_text]", "[teleport]"), "accommodations_allowed: 'teleport' is not one of"),
        (("  - {area: switching, items: 2}", "  - {area: routing, items: 2}"), "blueprint: names an area twice"),
        (("duration_minutes: 90\n", ""), "duration_minutes: is required"),
        (("title: Network associate", "title: x\nextra: 1"), "extra: is not a known field"),
    ]:
        with pytest.raises(SchemeError, match=message.replace("[", r"\[")):
            parse_scheme(SCHEME.replace(*change).encode(), "net.yaml")


def pool(areas: dict[str, int], with_p: bool = False, seed: int = 0) -> list[PoolItem]:
    rng = random.Random(seed)
    return [PoolItem(f"{area}-{n:03d}", 1, area, round(rng.uniform(0.2, 0.95), 3) if with_p else None)
            for area, size in areas.items() for n in range(size)]


def check_forms(scheme: Scheme, report, count: int) -> None:
    enemies = [set(g) for g in scheme.enemy_groups]
    for form in report.forms:
        ids = [i.item_id for i in form.items]
        assert len(ids) == len(set(ids)) == scheme.form_length
        per_area = Counter(i.area for i in form.items)
        assert per_area == {a.area: a.items for a in scheme.blueprint}
        for group in enemies:
            assert len(group & set(ids)) <= 1, f"enemies together on form {form.index}"
    assert len(report.forms) == count


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), count=st.integers(1, 8), sizes=st.lists(st.integers(3, 25), min_size=1, max_size=4),
       groups=st.integers(0, 6))
def test_blueprint_and_enemies_hold_for_any_seed(seed: int, count: int, sizes: list[int], groups: int) -> None:
    areas = {f"a{k}": size for k, size in enumerate(sizes)}
    items = pool(areas)
    rng = random.Random(seed)
    enemy_groups = tuple(tuple(sorted({i.item_id for i in rng.sample(items, min(len(items), 3))}))
                         for _ in range(groups))
    enemy_groups = tuple(g for g in enemy_groups if len(g) >= 2)
    blueprint = tuple(BlueprintArea(a, max(1, size // 3)) for a, size in areas.items())
    scheme = Scheme("S", 1, "t", "", 60, 70.0, blueprint, enemy_groups=enemy_groups)
    try:
        report = assemble(scheme, items, count, seed)
    except BlueprintUnsatisfiable as exc:  # only allowed when enemies really leave too few
        assert exc.shortfalls and all(s["area"] in areas for s in exc.shortfalls)
        return
    check_forms(scheme, report, count)
    again = assemble(scheme, items, count, seed)
    assert [[i.item_id for i in f.items] for f in again.forms] == [[i.item_id for i in f.items] for f in report.forms]
    # exposure: without enemies, least-used-first keeps every item's use within one of the others in its area
    if not enemy_groups:
        uses = Counter(i.item_id for f in report.forms for i in f.items)
        for area in areas:
            counts = [uses.get(i.item_id, 0) for i in items if i.area == area]
            assert max(counts) - min(counts) <= 1


def test_exposure_spread_and_overlap_report() -> None:
    scheme = Scheme("S", 1, "t", "", 60, 70.0, (BlueprintArea("a", 10), BlueprintArea("b", 10)))
    report = assemble(scheme, pool({"a": 40, "b": 40}), 4, seed=3)
    assert report.max_overlap == 0 and report.max_exposure == 1  # 4 x 10 = 40 items per area: all disjoint
    tight = assemble(scheme, pool({"a": 15, "b": 15}), 4, seed=3)
    sets = [{i.item_id for i in f.items} for f in tight.forms]
    assert tight.max_overlap == max(len(x & y) for n, x in enumerate(sets) for y in sets[n + 1:])
    assert tight.max_exposure == 3 and 0 < tight.max_overlap_fraction < 1


def test_difficulty_is_balanced_when_statistics_exist() -> None:
    scheme = Scheme("S", 1, "t", "", 60, 70.0, (BlueprintArea("a", 20), BlueprintArea("b", 20)))
    items = pool({"a": 100, "b": 100}, with_p=True, seed=9)
    report = assemble(scheme, items, 5, seed=1)
    check_forms(scheme, report, 5)
    means = [f.mean_p for f in report.forms]
    assert report.target_p is not None and max(means) - min(means) < 0.005
    p_of = {i.item_id: i.p for i in items}
    blind = assemble(scheme, [PoolItem(i.item_id, 1, i.area) for i in items], 5, seed=1)
    blind_means = [sum(p_of[i.item_id] for i in f.items) / 40 for f in blind.forms]
    assert blind.target_p is None and max(means) - min(means) < (max(blind_means) - min(blind_means)) / 5


def test_unsatisfiable_blueprint_is_explained() -> None:
    scheme = Scheme("S", 1, "t", "", 60, 70.0, (BlueprintArea("a", 5), BlueprintArea("b", 3), BlueprintArea("c", 2)),
                    enemy_groups=(("c-000", "c-001"),))
    with pytest.raises(BlueprintUnsatisfiable) as info:
        assemble(scheme, pool({"a": 2, "b": 7, "c": 2}), 2, 1)
    shortfalls = {s["area"]: s for s in info.value.shortfalls}
    assert set(shortfalls) == {"a", "c"}
    assert shortfalls["a"]["missing"] == 3 and "has 2 approved item(s) in it (3 short)" in str(info.value)
    assert shortfalls["c"]["available"] == 1 and "enemy groups 1 allow one item each" in str(info.value)


def test_forms_build_command(central, tmp_path: Path) -> None:
    items = generate(40, ["alg", "geo"], seed=2)
    write_package(tmp_path / "items.zip", items)
    central.json("import", tmp_path / "items.zip")
    (tmp_path / "scheme.yaml").write_text(scheme_yaml("MATH", ["alg", "geo"], 6, [["syn-00000", "syn-00002"]]))
    assert central.json("schemes", "add", tmp_path / "scheme.yaml")["outcome"] == "added"
    assert central.json("schemes", "add", tmp_path / "scheme.yaml")["outcome"] == "unchanged"
    short = central.run("forms", "build", "--scheme", "MATH", "--count", "2", "--seed", "5", "--json")
    assert short.exit_code == 1  # nothing approved yet
    assert {s["area"]: s["missing"] for s in short.data["shortfalls"]} == {"alg": 6, "geo": 6}
    central.approve_all()
    shown = central.json("schemes", "show", "MATH")
    assert [a["approved_items"] for a in shown["blueprint"]] == [20, 20]
    db = central_db(central.data_dir).bank
    for n, (item_id, _, _) in enumerate(items):
        record_item_stats(db, item_id, 1, p=0.3 + (n % 10) * 0.06, n=200, source="test")
    built = central.json("forms", "build", "--scheme", "MATH", "--count", "3", "--seed", "5")
    assert [f["outcome"] for f in built["forms"]] == ["created"] * 3 and built["max_exposure"] == 1
    assert built["mean_p_range"] < 0.01
    again = central.json("forms", "build", "--scheme", "MATH", "--count", "3", "--seed", "5")
    assert [f["outcome"] for f in again["forms"]] == ["unchanged"] * 3
    form = central.json("forms", "show", built["forms"][0]["form_id"])
    assert len(form["items"]) == 12 and form["duration_seconds"] == 3600
    assert not {"syn-00000", "syn-00002"} <= {i["item_id"] for i in form["items"]}
    central.json("items", "retire", form["items"][0]["item_id"], "--by", "carol")
    rebuilt = central.json("forms", "build", "--scheme", "MATH", "--count", "3", "--seed", "5")
    assert "new_version" in [f["outcome"] for f in rebuilt["forms"]]

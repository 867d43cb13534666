"""The central body's shape, checked from the source: a handful of top-level modules, subpackages
by concern that import only downwards, and no import circle.

Order (a module may import its own subpackage and anything to its left, never a sibling or to its
right)::

    {items, db} -> {mail, bank} -> context -> {trust, staff} -> {forms, results} -> registry -> sittings
    -> {sync, analysis, certificates} -> recertification -> release -> cases -> psychometrics -> public
    -> portal -> web -> cli

``item_bank_sync/__init__.py`` (the version) may be imported by anyone and ``__main__`` by no one.
Imports under ``if TYPE_CHECKING:`` never run and are not counted; imports inside functions are.
"""

from __future__ import annotations

import graphlib
from pathlib import Path

from tests.support.import_graph import package_graph

PACKAGE = Path(__file__).resolve().parents[2] / "item_bank_sync"
RANK = {"items": 0, "db": 0, "mail": 1, "bank": 1, "context": 2, "trust": 3, "staff": 3, "forms": 4, "results": 4,
        "registry": 4.5, "sittings": 4.6, "sync": 5, "analysis": 5, "certificates": 5, "recertification": 5.2,
        "release": 5.5, "cases": 5.7, "psychometrics": 6, "public": 7, "portal": 7.5, "web": 8, "cli": 9,
        "__main__": 10}


def _graph() -> dict[str, set[str]]:
    return package_graph(PACKAGE, with_root=True)


def _concern(module: str) -> str:
    return module.split(".")[0]


def _against_the_order(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    wrong = set()
    for module, deps in graph.items():
        for dep in deps:
            if dep == "" or _concern(dep) == _concern(module) or module == "":
                continue
            if RANK[_concern(dep)] >= RANK[_concern(module)]:
                wrong.add((module, dep))
    return wrong


def test_a_handful_of_top_level_modules_and_every_other_in_a_known_subpackage() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "context.py"]
    assert {_concern(m) for m in _graph() if m} <= set(RANK)


def test_every_import_goes_down_the_order() -> None:
    assert _against_the_order(_graph()) == set()


def test_no_import_circle() -> None:
    graphlib.TopologicalSorter(_graph()).prepare()  # raises CycleError naming the circle

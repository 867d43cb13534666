"""The console's shape, checked from the source: the core imports none of its faces, the faces do
not import each other, only the ``serve`` command imports the composition root, no module is
imported by (nearly) every other, there is no import circle, and each table of ``console.db`` has
one module that holds SQL on it.

Faces: ``web/``, ``link/``, ``sync/``, ``cli/`` (the CLI drives the sync runs, so it may import
``sync/``). Composition: ``app.py`` (the server), ``services.py`` (one service at a time for the
CLI and sync), ``context.py`` (the data directory they build from). Everything else is the core.
Imports under ``if TYPE_CHECKING:`` never run and are not counted; imports inside functions are.
"""

from __future__ import annotations

import graphlib
import re
from collections import Counter

from tests.support.import_graph import package_graph
from tests.support.tools import REPO_ROOT

PACKAGE = REPO_ROOT / "proctor_console"
FACES = ("web", "link", "sync", "cli")
COMPOSITION = ("app", "services", "context")


def _graph() -> dict[str, set[str]]:
    return package_graph(PACKAGE, with_root=False)


def _face(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in FACES else None


def test_the_core_imports_no_face_and_no_composition() -> None:
    graph = _graph()
    core = [m for m in graph if _face(m) is None and m not in COMPOSITION and m != "__main__"]
    assert len(core) > 20
    wrong = {m: sorted(d for d in graph[m] if _face(d) or d in COMPOSITION) for m in core}
    assert {m: d for m, d in wrong.items() if d} == {}


def test_faces_keep_to_themselves_and_only_serve_builds_the_server() -> None:
    graph = _graph()
    crossing = {m: sorted(d for d in deps if _face(d) not in (None, _face(m)) and not (_face(m) == "cli"
                                                                                      and _face(d) == "sync"))
                for m, deps in graph.items() if _face(m)}
    assert {m: d for m, d in crossing.items() if d} == {}
    assert sorted(m for m, deps in graph.items() if "app" in deps) == ["cli.serve"]


def test_no_module_is_imported_by_nearly_every_other() -> None:
    graph = _graph()
    counts = Counter(d for deps in graph.values() for d in deps)
    most, importers = counts.most_common(1)[0]
    assert importers < len(graph) // 2, (most, importers, len(graph))


def test_no_import_circle() -> None:
    graphlib.TopologicalSorter(_graph()).prepare()  # raises CycleError naming the circle


def test_each_table_has_one_owner() -> None:
    """Only one module reads or writes each table (``audit_log`` belongs to ``exam_core.audit``)."""
    schema = (PACKAGE / "schema.py").read_text()
    tables = set(re.findall(r"CREATE TABLE (\w+)", schema))
    assert len(tables) >= 15
    owners = {table: sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                            if path.name != "schema.py"
                            and re.search(rf"\b(FROM|INTO|UPDATE|JOIN) {table}\b", path.read_text()))
              for table in tables}
    assert {table: found for table, found in owners.items() if len(found) != 1} == {}

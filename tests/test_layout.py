"""The test tree's own rules, checked from the source (docs/MODULES.md, "Tests"):

- test modules share code only through ``tests/support/`` and a few data modules, never by importing
  another test module or a conftest (fixtures reach tests through pytest, helpers through imports);
- ``bench``, ``simulators``, ``demo`` and ``scripts`` import nothing of ``tests`` (an installed bench
  or demo has no tests to import);
- ``simulators`` import no tier but ``exam_core``, so a test that drives a tier with them exercises
  that tier's real interfaces;
- each tier has its test folder, and ``tests/kiosk/monitors`` mirrors ``kiosk/monitors``.

Imports inside functions count; imports under ``if TYPE_CHECKING:`` never run and do not.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.support.tools import REPO_ROOT

#: Modules of published or agreed data that several test modules read (not tests, not helpers).
DATA_MODULES = {"tests.central.psychometrics.fixtures", "tests.central.items.qti_corpus_table"}
TIERS = ("exam_core", "item_bank_sync", "proctor_console", "kiosk", "hardening")


def _modules(folder: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((REPO_ROOT / folder).rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import that can run, ``from X import y`` as ``X.y`` and ``X``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _where(path: Path, line: int, name: str) -> str:
    return f"{path.relative_to(REPO_ROOT)}:{line} imports {name}"


def test_test_modules_share_code_only_through_support_and_data_modules() -> None:
    known = dict(_modules("tests"))
    wrong = []
    for _source, path in known.items():
        for line, name in _imported(path):
            if name in known and not (name == "tests.support" or name.startswith("tests.support.")
                                      or name in DATA_MODULES or name == "tests"):
                wrong.append(_where(path, line, name))
    assert wrong == [], "move what they share into tests/support/:\n" + "\n".join(wrong)


def test_bench_simulators_demo_and_scripts_import_no_tests() -> None:
    wrong = [_where(path, line, name)
             for folder in ("bench", "simulators", "demo", "scripts")
             for _source, path in _modules(folder)
             for line, name in _imported(path) if name == "tests" or name.startswith("tests.")]
    assert wrong == []


def test_simulators_import_no_tier_but_exam_core() -> None:
    wrong = [_where(path, line, name)
             for _source, path in _modules("simulators")
             for line, name in _imported(path) if name.split(".")[0] in TIERS[1:]]
    assert wrong == []


def test_every_tier_has_its_test_folder() -> None:
    for folder in ("core", "central", "console", "kiosk", "kiosk/monitors", "hardening", "e2e", "faults",
                   "support"):
        assert (REPO_ROOT / "tests" / folder / "__init__.py").is_file(), folder
    assert not (REPO_ROOT / "tests" / "monitors").exists(), "monitor tests live in tests/kiosk/monitors"

"""Check the import rules of the tiers from the source, without importing anything.

Rules (README, "How it fits together"):

1. No tier imports another, except that ``kiosk`` may import ``hardening`` and every tier may
   import ``exam_core``; ``exam_core`` imports no tier.
2. No import circle between the modules of one tier. Function-level imports count (they are
   circles at run time, only deferred); imports under ``if TYPE_CHECKING:`` do not (they never run).

Run as ``python scripts/check_imports.py`` (``scripts/test`` runs it before pytest). Exit 0 when
every rule holds; otherwise each broken rule is printed with the files and lines, and exit 1.
"""

from __future__ import annotations

import ast
import graphlib
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIERS = ("exam_core", "item_bank_sync", "proctor_console", "kiosk", "hardening")
# What each tier may import besides itself.
ALLOWED = {
    "exam_core": set(),
    "item_bank_sync": {"exam_core"},
    "proctor_console": {"exam_core"},
    "kiosk": {"exam_core", "hardening"},
    "hardening": {"exam_core"},
}


@dataclass(frozen=True)
class Import:
    """One import statement that names a module of this repository."""

    source: str     # importing module, dotted
    target: str     # imported module, dotted (the deepest name that is a module)
    path: Path
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def known_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for tier in TIERS:
        for path in sorted((ROOT / tier).rglob("*.py")):
            found[module_name(path)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run, skipping ``if TYPE_CHECKING:`` bodies."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _absolute(node: ast.ImportFrom, source: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = source.split(".") if is_package else source.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The deepest prefix of ``name`` that is one of our modules."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(source: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[Import] = []
    for node in _runtime_imports(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = _absolute(node, source, path.name == "__init__.py")
            names = [f"{base}.{alias.name}" for alias in node.names] or [base]
        for name in names:
            target = _resolve(name, modules)
            if target is not None and target != source:
                out.append(Import(source, target, path, node.lineno))
    return out


def tier_of(module: str) -> str:
    return module.split(".", 1)[0]


def check_tiers(imports: list[Import]) -> list[str]:
    problems = []
    for imp in imports:
        src, dst = tier_of(imp.source), tier_of(imp.target)
        if src != dst and dst not in ALLOWED[src]:
            rel = imp.path.relative_to(ROOT)
            problems.append(f"{rel}:{imp.line}: tier {src} imports tier {dst} ({imp.target})")
    return problems


def check_circles(imports: list[Import]) -> list[str]:
    problems = []
    for tier in TIERS:
        graph: dict[str, set[str]] = {}
        where: dict[tuple[str, str], Import] = {}
        for imp in imports:
            if tier_of(imp.source) == tier == tier_of(imp.target):
                graph.setdefault(imp.source, set()).add(imp.target)
                where.setdefault((imp.source, imp.target), imp)
        while True:
            try:
                tuple(graphlib.TopologicalSorter(graph).static_order())
                break
            except graphlib.CycleError as err:
                cycle = err.args[1]
                steps = []
                for a, b in zip(cycle[1:], cycle[:-1]):
                    imp = where[(a, b)]
                    steps.append(f"{imp.path.relative_to(ROOT)}:{imp.line} {a} -> {b}")
                problems.append(f"import circle in {tier}:\n    " + "\n    ".join(steps))
                graph[cycle[1]].discard(cycle[0])  # break it and look for more
    return problems


def main() -> int:
    modules = known_modules()
    imports = [imp for name, path in modules.items() for imp in imports_of(name, path, modules)]
    problems = check_tiers(imports) + check_circles(imports)
    for problem in problems:
        print(problem)
    print(f"check_imports: {len(modules)} modules, {len(imports)} imports, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""The import graph of one package, read from its source: what each module imports of its siblings.

Shared by the layering tests of the central body and the console (tests/central/test_layers.py,
tests/console/test_layers.py). Imports under ``if TYPE_CHECKING:`` never run and are not counted;
imports inside functions are (they are circles at run time, only deferred). Module names are
relative to the package (``results.intake``); the package's own ``__init__`` is ``""``.
"""

from __future__ import annotations

import ast
from pathlib import Path


def module_name(package_dir: Path, path: Path) -> str:
    parts = path.relative_to(package_dir).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, package: str, known: set[str]) -> set[str]:
    """The modules of ``package`` (among ``known``) that the file at ``path`` imports."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == package:
            base = node.module.removeprefix(package).lstrip(".")
            found |= {f"{base}.{a.name}".lstrip(".") for a in node.names} | {base}
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix(f"{package}.") for a in node.names if a.name.startswith(f"{package}.")}
    return found & known


def package_graph(package_dir: Path, *, with_root: bool) -> dict[str, set[str]]:
    """Each module's imports of its sibling modules; ``with_root`` keeps the package's ``__init__``."""
    paths = {module_name(package_dir, p): p for p in package_dir.rglob("*.py")}
    if not with_root:
        paths.pop("", None)
    known = set(paths)
    return {name: imports_of(path, package_dir.name, known) - {name} for name, path in paths.items()}

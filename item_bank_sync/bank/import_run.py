"""One import run and the report a migrating body acts on.

A body moving its bank from another system imports thousands of items from several source folders
and needs to know, per folder, how many came in, how many were refused *and why* (grouped, so
"custom response processing: 212" is one line, not 212), and what was changed on the way in
(warnings). ``import --dry-run`` produces the same report without changing anything: no row, no
media file, no audit entry, so the body can fix its files first and import once.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

from item_bank_sync.bank.store import MAX_BATCH, ItemBank, StoredItem
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.importer import ImportOptions, iter_sources
from item_bank_sync.items.qti.reader import ParsedItem

_BRACKETS = re.compile(r"\[[^\]]*\]")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\b\d+(\.\d+)?\b")


def reason_group(reason: str) -> str:
    """A refusal or warning reason without its particulars, so equal problems count together.

    ``itemBody/p/sliderInteraction: this interaction ...`` and ``itemBody/sliderInteraction: ...``
    are one group (the element's own name, the problem with quoted values and numbers elided).
    """
    element, _, problem = reason.partition(": ")
    name = _BRACKETS.sub("", element.rsplit("/", 1)[-1]) or element
    problem = _NUMBER.sub("N", _QUOTED.sub("'…'", _BRACKETS.sub("[…]", problem)))
    return f"{name}: {problem}" if problem else name


def source_folder(source: str) -> str:
    """The folder an item file came from (``pkg.zip!items/q1.xml`` -> ``pkg.zip!items``)."""
    if "!" in source:
        package, _, member = source.partition("!")
        folder = posixpath.dirname(member)
        return f"{package}!{folder}" if folder else package
    return str(Path(source).parent)


@dataclass
class ImportReport:
    """Everything one import did (or, dry, would do)."""

    dry_run: bool = False
    imported: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def add_stored(self, parsed: ParsedItem, stored: StoredItem) -> None:
        if stored.outcome == "clash":
            self.rejected.append({"source": parsed.source, "reason": stored.reason, "item_id": stored.item_id})
            return
        self.imported.append({"source": parsed.source, "item_id": stored.item_id, "version": stored.version,
                              "interaction": stored.interaction, "outcome": stored.outcome,
                              "warnings": list(parsed.warnings)})

    def add_rejected(self, rejected: ItemRejected) -> None:
        self.rejected.append({"source": rejected.source, "reason": rejected.reason})

    def summary(self) -> dict[str, Any]:
        """Per source folder and in total: imported by outcome, refused by reason, warnings by kind."""
        folders: dict[str, dict[str, Any]] = {}

        def entry(source: str) -> dict[str, Any]:
            name = source_folder(source)
            return folders.setdefault(name, {"folder": name, "imported": 0, "outcomes": Counter(),
                                             "refused": 0, "refused_by_reason": Counter(),
                                             "warnings": 0, "warnings_by_kind": Counter()})
        for row in self.imported:
            e = entry(row["source"])
            e["imported"] += 1
            e["outcomes"][row["outcome"]] += 1
            e["warnings"] += len(row["warnings"])
            e["warnings_by_kind"].update(reason_group(w) for w in row["warnings"])
        for row in self.rejected:
            e = entry(row["source"])
            e["refused"] += 1
            e["refused_by_reason"][reason_group(row["reason"])] += 1
        rows = [_plain(folders[name]) for name in sorted(folders)]
        totals = {"imported": len(self.imported), "refused": len(self.rejected),
                  "warnings": sum(r["warnings"] for r in rows),
                  "outcomes": dict(sum((Counter(r["outcomes"]) for r in rows), Counter())),
                  "refused_by_reason": dict(sum((Counter(r["refused_by_reason"]) for r in rows), Counter()))}
        return {"folders": rows, "totals": totals}

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "imported": self.imported, "rejected": self.rejected,
                "summary": self.summary()}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """Counters as plain dicts, most frequent first."""
    return {k: dict(v.most_common()) if isinstance(v, Counter) else v for k, v in row.items()}


def run_import(bank: ItemBank, paths: list[Path], options: ImportOptions, actor: str, *,
               dry_run: bool = False, on_clash: str = "refuse",
               advance: Callable[[], None] = lambda: None) -> ImportReport:
    """Import (or plan, with ``dry_run``) every item under ``paths``; batches of :data:`MAX_BATCH`."""
    report = ImportReport(dry_run=dry_run)
    batch: list[ParsedItem] = []
    planned: dict[str, Any] = {}

    def flush() -> None:
        stored = bank.plan_batch(batch, planned, on_clash) if dry_run else bank.store_batch(batch, actor, on_clash)
        for parsed, result in zip(batch, stored):
            report.add_stored(parsed, result)
        batch.clear()

    for outcome in iter_sources(paths, options):
        advance()
        if isinstance(outcome, ItemRejected):
            report.add_rejected(outcome)
            continue
        batch.append(outcome)
        if len(batch) == MAX_BATCH:
            flush()
    if batch:
        flush()
    return report

"""Reading a scored 0/1 matrix from CSV (``analyze --matrix``), strictly and fast.

The format is the simplest a psychometrician can produce from any tool: a header
``candidate_id,ITEM1,ITEM2,...`` and one row per candidate whose cells are exactly ``0`` or ``1``.
Anything else is refused with the row (1-based line number) and column named, because a silently
skipped or coerced cell changes every statistic computed from it.

Parsing is vectorised: once every row is known to be ``id,`` followed by ``2k - 1`` bytes, the
cells are one ``frombuffer`` away, so 100,000 x 200 files parse in a fraction of a second. The slow
row-by-row path only runs to *name* the first bad cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exam_core.errors import TooLargeError, ValidationError
from exam_core.limits import MIB

MATRIX_MAX_BYTES = 1024 * MIB
MATRIX_MAX_CANDIDATES = 2_000_000
MATRIX_MAX_ITEMS = 5_000
ID_RE = re.compile(r"^[A-Za-z0-9_.\-:]{1,128}$")


@dataclass
class ScoreMatrix:
    candidate_ids: list[str]
    item_ids: list[str]
    scores: np.ndarray  # uint8, candidates x items


def read_matrix_csv(
    path: str | Path,
    *,
    max_bytes: int = MATRIX_MAX_BYTES,
    max_candidates: int = MATRIX_MAX_CANDIDATES,
    max_items: int = MATRIX_MAX_ITEMS,
) -> ScoreMatrix:
    """Read and validate a 0/1 matrix CSV; errors are ValidationError("FILE:line N, column C", reason)."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise TooLargeError(f"{size} bytes exceeds the limit of {max_bytes}", field=str(path))
    return parse_matrix_csv(path.read_bytes(), str(path), max_candidates=max_candidates, max_items=max_items)


def parse_matrix_csv(
    data: bytes, name: str = "<matrix>", *, max_candidates: int = MATRIX_MAX_CANDIDATES,
    max_items: int = MATRIX_MAX_ITEMS,
) -> ScoreMatrix:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        raise ValidationError(f"{name}: line 1", "the file is empty; expected a header candidate_id,ITEM,...")
    item_ids = _header(lines[0], name, max_items)
    rows = lines[1:]
    if not rows:
        raise ValidationError(f"{name}: line 2", "no candidate rows after the header")
    if len(rows) > max_candidates:
        raise TooLargeError(f"{len(rows)} candidates exceeds the limit of {max_candidates}", field=name)
    k = len(item_ids)
    ids, bodies = _split_ids(rows, name)
    width = 2 * k - 1
    lengths = np.fromiter((len(b) for b in bodies), dtype=np.int64, count=len(bodies))
    if np.all(lengths == width):
        cells = np.frombuffer(b",".join(bodies) + b",", dtype=np.uint8).reshape(len(rows), 2 * k)
        values = cells[:, 0::2]
        if np.all(cells[:, 1::2] == ord(",")) and np.all((values == ord("0")) | (values == ord("1"))):
            scores = values - np.uint8(ord("0"))
            _check_ids(ids, name)
            return ScoreMatrix(ids, item_ids, scores)
    _explain_bad_row(rows, item_ids, name)
    raise AssertionError("unreachable: a row failed the fast check but passed the slow one")


def _header(line: bytes, name: str, max_items: int) -> list[str]:
    try:
        header = line.decode("utf-8").split(",")
    except UnicodeDecodeError:
        raise ValidationError(f"{name}: line 1", "header is not UTF-8") from None
    if header[0].strip() != "candidate_id":
        raise ValidationError(f"{name}: line 1, column 1", f"must be 'candidate_id', got {header[0][:40]!r}")
    items = [h.strip() for h in header[1:]]
    if not items:
        raise ValidationError(f"{name}: line 1", "no item columns after candidate_id")
    if len(items) > max_items:
        raise TooLargeError(f"{len(items)} items exceeds the limit of {max_items}", field=name)
    seen: set[str] = set()
    for col, item in enumerate(items, start=2):
        if not ID_RE.match(item):
            raise ValidationError(f"{name}: line 1, column {col}", f"item id {item[:40]!r} is not a valid identifier")
        if item in seen:
            raise ValidationError(f"{name}: line 1, column {col}", f"item id {item!r} appears twice")
        seen.add(item)
    return items


def _split_ids(rows: list[bytes], name: str) -> tuple[list[str], list[bytes]]:
    ids: list[str] = []
    bodies: list[bytes] = []
    for line_no, row in enumerate(rows, start=2):
        cid, sep, body = row.partition(b",")
        if not sep:
            raise ValidationError(f"{name}: line {line_no}", "has no item cells" if row else "is empty")
        try:
            ids.append(cid.decode("ascii"))
        except UnicodeDecodeError:
            raise ValidationError(f"{name}: line {line_no}, column 1", "candidate id is not ASCII") from None
        bodies.append(body)
    return ids, bodies


def _check_ids(ids: list[str], name: str) -> None:
    first_line: dict[str, int] = {}
    for line_no, cid in enumerate(ids, start=2):
        if not ID_RE.match(cid):
            raise ValidationError(f"{name}: line {line_no}, column 1", f"candidate id {cid[:40]!r} is not valid")
        if cid in first_line:
            raise ValidationError(f"{name}: line {line_no}, column 1",
                                  f"duplicate candidate id {cid!r} (first on line {first_line[cid]})")
        first_line[cid] = line_no


def _explain_bad_row(rows: list[bytes], item_ids: list[str], name: str) -> None:
    """Find the first offending cell row by row and raise naming it."""
    k = len(item_ids)
    for line_no, row in enumerate(rows, start=2):
        cells = row.decode("utf-8", errors="replace").split(",")
        if len(cells) != k + 1:
            raise ValidationError(f"{name}: line {line_no}", f"has {len(cells) - 1} item cells, header has {k}")
        for col, cell in enumerate(cells[1:], start=2):
            if cell not in ("0", "1"):
                raise ValidationError(f"{name}: line {line_no}, column {col} ({item_ids[col - 2]})",
                                      f"must be 0 or 1, got {cell[:20]!r}")

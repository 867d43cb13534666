"""Form packages and the candidate roster, imported from files (CLI) or uploads (web UI).

A package is accepted only when its manifest signature verifies against the central body's key
(from the installed root certificate) and it is addressed to this centre; it is then copied under
``packages/`` and listed. The roster is a CSV with a header row; every row is validated and the
whole file is refused, naming line and field, if one row is bad.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from typing import Any

from exam_core import package as form_package
from exam_core.errors import InvigilError, ValidationError
from exam_core.files import write_atomic
from exam_core.model import IDENTIFIER_RE, Accommodations
from exam_core.store import immediate_transaction
from proctor_console.context import ConsoleContext, ConsoleError, now_text

ROSTER_COLUMNS = ("candidate_id", "name", "scheme", "seat", "accommodations")
ROSTER_MAX_BYTES = 5 * 1024 * 1024
ROSTER_MAX_ROWS = 20_000


def import_package(ctx: ConsoleContext, data: bytes, source: str, by: str) -> dict[str, Any]:
    root = ctx.root_public()
    if root is None:
        raise ConsoleError("install the centre certificate first (certificate install FILE): "
                           "packages are verified against the central body's key")
    try:
        package = form_package.read_form_package(data, root)
    except InvigilError as exc:
        raise ConsoleError(f"{source}: {exc}") from None
    manifest = package.manifest
    if manifest.centre_id != ctx.centre_id:
        raise ConsoleError(f"{source}: package is for centre {manifest.centre_id!r}, not {ctx.centre_id!r}")
    digest = hashlib.sha256(data).hexdigest()
    existing = ctx.db.execute("SELECT sha256 FROM packages WHERE package_id = ?", [manifest.package_id]).fetchone()
    if existing and existing[0] != digest:
        raise ConsoleError(f"{source}: a different package with id {manifest.package_id} is already imported")
    rel = f"packages/{manifest.package_id}.zip"
    write_atomic(ctx.data / rel, data)
    with immediate_transaction(ctx.db) as conn:
        conn.execute("INSERT OR IGNORE INTO packages (package_id, manifest, path, sha256, size, imported_at,"
                     " imported_by) VALUES (?,?,?,?,?,?,?)",
                     [manifest.package_id, json.dumps(manifest.to_dict()), rel, digest, len(data), now_text(), by])
    ctx.audit.append(by, "package.import", {"package_id": manifest.package_id, "sha256": digest})
    return {**manifest.to_dict(), "sha256": digest, "duplicate": existing is not None}


def list_packages(ctx: ConsoleContext) -> list[dict[str, Any]]:
    rows = ctx.db.execute("SELECT manifest, sha256, size, imported_at FROM packages ORDER BY package_id").fetchall()
    return [{**json.loads(m), "sha256": s, "size": n, "imported_at": t} for m, s, n, t in rows]


def load_package(ctx: ConsoleContext, package_id: str) -> tuple[form_package.FormPackage, dict[str, Any]]:
    row = ctx.db.execute("SELECT path, sha256, size FROM packages WHERE package_id = ?", [package_id]).fetchone()
    if row is None:
        raise ConsoleError(f"package {package_id} is not imported")
    data = (ctx.data / row[0]).read_bytes()
    if hashlib.sha256(data).hexdigest() != row[1]:
        raise ConsoleError(f"package {package_id}: stored file changed since import")
    root = ctx.root_public()
    if root is None:
        raise ConsoleError("no centre certificate installed")
    return form_package.read_form_package(data, root), {"sha256": row[1], "size": row[2]}


def parse_roster(data: bytes, source: str = "roster") -> list[dict[str, Any]]:
    """Validate a roster CSV: candidate_id, name, scheme, seat, accommodations (JSON or empty)."""
    if len(data) > ROSTER_MAX_BYTES:
        raise ConsoleError(f"{source}: larger than {ROSTER_MAX_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConsoleError(f"{source}: not UTF-8 (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    if set(header) - set(ROSTER_COLUMNS) or set(ROSTER_COLUMNS[:4]) - set(header):
        raise ConsoleError(f"{source}: header must be {', '.join(ROSTER_COLUMNS)} (accommodations optional), "
                           f"got {', '.join(header)}")
    rows, seen = [], set()
    for line, raw in enumerate(reader, start=2):
        if line - 1 > ROSTER_MAX_ROWS:
            raise ConsoleError(f"{source}: more than {ROSTER_MAX_ROWS} rows")
        try:
            rows.append(_roster_row(raw))
        except ValidationError as exc:
            raise ConsoleError(f"{source}: line {line}: {exc.field}: {exc.reason}") from None
        if rows[-1]["candidate_id"] in seen:
            raise ConsoleError(f"{source}: line {line}: candidate_id: {rows[-1]['candidate_id']} appears twice")
        seen.add(rows[-1]["candidate_id"])
    return rows


def _roster_row(raw: dict[str, Any]) -> dict[str, Any]:
    if None in raw:
        raise ValidationError("<row>", "has more fields than the header")
    values = {k: (raw.get(k) or "").strip() for k in ROSTER_COLUMNS}
    if not IDENTIFIER_RE.match(values["candidate_id"]):
        raise ValidationError("candidate_id", "must be an identifier (letters, digits, _ . -)")
    if not values["name"] or len(values["name"]) > 300:
        raise ValidationError("name", "is required (at most 300 characters)")
    if not IDENTIFIER_RE.match(values["scheme"]):
        raise ValidationError("scheme", "must be an identifier")
    if len(values["seat"]) > 50:
        raise ValidationError("seat", "is longer than 50 characters")
    accommodations = Accommodations()
    if values["accommodations"]:
        try:
            accommodations = Accommodations.from_dict(json.loads(values["accommodations"]), "accommodations")
        except json.JSONDecodeError:
            raise ValidationError("accommodations", "must be a JSON object, e.g. {\"extra_time_percent\": 25}") from None
    return {"candidate_id": values["candidate_id"], "name": values["name"], "scheme_id": values["scheme"],
            "seat": values["seat"], "accommodations": accommodations}


def import_roster(ctx: ConsoleContext, data: bytes, source: str, by: str) -> int:
    rows = parse_roster(data, source)
    now = now_text()
    with immediate_transaction(ctx.db) as conn:
        for row in rows:
            conn.execute("INSERT OR REPLACE INTO candidates (candidate_id, name, scheme_id, seat, accommodations,"
                         " imported_at) VALUES (?,?,?,?,?,?)",
                         [row["candidate_id"], row["name"], row["scheme_id"], row["seat"],
                          json.dumps(row["accommodations"].to_dict()), now])
    ctx.audit.append(by, "roster.import", {"rows": len(rows), "source": os.path.basename(source)})
    return len(rows)

"""Records the console keeps for the central body: sealed envelopes, reports, retention.

Envelopes are stored (synchronous=FULL) before the kiosk's ack and kept until the central body's
signed receipt arrives (``sync_envelopes.ConsoleEnvelopeStore.settle``); only the outer header is
checked here (the console cannot and must not open the sealed payload).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from exam_core import envelope, protocol
from exam_core.errors import InvigilError, ValidationError
from exam_core.jsonio import b64d
from exam_core.store import immediate_transaction
from proctor_console.context import ConsoleContext, now_text

DEFAULT_RETENTION_DAYS = 30


def verify_envelope_header(ctx: ConsoleContext, kiosk_public: Any, kiosk_id: str, attempt_id: str,
                           data: bytes) -> dict[str, Any]:
    """Check the kiosk-signed outer header without opening the envelope (the console cannot).

    The header must be signed by this kiosk's certified key, name this centre, kiosk and attempt,
    and match the ciphertext; with the root certificate installed the enclosed chain is verified
    too, so the central body will accept it.
    """
    header = envelope.read_envelope_header(data, kiosk_public=kiosk_public, root_public=ctx.root_public())
    for name, expected in (("kiosk_id", kiosk_id), ("attempt_id", attempt_id), ("centre_id", ctx.centre_id)):
        if getattr(header, name) != expected:
            raise ValidationError(f"envelope.header.{name}", f"is {getattr(header, name)!r}, expected {expected!r}")
    return header.to_dict()


class Records:
    def __init__(self, ctx: ConsoleContext, registry: Any) -> None:
        self.ctx = ctx
        self.registry = registry

    def store_envelope(self, kiosk_id: str, message: protocol.EnvelopeMessage) -> bool:
        data = b64d(message.envelope)
        attempt = self.ctx.db.execute("SELECT kiosk_id FROM attempts WHERE attempt_id = ?",
                                      [message.attempt_id]).fetchone()
        if attempt is None or attempt[0] != kiosk_id:
            raise ValidationError("attempt_id", "is not an attempt of this kiosk")
        header = verify_envelope_header(self.ctx, self.registry.active(kiosk_id).signing_public, kiosk_id,
                                        message.attempt_id, data)
        with immediate_transaction(self.ctx.db) as conn:
            cur = conn.execute("INSERT OR IGNORE INTO envelopes (sha256, kiosk_id, attempt_id, body, header, received)"
                               " VALUES (?,?,?,?,?,?)", [message.sha256, kiosk_id, message.attempt_id, data,
                                                         json.dumps(header, sort_keys=True, default=str), now_text()])
            if cur.rowcount:
                conn.execute("UPDATE attempts SET state = 'submitted' WHERE attempt_id = ? AND state != 'ended'",
                             [message.attempt_id])
        if cur.rowcount:
            self.ctx.audit.append(f"kiosk:{kiosk_id}", "envelope.stored", {"attempt_id": message.attempt_id,
                                                                           "sha256": message.sha256})
        return cur.rowcount == 0


def retention_days(ctx: ConsoleContext) -> int:
    return int(ctx.setting("retention_days", str(DEFAULT_RETENTION_DAYS)))


def purge_media(ctx: ConsoleContext, days: int | None = None, now: float | None = None) -> dict[str, int]:
    """Delete thumbnails and evidence snapshots older than the retention period."""
    keep_days = retention_days(ctx) if days is None else days
    cutoff = (now or time.time()) - keep_days * 86_400
    removed = {"thumbnails": 0, "snapshots": 0}
    for kind in removed:
        folder: Path = ctx.media_dir / kind
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed[kind] += 1
    if removed["snapshots"]:
        existing = {p.name for p in (ctx.media_dir / "snapshots").iterdir()}
        with immediate_transaction(ctx.db) as conn:
            for (name,) in conn.execute("SELECT DISTINCT snapshot FROM alerts WHERE snapshot IS NOT NULL").fetchall():
                if name not in existing:
                    conn.execute("UPDATE alerts SET snapshot = NULL WHERE snapshot = ?", [name])
            for (name,) in conn.execute("SELECT snapshot FROM events WHERE snapshot IS NOT NULL").fetchall():
                if name not in existing:
                    conn.execute("UPDATE events SET snapshot = NULL WHERE snapshot = ?", [name])
    ctx.audit.append("console", "retention.purge", {"days": keep_days, **removed})
    return removed

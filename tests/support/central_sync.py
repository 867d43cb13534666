"""A real sync hub and a real console for the central sync tests: the API on its production server
(waitress, TLS through its in-process front) on 127.0.0.1, and helpers that act as the console does.
Fixtures that build them are in tests/central/sync/conftest.py.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.sync.api import create_app
from item_bank_sync.sync.server import SyncServer, tls_context
from proctor_console.context import ConsoleContext
from proctor_console.sync.client import HubClient
from tests.support.central_world import KIOSK_ID

#: Answers the sync tests seal (q3 a short essay for human marking).
GOOD = {"q1": "A", "q2": ["A", "C"], "q3": "essay"}


class Hub:
    """The real app on the production server (waitress; TLS through its in-process front) on 127.0.0.1."""

    def __init__(self, data_dir: Path, tls: bool) -> None:
        context, self.fingerprint = tls_context(data_dir) if tls else (None, None)
        self.server = SyncServer(create_app(data_dir), "127.0.0.1", 0, context)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


def client_for(console: ConsoleContext, hub: Hub, **over: Any) -> HubClient:
    """The console's sync client for ``hub``, with the console's key and pin unless overridden."""
    return HubClient(hub.url, console.centre_id, over.pop("key", console.signing_key), console.root_public(),
                     tls_fingerprint=over.pop("fingerprint", hub.fingerprint), **over)


def put_envelope(console: ConsoleContext, data: bytes, attempt_id: str) -> str:
    """Store an envelope the way the console does on receipt from a kiosk (its envelopes table)."""
    digest = hashlib.sha256(data).hexdigest()
    console.db.table("envelopes").insert({"sha256": digest, "kiosk_id": KIOSK_ID, "attempt_id": attempt_id,
                                          "body": data, "header": "{}", "received": format_time(utc_now())})
    return digest


def body_of(console: ConsoleContext, digest: str) -> bytes:
    """The envelope bytes the console holds under ``digest``."""
    return bytes(console.db.execute("SELECT body FROM envelopes WHERE sha256 = ?", [digest]).fetchone()[0])

"""The sync API's serving limits, one place for the single-process server and every worker.

Why a module of its own: ``server`` starts the workers and the workers serve with these same
waitress settings; kept in either module they would import each other.
"""

from __future__ import annotations

from typing import Any

from exam_core import limits
from exam_core.sync_wire import UPLOAD_MAX_BYTES
from item_bank_sync.sync.tls_front import FrontLimits

#: Request line and headers (the signed-request headers are a few hundred bytes).
HEADER_MAX_BYTES = 16 * limits.KIB
#: Worker threads (intake is CPU and fsync bound), open connections, and seconds a connection may idle.
SERVER_THREADS = 8
CONNECTION_LIMIT = 32
IDLE_SECONDS = 60
#: waitress's settings for the API (see :class:`SyncServer` for why each).
ADJUSTMENTS: dict[str, Any] = {
    "threads": SERVER_THREADS, "connection_limit": CONNECTION_LIMIT, "channel_timeout": IDLE_SECONDS,
    "max_request_body_size": UPLOAD_MAX_BYTES, "max_request_header_size": HEADER_MAX_BYTES,
    "inbuf_overflow": UPLOAD_MAX_BYTES + HEADER_MAX_BYTES, "ident": "", "expose_tracebacks": False,
    "clear_untrusted_proxy_headers": True}
#: The front's limits: as many connections as waitress takes, heads it buffers twice waitress's
#: limit (waitress answers a long head with 431 itself), the deadlines and per-address cap of
#: :mod:`item_bank_sync.sync.tls_front`.
FRONT_LIMITS = FrontLimits(max_connections=CONNECTION_LIMIT, head_max_bytes=2 * HEADER_MAX_BYTES,
                           body_max_bytes=UPLOAD_MAX_BYTES)

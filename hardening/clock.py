"""Clock offset of this kiosk against its console, measured over HTTP.

Exam timing never relies on the wall clock (the kiosk keeps a monotonic elapsed-time account),
but signed events, receipts and certificate validity do, so a kiosk whose clock is far off is
flagged before an exam. The console's ``/time`` endpoint is preferred when it answers JSON with a
``unix`` (or ``time``) field in seconds; otherwise the HTTP ``Date`` header is used, which only
has one-second resolution, and the evidence says so.
"""

from __future__ import annotations

import email.utils
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass

from hardening.errors import HardeningError

RESPONSE_MAX_BYTES = 4096


@dataclass(frozen=True)
class ClockSample:
    url: str
    offset_seconds: float  # console clock minus local clock, at the midpoint of the request
    rtt_seconds: float
    source: str  # "json" or "date-header"
    resolution_seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


class ClockError(HardeningError):
    """The console could not be asked for its time (unreachable, no usable answer)."""


def _server_time(body: bytes, content_type: str, date_header: str | None) -> tuple[float, str, float]:
    if "json" in content_type:
        try:
            doc = json.loads(body.decode("utf-8"))
            value = doc.get("unix", doc.get("time")) if isinstance(doc, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value), "json", 0.001
        except (UnicodeDecodeError, json.JSONDecodeError):
            pass
    if date_header:
        parsed = email.utils.parsedate_to_datetime(date_header)
        if parsed is not None:
            return parsed.timestamp(), "date-header", 1.0
    raise ClockError("answer has neither a JSON time field nor a Date header")


def measure_offset(url: str, timeout: float = 5.0, cafile: str | None = None,
                   context: ssl.SSLContext | None = None) -> ClockSample:
    """Ask ``url`` for its time once and compute the offset at the request's midpoint.

    For https, ``context`` (e.g. the kiosk's pinned-console context) wins over ``cafile``.
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ClockError(f"{url}: only http and https console URLs are supported")
    if url.startswith("https") and context is None:
        context = ssl.create_default_context(cafile=cafile)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - checked above
    wall_start, mono_start = time.time(), time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310 - as above
            body = response.read(RESPONSE_MAX_BYTES)
            content_type = response.headers.get("Content-Type", "")
            date_header = response.headers.get("Date")
    except urllib.error.HTTPError as exc:  # a 404 still carries a usable Date header
        body, content_type, date_header = b"", "", exc.headers.get("Date")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ClockError(f"{url}: {getattr(exc, 'reason', exc)}") from None
    rtt = time.monotonic() - mono_start
    server, source, resolution = _server_time(body, content_type, date_header)
    midpoint = wall_start + rtt / 2
    if source == "date-header":
        server += 0.5  # the header truncates to whole seconds: its true value is 0-1 s later
    return ClockSample(url, server - midpoint, rtt, source, resolution)

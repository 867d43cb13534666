"""The upload body a centre sends to ``POST /v1/envelopes``, as validated at the boundary.

The same body is the content of an air-gap bundle from a centre (:mod:`item_bank_sync.sync.bundle`),
so both paths read it here, strictly and bounded: at most ``BATCH_MAX_ENVELOPES`` envelopes of at
most ``limits.ENVELOPE_MAX_BYTES`` each, in a body of at most ``BATCH_MAX_BYTES``, each with the
console's metadata (:class:`~item_bank_sync.results.intake.EnvelopeMeta`), plus the centre-signed
kiosk revocations it forwards.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from exam_core import limits
from exam_core.errors import MalformedError, TooLargeError
from exam_core.jsonio import loads_strict
from item_bank_sync.results.intake import EnvelopeMeta
from item_bank_sync.trust import kiosk_revocations

#: An upload batch as received: several envelopes in base64, below the envelope limit each.
BATCH_MAX_BYTES = 64 * limits.MIB
BATCH_MAX_ENVELOPES = 500


@dataclass(frozen=True)
class Upload:
    """An upload body (or a bundle's content) as validated at the boundary."""

    envelopes: list[tuple[bytes, EnvelopeMeta]]
    kiosk_revocations: tuple[bytes, ...] = ()


def parse_upload(body: bytes) -> Upload:
    """``{"envelopes": [{"envelope": b64, "proctors", "incidents", "journal_heads"}, ...],
    "kiosk_revocations": [b64, ...]?}``, strictly: 1 to ``BATCH_MAX_ENVELOPES`` envelopes, or none
    when the body carries revocations."""
    doc = loads_strict(body, max_bytes=BATCH_MAX_BYTES)
    if not isinstance(doc, dict) or "envelopes" not in doc or set(doc) - {"envelopes", "kiosk_revocations"} \
            or not isinstance(doc["envelopes"], list):
        raise MalformedError("body must be {\"envelopes\": [...], \"kiosk_revocations\"?: [...]}")
    revocations = kiosk_revocations.parse_documents(doc.get("kiosk_revocations", []))
    if not (0 if revocations else 1) <= len(doc["envelopes"]) <= BATCH_MAX_ENVELOPES:
        raise TooLargeError(f"a batch holds 1 to {BATCH_MAX_ENVELOPES} envelopes (0 with kiosk revocations)")
    return Upload(_envelope_entries(doc["envelopes"]), revocations)


def _envelope_entries(entries: list[Any]) -> list[tuple[bytes, EnvelopeMeta]]:
    out = []
    for index, entry in enumerate(entries):
        where = f"envelopes[{index}]"
        if not isinstance(entry, dict) or "envelope" not in entry:
            raise MalformedError("must be an object with an envelope", where)
        try:
            data = base64.b64decode(entry["envelope"], validate=True)
        except (binascii.Error, TypeError):
            raise MalformedError("not base64", f"{where}.envelope") from None
        if len(data) > limits.ENVELOPE_MAX_BYTES:
            raise TooLargeError("envelope too large", where)
        out.append((data, EnvelopeMeta.from_dict({k: v for k, v in entry.items() if k != "envelope"}, where)))
    return out

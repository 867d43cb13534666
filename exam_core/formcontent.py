"""The plaintext inside a form package: the form as JSON plus its media, as an inner zip.

Members: ``form.json`` (canonical JSON of the caller's dict: the form and its items, never answer
keys) and ``media/<sha256 hex>`` for each media file, named by the SHA-256 of its bytes so items
can refer to ``media:<sha256>`` and the kiosk can check every file. This module is agnostic of
``exam_core.model``: dicts in, dicts out; the tiers validate the form with the model.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from exam_core import limits
from exam_core.errors import MalformedError, TamperedError, ValidationError
from exam_core.jsonio import canonical_dumps, loads_strict
from exam_core.safezip import ZipPolicy, read_members, write_canonical

FORM_JSON = "form.json"
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_POLICY = ZipPolicy(max_members=limits.FORM_CONTENT_MAX_MEMBERS,
                    max_member_bytes=limits.FORM_CONTENT_MAX_MEMBER_BYTES,
                    max_total_bytes=limits.FORM_CONTENT_MAX_TOTAL_BYTES,
                    required=frozenset({FORM_JSON}),
                    name_pattern=re.compile(r"form\.json|media/[0-9a-f]{64}"))


def encode(form: dict[str, Any], media: dict[str, bytes] | None = None) -> bytes:
    """The inner zip for ``form`` and ``media`` (keyed by the lower-case hex SHA-256 of each file)."""
    if not isinstance(form, dict):
        raise ValidationError("form", "must be a dict")
    form_json = canonical_dumps(form)
    if len(form_json) > limits.FORM_JSON_MAX_BYTES:
        raise ValidationError("form", f"JSON exceeds {limits.FORM_JSON_MAX_BYTES} bytes")
    members = [(FORM_JSON, form_json)]
    for digest, body in sorted((media or {}).items()):
        if not isinstance(digest, str) or not _SHA256_RE.fullmatch(digest):
            raise ValidationError(f"media[{digest!r}]", "key must be a lower-case hex SHA-256")
        if hashlib.sha256(body).hexdigest() != digest:
            raise ValidationError(f"media[{digest}]", "bytes do not match their SHA-256")
        members.append((f"media/{digest}", bytes(body)))
    if len(members) > limits.FORM_CONTENT_MAX_MEMBERS:
        raise ValidationError("media", f"more than {limits.FORM_CONTENT_MAX_MEMBERS - 1} files")
    return write_canonical(members)


def decode(data: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``(form dict, media by sha256)``; every limit applies and every media hash is checked."""
    members = read_members(data, _POLICY)
    form = loads_strict(members.pop(FORM_JSON), max_bytes=limits.FORM_JSON_MAX_BYTES)
    if not isinstance(form, dict):
        raise MalformedError("must hold a JSON object", FORM_JSON)
    media: dict[str, bytes] = {}
    for name, body in members.items():
        digest = name.removeprefix("media/")
        if hashlib.sha256(body).hexdigest() != digest:
            raise TamperedError(f"media file {digest} does not match its SHA-256")
        media[digest] = body
    return form, media

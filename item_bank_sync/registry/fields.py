"""Input checks at the registry's boundary, and record identifiers.

Every value a person or a page sends is checked here before it reaches a table: lengths, shapes
(e-mail, ISO dates, identifiers), no control characters. A failure is a :class:`Refused` naming
the field, so a form can show it next to the field.
"""

from __future__ import annotations

import re
import secrets
from datetime import date

from exam_core.model import IDENTIFIER_RE
from item_bank_sync.registry.errors import Refused

EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def new_id(prefix: str) -> str:
    """A random identifier such as ``P-3f9a...`` (unguessable: the portal shows them in URLs)."""
    return f"{prefix}-{secrets.token_hex(8)}"


def text(value: object, name: str, max_len: int, *, required: bool = True) -> str:
    """A trimmed single- or multi-line text without control characters."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise Refused(f"{name}: must be text")
    value = value.strip()
    if required and not value:
        raise Refused(f"{name}: is required")
    if len(value) > max_len:
        raise Refused(f"{name}: at most {max_len} characters")
    if _CONTROL_RE.search(value):
        raise Refused(f"{name}: contains control characters")
    return value


def email(value: object) -> str:
    """An e-mail address, lower-cased (one person per address)."""
    address = text(value, "email", 254).lower()
    if not EMAIL_RE.match(address):
        raise Refused("email: not an e-mail address")
    return address


def iso_date(value: object, name: str) -> str:
    """A calendar date ``YYYY-MM-DD``."""
    raw = text(value, name, 10)
    try:
        return date.fromisoformat(raw).isoformat() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw) else _bad(name)
    except ValueError:
        return _bad(name)


def _bad(name: str) -> str:
    raise Refused(f"{name}: must be a date YYYY-MM-DD")


def identifier(value: object, name: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER_RE.match(value):
        raise Refused(f"{name}: must be an identifier (letters, digits, _ . -)")
    return value


def record_id(value: object, name: str, prefix: str) -> str:
    """An identifier this registry issued (``prefix-`` and 16 hex digits)."""
    if not isinstance(value, str) or not re.fullmatch(rf"{prefix}-[0-9a-f]{{16}}", value):
        raise Refused(f"{name}: not a {prefix}- identifier")
    return value

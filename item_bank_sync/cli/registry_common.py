"""What the registry's commands share: who acts (``--by``, ``--role``, ``--as-person``) and JSON in and out.

The CLI is run by whoever holds the central body's data directory, so ``--role`` states the role
the operator acts in (recorded in the audit chain with ``--by``) and ``--as-person ID`` acts as a
candidate for their own record, exactly as the portal would; the service functions check both the
same way for every door.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from exam_core.errors import InvigilError
from item_bank_sync.cli.common import central, default_actor
from item_bank_sync.registry import actors
from item_bank_sync.registry.errors import Refused
from item_bank_sync.staff.accounts import StaffBook

ROLES = sorted(actors.STAFF_ROLES)
MAX_JSON_FILE = 1024 * 1024


def acting(default_role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add ``--by``, ``--role`` (default ``default_role``) and ``--as-person``; pass ``actor=Actor``."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, by: str, role: tuple[str, ...], as_person: str | None, **kwargs: Any) -> Any:
            try:
                actor = actors.candidate(as_person) if as_person else _staff_actor(by, role, default_role)
            except InvigilError as exc:
                raise click.BadParameter(str(exc), param_hint="--by") from None
            return fn(*args, actor=actor, **kwargs)

        wrapper = click.option("--as-person", metavar="PERSON_ID",
                               help="Act as that candidate for their own record (as the portal does).")(wrapper)
        wrapper = click.option("--role", multiple=True, type=click.Choice(ROLES),
                               help=f"Role acted in (repeatable; default {default_role}).")(wrapper)
        return click.option("--by", default=default_actor, show_default="current user",
                            help="Who acts (recorded in the audit chain).")(wrapper)

    return decorate


def _staff_actor(by: str, roles: tuple[str, ...], default_role: str) -> actors.Actor:
    """The acting staff member. Once the body has staff accounts the roles are the account's (a
    ``--role`` it does not hold is refused); before that, the roles ``--role`` states."""
    book = StaffBook(central(click.get_current_context()))
    if not book.any_accounts():
        return actors.staff(by, *(roles or (default_role,)))
    member = book.get(by)
    if member is None:
        raise click.BadParameter(f"{by}: no staff account of that name", param_hint="--by")
    missing = sorted(set(roles) - member.roles)
    if missing:
        raise click.BadParameter(f"{by} does not hold the role {missing[0]}", param_hint="--role")
    return actors.staff(member.name, *member.roles)


def read_json_file(path: Path | None, what: str) -> dict[str, Any]:
    """A JSON object from a file (``{}`` when none is given), size-limited."""
    if path is None:
        return {}
    data = path.read_bytes()
    if len(data) > MAX_JSON_FILE:
        raise Refused(f"{what}: larger than {MAX_JSON_FILE} bytes")
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused(f"{what}: not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise Refused(f"{what}: must be a JSON object")
    return value


def settings(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``name=value`` pairs as an accommodation profile (true/false, integers, else text)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r}: use name=value", param_hint="--set")
        value: Any = raw
        if raw in ("true", "false"):
            value = raw == "true"
        elif raw.lstrip("-").isdigit():
            value = int(raw)
        out[name.strip()] = value
    return out


def read_upload(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of an upload, so the service refuses an oversize file without reading it all."""
    with path.open("rb") as handle:
        return handle.read(limit + 1)

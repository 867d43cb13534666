"""Who acts on the registry: a staff member with roles, a candidate for their own person, or the body.

The staff application (issue 15) authenticates staff and builds an :class:`Actor` from the account's
roles; the candidate portal builds one with :func:`candidate` from the signed-in person; the CLI
builds one from ``--by`` and ``--role`` (whoever runs the CLI holds the data directory and its keys,
so the role there states intent for the audit chain rather than proving it). Every service function
checks the roles it needs with :func:`require` so a page cannot forget to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from item_bank_sync.registry.errors import Forbidden
from item_bank_sync.staff.roles import ROLES

REGISTRAR = "registrar"
ADMIN = "admin"
AUDITOR = "auditor"
#: The body's own processes (building a signed roster), never a person.
SYSTEM = "system"
CANDIDATE = "candidate"
#: The body's staff roles (item_bank_sync/staff/roles.py, the accounts' own list).
STAFF_ROLES = frozenset(ROLES)
#: Who may read personal data and evidence of any person (clause 7.3): never markers, writers...
READERS = frozenset({REGISTRAR, ADMIN, AUDITOR})
NAME_MAX = 100


@dataclass(frozen=True)
class Actor:
    """``name`` is what the audit chain records; ``person_id`` is set only for a candidate actor."""

    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    person_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not 0 < len(self.name.strip()) <= NAME_MAX:
            raise Forbidden(f"actor: a name of 1-{NAME_MAX} characters is required")

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    def is_person(self, person_id: str) -> bool:
        """True when this actor is the candidate ``person_id`` acting for themselves."""
        return self.person_id is not None and self.person_id == person_id


def staff(name: str, *roles: str) -> Actor:
    """A staff member; unknown role names are refused (a typo must not grant nothing silently)."""
    unknown = sorted(set(roles) - STAFF_ROLES - {SYSTEM})
    if unknown:
        raise Forbidden(f"role {unknown[0]!r} is not one of {', '.join(sorted(STAFF_ROLES))}")
    return Actor(name.strip(), frozenset(roles))


def candidate(person_id: str) -> Actor:
    """The candidate ``person_id`` acting for themselves (the portal's signed-in person)."""
    return Actor(f"person:{person_id}", frozenset({CANDIDATE}), person_id)


def body() -> Actor:
    """The body's own processes (roster building)."""
    return Actor("central-body", frozenset({SYSTEM}))


def require(actor: Actor, action: str, *roles: str, person_id: str | None = None) -> None:
    """Refuse unless ``actor`` holds one of ``roles`` or is the person ``person_id`` themselves."""
    if actor.has(*roles) or (person_id is not None and actor.is_person(person_id)):
        return
    raise Forbidden(f"{actor.name} may not {action}: needs the role {' or '.join(roles)}"
                    + (" or to be that person" if person_id is not None else ""))

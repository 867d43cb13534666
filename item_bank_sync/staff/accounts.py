"""Staff accounts and their roles: every change made here, from the CLI or a page alike.

Both faces call these functions with the acting person's name, so a change is the same audit entry
(same action name, same data, same actor) whichever face made it. Passwords never reach the audit
chain or any log; only that a password was set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, insert, select, update

from exam_core.errors import InvigilError, ValidationError
from exam_core.timestamps import utc_text
from exam_core.websec.passwords import hash_password
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, read, scalar, write
from item_bank_sync.staff.roles import ADMIN, ROLES
from item_bank_sync.staff.schema import staff_accounts, staff_recovery_codes, staff_roles, staff_sessions

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class StaffError(InvigilError):
    """A staff change refused (unknown person, last administrator, ...)."""


@dataclass(frozen=True)
class StaffMember:
    """A person of the body's staff as the pages and the CLI see them (never their secrets)."""

    name: str
    roles: frozenset[str]
    enabled: bool
    second_factor: bool
    created_at: str
    created_by: str

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "roles": sorted(self.roles), "enabled": self.enabled,
                "second_factor": self.second_factor, "created_at": self.created_at, "created_by": self.created_by}


def check_name(name: str) -> str:
    """A person's sign-in name: letters, digits and ``._@-``, up to 64 characters."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationError("name", "use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    return name


def check_roles(roles: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(roles)
    unknown = sorted(chosen - set(ROLES))
    if unknown:
        raise ValidationError("role", f"unknown role {unknown[0]!r}; use one of {', '.join(ROLES)}")
    return chosen


class StaffBook:
    """The staff accounts of one central body (bank store), with their audit entries."""

    def __init__(self, ctx: CentralContext) -> None:
        self.ctx = ctx
        self.engine: Engine = ctx.open_bank_db()

    # --- reading -------------------------------------------------------------------------------
    def any_accounts(self) -> bool:
        """True once the body has any staff account (from then on ``--by`` must name one)."""
        return scalar(self.engine, select(func.count()).select_from(staff_accounts)) > 0

    def get(self, name: str) -> StaffMember | None:
        row = fetch_one(self.engine, select(staff_accounts).where(staff_accounts.c.name == name))
        if row is None:
            return None
        roles = {r[0] for r in fetch_all(self.engine, select(staff_roles.c.role).where(staff_roles.c.name == name))}
        return _member(row, roles)

    def all(self) -> list[StaffMember]:
        rows = fetch_all(self.engine, select(staff_accounts).order_by(staff_accounts.c.name))
        roles: dict[str, set[str]] = {}
        for name, role in fetch_all(self.engine, select(staff_roles.c.name, staff_roles.c.role)):
            roles.setdefault(name, set()).add(role)
        return [_member(row, roles.get(row.name, set())) for row in rows]

    def require(self, name: str) -> StaffMember:
        member = self.get(name)
        if member is None:
            raise StaffError(f"no staff account named {name!r}")
        return member

    # --- changes -------------------------------------------------------------------------------
    def add(self, name: str, password: str, roles: Iterable[str], by: str) -> StaffMember:
        """A new enabled account holding ``roles`` (at least one)."""
        check_name(name)
        chosen = check_roles(roles)
        if not chosen:
            raise ValidationError("role", "give at least one role")
        digest, salt, params = hash_password(password)
        now = utc_text()
        with write(self.engine) as tx:
            if tx.execute(select(staff_accounts.c.name).where(staff_accounts.c.name == name)).first():
                raise StaffError(f"a staff account named {name!r} already exists")
            tx.execute(insert(staff_accounts).values(
                name=name, password_hash=digest, password_salt=salt, password_params=params, password_changed_at=now,
                enabled=1, created_at=now, created_by=by))
            for role in sorted(chosen):
                tx.execute(insert(staff_roles).values(name=name, role=role, granted_at=now, granted_by=by))
        self.ctx.audit_log().append(by, "staff.add", {"name": name, "roles": sorted(chosen)})
        return self.require(name)

    def disable(self, name: str, by: str) -> StaffMember:
        """Disable an account; its sessions end at once."""
        member = self.require(name)
        if member.enabled and ADMIN in member.roles:
            self._keep_an_admin(name)
        self._set_enabled(name, False)
        self.end_sessions(name, "disabled")
        self.ctx.audit_log().append(by, "staff.disable", {"name": name})
        return self.require(name)

    def enable(self, name: str, by: str) -> StaffMember:
        self.require(name)
        self._set_enabled(name, True)
        self.ctx.audit_log().append(by, "staff.enable", {"name": name})
        return self.require(name)

    def reset_password(self, name: str, password: str, by: str) -> StaffMember:
        """Set a new password (an administrator's reset); every session of the person ends."""
        self.require(name)
        self._store_password(name, password)
        self.end_sessions(name, "password reset")
        self.ctx.audit_log().append(by, "staff.reset_password", {"name": name})
        return self.require(name)

    def reset_second_factor(self, name: str, by: str) -> StaffMember:
        """Forget a person's TOTP secret and recovery codes (a lost phone, a key restored from
        elsewhere): they enrol again at their next sign-in; every session of theirs ends."""
        self.require(name)
        with write(self.engine) as tx:
            tx.execute(update(staff_accounts).where(staff_accounts.c.name == name).values(
                totp_sealed=None, totp_pending_sealed=None, totp_enrolled_at=None, totp_last_step=None))
            tx.execute(delete(staff_recovery_codes).where(staff_recovery_codes.c.name == name))
        self.end_sessions(name, "second factor reset")
        self.ctx.audit_log().append(by, "staff.reset_second_factor", {"name": name})
        return self.require(name)

    def change_own_password(self, name: str, password: str, keep_token_hash: str | None) -> None:
        """A person's own new password: their other sessions end, the one they used stays."""
        self._store_password(name, password)
        self.end_sessions(name, "password changed", keep=keep_token_hash)
        self.ctx.audit_log().append(name, "staff.change_password", {"name": name})

    def grant(self, name: str, role: str, by: str) -> StaffMember:
        check_roles([role])
        member = self.require(name)
        if role not in member.roles:
            with write(self.engine) as tx:
                tx.execute(insert(staff_roles).values(name=name, role=role, granted_at=utc_text(), granted_by=by))
        self.ctx.audit_log().append(by, "staff.grant", {"name": name, "role": role})
        return self.require(name)

    def revoke(self, name: str, role: str, by: str) -> StaffMember:
        check_roles([role])
        member = self.require(name)
        if role == ADMIN and member.enabled and ADMIN in member.roles:
            self._keep_an_admin(name)
        if len(member.roles - {role}) == 0 and role in member.roles:
            raise StaffError(f"{name} would hold no role; disable the account instead")
        with write(self.engine) as tx:
            tx.execute(delete(staff_roles).where(staff_roles.c.name == name, staff_roles.c.role == role))
        self.ctx.audit_log().append(by, "staff.revoke", {"name": name, "role": role})
        return self.require(name)

    def end_sessions(self, name: str, reason: str, keep: str | None = None) -> int:
        """End every open web session of ``name`` (but ``keep``); returns how many ended."""
        query = update(staff_sessions).where(staff_sessions.c.name == name, staff_sessions.c.ended_at.is_(None))
        if keep is not None:
            query = query.where(staff_sessions.c.token_hash != keep)
        with write(self.engine) as tx:
            return int(tx.execute(query.values(ended_at=utc_text(), end_reason=reason)).rowcount or 0)

    # --- internals -----------------------------------------------------------------------------
    def _store_password(self, name: str, password: str) -> None:
        digest, salt, params = hash_password(password)
        with write(self.engine) as tx:
            tx.execute(update(staff_accounts).where(staff_accounts.c.name == name).values(
                password_hash=digest, password_salt=salt, password_params=params, password_changed_at=utc_text()))

    def _set_enabled(self, name: str, enabled: bool) -> None:
        with write(self.engine) as tx:
            tx.execute(update(staff_accounts).where(staff_accounts.c.name == name).values(enabled=int(enabled)))

    def _keep_an_admin(self, name: str) -> None:
        """Refuse a change that would leave no enabled administrator (nobody could manage staff)."""
        with read(self.engine) as tx:
            others = tx.execute(select(func.count()).select_from(staff_roles.join(
                staff_accounts, staff_roles.c.name == staff_accounts.c.name)).where(
                staff_roles.c.role == ADMIN, staff_accounts.c.enabled == 1, staff_roles.c.name != name)).scalar()
        if not others:
            raise StaffError(f"{name} is the last enabled administrator; add another first")


def _member(row: object, roles: set[str]) -> StaffMember:
    return StaffMember(name=row.name, roles=frozenset(roles), enabled=bool(row.enabled),  # type: ignore[attr-defined]
                       second_factor=row.totp_sealed is not None,  # type: ignore[attr-defined]
                       created_at=row.created_at, created_by=row.created_by)  # type: ignore[attr-defined]

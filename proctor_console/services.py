"""The console's services over one data directory, built on demand: for the CLI, the sync runs,
the server's composition root, benchmarks and tests.

Each function builds one service from a ``ConsoleContext`` with exactly the collaborators that
service takes; nothing here holds on to what it built. Only the faces (``cli``, ``sync``) and the
composition root (``app``) import this module; the services themselves never do.
"""

from __future__ import annotations

from proctor_console.accounts import Accounts
from proctor_console.alerts import Alerts
from proctor_console.attempts import Attempts
from proctor_console.candidates import Candidates
from proctor_console.commands import CommandCenter
from proctor_console.conflicts import Conflicts
from proctor_console.context import ConsoleContext
from proctor_console.envelopes import Envelopes
from proctor_console.eventlog import EventLog
from proctor_console.incidents import Incidents
from proctor_console.logins import LoginBook
from proctor_console.packages import Packages
from proctor_console.readmissions import Readmissions
from proctor_console.registry import KioskRegistry
from proctor_console.report import Reports
from proctor_console.retention import Retention
from proctor_console.roster import Roster
from proctor_console.signed_roster import SignedRosters


def accounts(ctx: ConsoleContext) -> Accounts:
    return Accounts(ctx.db, ctx.audit, LoginBook(ctx.db))


def registry(ctx: ConsoleContext) -> KioskRegistry:
    return KioskRegistry(ctx.db, ctx.audit, ctx.centre, ctx.centre_certificate)


def packages(ctx: ConsoleContext) -> Packages:
    return Packages(ctx.db, ctx.audit, ctx.data, ctx.centre_id, ctx.root_public)


def roster(ctx: ConsoleContext) -> Roster:
    """The roster, checking imports against the accommodation policies of the packages held."""
    return Roster(ctx.db, ctx.audit, packages(ctx).accommodation_policies)


def signed_rosters(ctx: ConsoleContext) -> SignedRosters:
    """Session rosters signed by the central body, verified against the installed root certificate."""
    return SignedRosters(ctx.db, ctx.audit, roster(ctx), Attempts(ctx.db), ctx.centre_id, ctx.root_public,
                         ctx.time_zone)


def readmissions(ctx: ConsoleContext) -> Readmissions:
    return Readmissions(ctx.db, ctx.audit)


def candidates(ctx: ConsoleContext) -> Candidates:
    """What the centre knows about each candidate (roster view, admit list)."""
    return Candidates(roster(ctx), Attempts(ctx.db), packages(ctx), readmissions(ctx), signed_rosters(ctx).origins)


def alerts(ctx: ConsoleContext) -> Alerts:
    return Alerts(ctx.db, ctx.audit)


def events(ctx: ConsoleContext) -> EventLog:
    """The event log on the context's connection (the server writes through one of its own)."""
    return EventLog(ctx.db, ctx.media_dir / "snapshots")


def incidents(ctx: ConsoleContext) -> Incidents:
    return Incidents(ctx.db, ctx.audit)


def conflicts(ctx: ConsoleContext) -> Conflicts:
    return Conflicts(ctx.db, ctx.audit)


def envelopes(ctx: ConsoleContext) -> Envelopes:
    return Envelopes(ctx.db, ctx.audit, Attempts(ctx.db), ctx.centre_id, ctx.root_public)


def command_records(ctx: ConsoleContext) -> CommandCenter:
    """The command table without a kiosk connection: reads, and what it issues waits for the server."""
    return CommandCenter(ctx.db, ctx.audit, Attempts(ctx.db))


def retention(ctx: ConsoleContext) -> Retention:
    return Retention(ctx.db, ctx.audit, ctx.media_dir, alerts(ctx), events(ctx), signed_rosters(ctx).purge_photos)


def reports(ctx: ConsoleContext, commands: CommandCenter | None = None) -> Reports:
    """Session reports and timelines (``commands``: the server's own command centre, if any)."""
    return Reports(centre_id=ctx.centre_id, centre_name=ctx.centre_name, audit=ctx.audit, packages=packages(ctx),
                   roster=roster(ctx), attempts=Attempts(ctx.db), commands=commands or command_records(ctx),
                   alerts=alerts(ctx), incidents=incidents(ctx), envelopes=envelopes(ctx), events=events(ctx),
                   readmissions=readmissions(ctx), zone=ctx.time_zone)

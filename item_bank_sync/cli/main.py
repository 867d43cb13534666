"""Command-line interface of ``item_bank_sync`` (``python -m item_bank_sync``, ``invigil-central``).

The group owns the global ``--data DIR`` and ``--db URL`` options and puts a :class:`CentralContext` in ``ctx.obj``.
Each concern's commands live in their own module of this package (shared options, output and exit
codes in :mod:`item_bank_sync.cli.common`) and are registered below, in the order a certification
body meets them: set up, items, schemes and forms, centres, sync, results, analysis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from item_bank_sync import __version__
from item_bank_sync.cli.analysis import analyze_command
from item_bank_sync.cli.audit import audit_group
from item_bank_sync.cli.body import body_group
from item_bank_sync.cli.cases import cases_group, corrective_group, evidence_command
from item_bank_sync.cli.centres import centres_group
from item_bank_sync.cli.certificates import certificates_group
from item_bank_sync.cli.forms import export_command, forms_group, publish_command, schemes_group
from item_bank_sync.cli.init import init_command
from item_bank_sync.cli.items import import_command, items_group
from item_bank_sync.cli.release import release_group
from item_bank_sync.cli.releases import releases_group
from item_bank_sync.cli.applications import accommodations_group, applications_group
from item_bank_sync.cli.persons import conflicts_group, persons_group
from item_bank_sync.cli.sittings import bookings_group, sessions_group
from item_bank_sync.cli.results import decide_command, intake_group, integrity_command, marking_group, results_group
from item_bank_sync.cli.sync import export_bundle_command, import_bundle_command, serve_command
from item_bank_sync.cli.common import fail
from item_bank_sync.context import CentralContext, UninitialisedDataError
from item_bank_sync.cli.psychometrics import equate_command
from item_bank_sync.cli.recertification import recert_group
from item_bank_sync.cli.public import public_command
from item_bank_sync.cli.mail import mail_group
from item_bank_sync.cli.standard_setting import params_command, standard_setting_group
from item_bank_sync.cli.review import review_exam_command
from item_bank_sync.cli.db import backup_group, db_group, restore_command
from item_bank_sync.cli.staff import guard_actors, staff_group, web_command


class CentralGroup(click.Group):
    """The group of every central command: a command that would open the stores of a directory
    ``init`` did not make is refused with exit code 2, like a usage error, and nothing is created
    there (without ``--data`` the central body used to start an empty ``central-data`` and report
    "no envelopes" with success)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UninitialisedDataError as exc:
            fail(ctx, str(exc), code=2)


@click.group(cls=CentralGroup,
             help="Invigil central body: item bank, forms, publishing, sync API, intake, scoring, analysis.")
@click.version_option(__version__, prog_name="item_bank_sync")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("central-data"), show_default=True, envvar="INVIGIL_CENTRAL_DATA",
              help="Data directory of the central body (keys, bank.db, media, packages).")
@click.option("--db", "db_url", metavar="URL", envvar="INVIGIL_CENTRAL_DB",
              help="Database of the central body (postgresql+psycopg://user@host/db); default: the data "
                   "directory's SQLite files.")
@click.pass_context
def main(ctx: click.Context, data_dir: Path, db_url: str | None) -> None:
    ctx.obj = CentralContext(data_dir=data_dir, db_url=db_url, require_initialised=True)
    ctx.call_on_close(ctx.obj.close)


COMMANDS: tuple[click.Command, ...] = (
    init_command, body_group,                                           # keys, root certificate, settings
    import_command, items_group,                                        # items and document control
    schemes_group, forms_group, publish_command, export_command,        # schemes, forms, packages
    centres_group, releases_group,                                      # trust: centres, kiosk builds
    persons_group, applications_group, accommodations_group, conflicts_group,  # registry of people
    sessions_group, bookings_group,                                     # sittings and seats
    serve_command, export_bundle_command, import_bundle_command,        # sync: network and air gap
    intake_group, marking_group, decide_command, results_group,         # results
    release_group,                                                      # results release, score reports
    certificates_group, public_command,                                 # certificates, public site
    mail_group,                                                         # the outbox: send-pending, status
    recert_group,                                                       # recertification: CPD, renewal, reminders
    cases_group, corrective_group, evidence_command,                    # appeals, complaints, 10.2 evidence
    integrity_command, analyze_command, equate_command,                 # analysis and psychometrics
    params_command, standard_setting_group, review_exam_command,        # psychometric records, 9.3.5 review
    db_group, backup_group, restore_command,                            # the database: migrate, copy, backup
    audit_group,                                                        # the body's own audit chain
    staff_group, web_command,                                           # staff accounts and their web application
)
for command in COMMANDS:
    main.add_command(command)
guard_actors(main)  # once a body has staff accounts, every --by must name one holding the role (staff/duties.py)

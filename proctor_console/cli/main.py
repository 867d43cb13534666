"""The ``proctor_console`` command group and the registration of its commands (one module per area)."""

from __future__ import annotations

from pathlib import Path

import click

from proctor_console import __version__
from proctor_console.cli.allowlist import release_allowlist
from proctor_console.cli.audit import audit_group
from proctor_console.cli.common import DEFAULT_DATA
from proctor_console.cli.kiosks import kiosks, pair
from proctor_console.cli.packages import packages_group, roster_group
from proctor_console.cli.records import purge, report
from proctor_console.cli.serve import serve
from proctor_console.cli.setup import certificate, init
from proctor_console.cli.sync import export_bundle_command, import_bundle_command, sync_command
from proctor_console.cli.users import users


@click.group(help="Invigil test-centre proctor console: LAN server, dashboard, key release, records.")
@click.version_option(__version__, prog_name="proctor_console")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA,
              show_default=True, envvar="INVIGIL_CONSOLE_DATA", help="Console data directory.")
@click.pass_context
def main(click_ctx: click.Context, data: Path) -> None:
    click_ctx.obj = {"data": data}


for command in (init, certificate, users, serve, pair, kiosks, packages_group, roster_group, report, purge,
                sync_command, export_bundle_command, import_bundle_command, release_allowlist, audit_group):
    main.add_command(command)

"""Command-line interface of `item_bank_sync`: the central body's item bank, forms and publishing.

The group owns the global ``--data DIR`` option and puts a :class:`CentralContext` in ``ctx.obj``;
each concept's commands live in their own module and are registered below with one
``main.add_command`` line (issue-8 modules add theirs the same way).
"""

from __future__ import annotations

from pathlib import Path

import click

from item_bank_sync import __version__
from item_bank_sync.context import CentralContext


@click.group(help="Invigil central body: item bank, forms, publishing, sync API, intake, scoring, analysis.")
@click.version_option(__version__, prog_name="item_bank_sync")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("central-data"), show_default=True, envvar="INVIGIL_CENTRAL_DATA",
              help="Data directory of the central body (keys, bank.db, media, packages).")
@click.pass_context
def main(ctx: click.Context, data_dir: Path) -> None:
    ctx.obj = CentralContext(data_dir=data_dir)
    ctx.call_on_close(ctx.obj.close)


# --- item bank, schemes, forms, centres, publishing (issue 3) ---------------------------------
from item_bank_sync.cli_centres import centres_group, export_command, publish_command  # noqa: E402
from item_bank_sync.cli_forms import forms_group, schemes_group  # noqa: E402
from item_bank_sync.cli_init import init_command  # noqa: E402
from item_bank_sync.cli_items import import_command, items_group  # noqa: E402

main.add_command(init_command)
main.add_command(import_command)
main.add_command(items_group)
main.add_command(schemes_group)
main.add_command(forms_group)
main.add_command(centres_group)
main.add_command(publish_command)
main.add_command(export_command)

# --- sync, intake, scoring, analysis, marking, decisions (issue 8): one line each ------------
from item_bank_sync.cli_analysis import analyze_command  # noqa: E402  (issue 8: item analysis)
main.add_command(analyze_command)
from item_bank_sync.psychometrics.commands import equate_command  # noqa: E402  (issue 19: equating)
main.add_command(equate_command)
from item_bank_sync.cli_results import (decide_command, integrity_command, intake_group,  # noqa: E402
                                        marking_group, results_group)
from item_bank_sync.cli_sync import export_bundle_command, import_bundle_command, serve_command  # noqa: E402
main.add_command(serve_command)
main.add_command(export_bundle_command)
main.add_command(import_bundle_command)
main.add_command(intake_group)
main.add_command(marking_group)
main.add_command(decide_command)
main.add_command(results_group)
main.add_command(integrity_command)
from item_bank_sync.cli_releases import releases_group  # noqa: E402  (release attestation allow-list)
main.add_command(releases_group)

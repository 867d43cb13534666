"""``init``: create the central body's keys (signing, results, evidence), root certificate and bank database.

The evidence key (:mod:`item_bank_sync.trust.evidence_key`) is made with the others, never on
first use, so it is in the first backup of the keys and a missing one is refused rather than
replaced."""

from __future__ import annotations

import click

from exam_core import keys
from item_bank_sync.cli.common import central, emit, json_option, refusals_exit
from item_bank_sync.trust.identity import initialise


@click.command("init")
@click.option("--body-id", required=True, help="Identifier of the certification body (certificate subject).")
@click.option("--name", required=True, help="Display name of the certification body.")
@click.option("--suite", type=click.Choice(keys.SUITES), default=keys.DEFAULT_SUITE, show_default=True,
              help="HPKE suite of the results key.")
@click.option("--time-zone", "time_zone", metavar="ZONE",
              help="IANA time zone staff pages show times in (e.g. Europe/Paris; default UTC; "
                   "change it later with `body time-zone`).")
@json_option
@click.pass_context
@refusals_exit
def init_command(ctx: click.Context, body_id: str, name: str, suite: str, time_zone: str | None) -> None:
    """Create the central body's signing key, results key, evidence key, root certificate and bank.db."""
    summary = initialise(central(ctx), body_id, name, suite, time_zone)
    emit(ctx, summary, lambda c: c.print(
        f"initialised {name} ({body_id}) in {summary['data_dir']}, times in {summary['time_zone']}\n"
        f"  signing key {summary['signing_key_id']}\n  results key {summary['results_key_id']} ({suite})\n"
        f"  root certificate {summary['certificate']}\n  evidence key {summary['evidence_key']} "
        "(back it up with the other keys)", highlight=False))

"""Command-line interface of `item_bank_sync`."""

import click

from item_bank_sync import __version__


@click.group(help="""Invigil central body: item bank, forms, publishing, sync API, intake, scoring, analysis.""")
@click.version_option(__version__, prog_name="item_bank_sync")
def main() -> None:
    pass

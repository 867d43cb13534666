"""Command-line interface of `proctor_console`."""

import click

from proctor_console import __version__


@click.group(help="""Invigil test-centre proctor console: LAN server, dashboard, key release, records.""")
@click.version_option(__version__, prog_name="proctor_console")
def main() -> None:
    pass

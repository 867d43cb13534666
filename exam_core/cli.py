"""Command-line interface of `exam_core`."""

import click

from exam_core import __version__


@click.group(help="""Invigil shared core: data model, sealing, audit chain, durable store.""")
@click.version_option(__version__, prog_name="exam_core")
def main() -> None:
    pass

"""Command-line interface of `hardening`."""

import click

from hardening import __version__


@click.group(help="""Invigil kiosk hardening: preflight checks, lockdown, provisioning, attestation.""")
@click.version_option(__version__, prog_name="hardening")
def main() -> None:
    pass

"""Command-line interface of `kiosk`."""

import click

from kiosk import __version__


@click.group(help="""Invigil kiosk: offline exam delivery, candidate UI, monitors, console link.""")
@click.version_option(__version__, prog_name="kiosk")
def main() -> None:
    pass

from kiosk.cli_camera import camera_check  # noqa: E402  (monitors helper: issue 6)
main.add_command(camera_check)

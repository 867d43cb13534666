"""Command-line interface of `kiosk`: ``run`` (the kiosk), ``status`` (its state), ``pair``."""

import json
import sys

import click

from kiosk import __version__


@click.group(help="""Invigil kiosk: offline exam delivery, candidate UI, monitors, console link.""")
@click.version_option(__version__, prog_name="kiosk")
def main() -> None:
    pass


@main.command(help="""Run the kiosk: pair with the console once (one-time code shown on the console),
serve the candidate UI on 127.0.0.1, open it in the locked-down browser (unless --no-browser),
run the monitors and keep the link to the console. Stops on SIGTERM/SIGINT.""")
@click.option("--console", "console_url", metavar="URL", help="Console URL, e.g. https://console:8443 "
              "(needed to pair; afterwards the paired URL is used).")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False),
              help="Kiosk data directory (device keys, journal, outbox).")
@click.option("--no-browser", is_flag=True, help="Do not open the locked-down browser.")
@click.option("--camera", metavar="SPEC", default="none", show_default=True,
              help="Camera for the monitors: device:N, file:PATH, folder:PATH, synthetic[:SCRIPT], none.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the candidate UI on 127.0.0.1.")
@click.option("--pair-code", metavar="CODE", help="One-time pairing code (asked for when needed).")
@click.option("--central-cert", type=click.Path(dir_okay=False, exists=True),
              help="The central body's root certificate (installed once).")
@click.option("--kiosk-id", help="Kiosk id to create the device with (default: random).")
@click.option("--policy", type=click.Path(dir_okay=False, exists=True), help="Hardening policy file.")
@click.option("--monitors", "monitors_file", type=click.Path(dir_okay=False, exists=True),
              help="Monitor configuration (JSON).")
def run(console_url, data_dir, no_browser, camera, port, pair_code, central_cert, kiosk_id, policy,
        monitors_file) -> None:
    from kiosk.app import KioskOptions, run_kiosk
    options = KioskOptions(data_dir=data_dir, console_url=console_url, browser=not no_browser, camera=camera,
                           port=port, pair_code=pair_code, central_cert=central_cert, kiosk_id=kiosk_id,
                           policy=policy, monitors_file=monitors_file)
    sys.exit(run_kiosk(options, prompt=lambda: click.prompt("Pairing code shown on the console")))


@main.command(help="Print the kiosk's state: device, pairing, attempt, journal and outbox (no keys needed).")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(data_dir, as_json) -> None:
    from kiosk.app import kiosk_status
    info = kiosk_status(data_dir)
    if as_json:
        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    for key, value in info.items():
        click.echo(f"{key:>24}: {value}")


@main.command(help="Pair this kiosk with a console using the one-time code the console shows.")
@click.option("--console", "console_url", required=True, metavar="URL")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False))
@click.option("--code", prompt="Pairing code shown on the console", help="The one-time code.")
@click.option("--kiosk-id", help="Kiosk id to create the device with (default: random).")
@click.option("--json", "as_json", is_flag=True)
def pair(console_url, data_dir, code, kiosk_id, as_json) -> None:
    from kiosk.device import Device
    from kiosk.link import pair as do_pair
    device = Device.load_or_create(data_dir, kiosk_id)
    response = do_pair(device, console_url, code)
    result = {"kiosk_id": device.kiosk_id, "console_id": response.console_id, "centre_id": response.centre_id,
              "tls_fingerprint_sha256": response.tls_fingerprint_sha256}
    click.echo(json.dumps(result) if as_json else f"paired {device.kiosk_id} with console {response.console_id}")


from kiosk.cli_camera import camera_check  # noqa: E402  (monitors helper: issue 6)
main.add_command(camera_check)
from kiosk.monitors.cli import monitors  # noqa: E402  (validation of the monitoring rules)
main.add_command(monitors)

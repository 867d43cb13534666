"""``python -m kiosk monitors``: validate the webcam rules on a labelled set of photographs.

``validate --labelled DIR`` prints precision and recall per rule (with its version, the detector and
the thresholds) and the counts per lighting condition: the figures a certification body files to
show how its automated monitoring performs. ``export-labelled DIR`` writes the set composed from real
photographs that the tests and the benchmark use, in the same layout.
"""

from __future__ import annotations

import json
import sys

import click

from kiosk.monitors.config import WebcamThresholds
from kiosk.monitors.detectors import DetectorError, make_detector
from kiosk.monitors.validate import LabelledSetError, export_labelled, load_labelled, measure


@click.group("monitors", help="Automated monitoring: validation of the rules on labelled photographs.")
def monitors() -> None:
    pass


@monitors.command("validate", help="""Replay each labelled photograph through the real detector and
rules (with their thresholds and timing) and report precision and recall per rule, and the counts per
lighting condition. DIR holds the images and labels.csv (file,faces,lighting[,turned_away]); see
kiosk/monitors/README.md.""")
@click.option("--labelled", "directory", required=True, type=click.Path(file_okay=False, exists=True),
              help="Directory of the labelled set.")
@click.option("--detector", type=click.Choice(["haar", "yunet"]), default="haar", show_default=True)
@click.option("--yunet-model", type=click.Path(dir_okay=False), default="", help="YuNet ONNX model file.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def validate(directory: str, detector: str, yunet_model: str, as_json: bool) -> None:
    try:
        face_detector = make_detector(detector, yunet_model, "")
        photos = load_labelled(directory)
    except (DetectorError, LabelledSetError) as exc:
        raise click.UsageError(str(exc)) from None
    report = measure(photos, face_detector, WebcamThresholds()).to_dict()
    report["labelled_set"] = directory
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
        return
    _print(report)


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _print(report: dict) -> None:
    click.echo(f"{report['photographs']} photographs, {report['clips']} clips; detector "
               f"{report['detector']['name']}; rules {report['rule_set']}")
    click.echo(f"{'rule':<16} {'version':<18} {'precision':>9} {'recall':>7} {'tp':>5} {'fp':>5} {'fn':>5}")
    for name, r in report["rules"].items():
        click.echo(f"{name:<16} {r['version']:<18} {_rate(r['precision']):>9} {_rate(r['recall']):>7} "
                   f"{r['tp']:>5} {r['fp']:>5} {r['fn']:>5}")
    for lighting, info in report["lighting"].items():
        fired = ", ".join(f"{rule} {c['tp']}/{c['fp']}/{c['fn']}" for rule, c in info["rules"].items()
                          if c["tp"] or c["fp"] or c["fn"])
        click.echo(f"lighting {lighting}: {info['photographs']} photographs; tp/fp/fn: {fired or 'none'}")
    if report["not_measured"]:
        click.echo(f"recall not measured (no example in the set): {', '.join(report['not_measured'])}")


@monitors.command("export-labelled", help="""Write the labelled set composed from real photographs
(scikit-image's astronaut and LFW faces, matplotlib's Grace Hopper, scenes without people) to DIR,
with labels.csv. Needs scikit-image (a test dependency).""")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--per-class", default=6, show_default=True, type=click.IntRange(1, 100),
              help="Photographs of each kind (one face, two, none, dark, covered, poor light...).")
def export(directory: str, per_class: int) -> None:
    try:
        count = export_labelled(directory, per_class)
    except ImportError as exc:
        click.echo(f"kiosk monitors: {exc} (pip install scikit-image matplotlib)", err=True)
        sys.exit(2)
    click.echo(f"{count} labelled photographs written to {directory}")

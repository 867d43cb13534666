"""``report``, ``init`` and ``certificate install`` through the real CLI, with their refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.console_world import ConsoleSetup, cli


def test_cli_report_and_refusals(console_setup: ConsoleSetup, tmp_path: Path) -> None:
    report = json.loads(cli(console_setup.data, "report", "pkg-open", "--json"))
    assert report["session"]["session_id"] == "pkg-open" and report["summary"]["roster"] == 3
    html = cli(console_setup.data, "report", "pkg-open")
    assert "<h1>Session report</h1>" in html
    with pytest.raises(AssertionError, match="no session 'pkg-none'"):
        cli(console_setup.data, "report", "pkg-none")
    with pytest.raises(AssertionError, match="already holds a console"):
        cli(console_setup.data, "init", "--centre-id", "centre-1", "--name", "Again")
    other = tmp_path / "other"
    cli(other, "init", "--centre-id", "centre-9", "--name", "Other")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(console_setup.central.certify_centre(
        (console_setup.data / "enrolment-request.json").read_bytes())))
    with pytest.raises(AssertionError, match="centre-1"):
        cli(other, "certificate", "install", str(bundle))

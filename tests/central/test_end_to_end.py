"""The whole central path with the real item bank: init, import, approve, scheme, form, enrol a real
console, publish, sync over HTTPS, kiosk envelopes, intake and scoring, item analysis written back to
the bank, decisions and the results export."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from exam_core import certs, envelope, keys
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.cli.main import main
from item_bank_sync.items import synthetic
from proctor_console.context import ConsoleContext
from proctor_console.sync.client import HubClient
from proctor_console.sync.run import run_sync
from tests.support.central_db import bank_of
from tests.support.central_sync import Hub

AREAS = ["algebra", "geometry"]


class Central:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.runner = CliRunner()

    def json(self, *args: str):
        result = self.runner.invoke(main, ["--data", str(self.data_dir), *map(str, args), "--json"],
                                    catch_exceptions=False)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return json.loads(result.stdout)

    def text(self, *args: str) -> str:
        result = self.runner.invoke(main, ["--data", str(self.data_dir), *map(str, args)], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result.stdout


@pytest.mark.slow
def test_bank_to_decision(tmp_path):
    central = Central(tmp_path / "central")
    central.json("init", "--body-id", "body", "--name", "Body", "--suite", "x25519")
    items = synthetic.generate(16, AREAS, seed=3)
    folder = tmp_path / "items"
    synthetic.write_items(folder, items)
    for area in AREAS:
        central.json("import", str(folder / area), "--area", area, "--by", "author")
    for item_id, _, _ in items:
        central.json("items", "review", item_id, "--by", "reviewer")
        central.json("items", "approve", item_id, "--by", "approver")
    scheme = tmp_path / "scheme.yaml"
    scheme.write_text(synthetic.scheme_yaml("S1", AREAS, per_area=5))
    central.json("schemes", "add", str(scheme))
    central.json("forms", "build", "--scheme", "S1", "--count", "1", "--seed", "1")
    bank = bank_of(central.data_dir)
    form_id, form_json = bank.execute("SELECT form_id, form_json FROM forms").fetchone()
    form_items = [ref["item_id"] for ref in json.loads(form_json)["items"]]
    correct = {item_id: json.loads(key)["responses"][0]["correct"]
               for item_id, key in bank.execute("SELECT item_id, key_json FROM items")}

    console = ConsoleContext(tmp_path / "console")
    console.initialise("centre-1", "Centre One")
    added = central.json("centres", "add", "--request", str(console.enrolment_request_path), "--by", "admin")
    console.install_certificate(Path(added["certificate_bundle"]).read_bytes(), None)
    now = utc_now()
    central.json("publish", "--form", form_id, "--centre", "centre-1", "--opens", format_time(now - timedelta(hours=1)),
                 "--closes", format_time(now + timedelta(hours=8)), "--by", "admin")
    package_id = bank.execute("SELECT package_id FROM packages").fetchone()[0]

    hub = Hub(central.data_dir, tls=True)
    try:
        client = HubClient(hub.url, "centre-1", console.signing_key, console.root_public(),
                           tls_fingerprint=hub.fingerprint)
        assert run_sync(console, client).packages_imported == [package_id]
        _sit_candidates(console, form_id, form_items, correct, package_id, central)
        report = run_sync(console, client)
    finally:
        hub.stop()
    assert report.envelopes_receipted == 30 and not report.envelopes_kept

    analysis = central.json("analyze", "--form", form_id, "--write-stats")
    assert analysis["test"]["n_candidates"] == 30 and analysis["test"]["n_items"] == 10
    assert analysis["test"]["alpha"] > 0.5
    first = analysis["items"][0]
    assert [o["option"] for o in first["options"]] == ["C0", "C1", "C2", "C3"]   # unchosen options listed too
    assert sum(o["share"] for o in first["options"]) == pytest.approx(1.0)
    stats = dict(bank.execute("SELECT item_id, n FROM item_stats").fetchall())
    assert set(stats) == set(form_items) and set(stats.values()) == {30}
    rows = list(csv.DictReader(io.StringIO(central.text("results", "export"))))
    passed = [r for r in rows if r["passed"] == "1"]
    assert len(rows) == 30 and 0 < len(passed) < 30
    central.json("decide", passed[0]["attempt_id"], "--by", "Decider", "--outcome", "pass", "--reason", "standard met")
    flags = central.json("integrity", "--form", form_id)
    assert isinstance(flags, list)


def _sit_candidates(console: ConsoleContext, form_id: str, form_items: list[str], correct: dict[str, str],
                    package_id: str, central: Central) -> None:
    """Thirty candidates on one certified kiosk: Rasch-like answers, sealed to the results key."""
    kiosk, kiosk_hpke = keys.generate_signing_key(), keys.generate_hpke_key(keys.SUITE_X25519)
    kiosk_cert = certs.issue_certificate(console.signing_key, "centre-1", "kiosk-1", "kiosk", kiosk.public_key(),
                                         kiosk_hpke.public_key())
    chain = [console.centre_certificate(), kiosk_cert]
    root = certs.read_unverified_certificate(console.root_certificate_path.read_bytes())
    results_public = keys.HpkePublicKey(root.hpke_key.suite, __import__("base64").b64decode(root.hpke_key.public))
    rng = np.random.default_rng(4)
    difficulty = rng.normal(size=len(form_items))
    for n in range(30):
        theta = rng.normal()
        attempt_id = f"att-{n:02d}"
        responses = []
        for seq, (item_id, b) in enumerate(zip(form_items, difficulty), start=1):
            right = rng.random() < 1 / (1 + np.exp(-(1.7 * (theta - b))))
            value = correct[item_id] if right else ("C0" if correct[item_id] != "C0" else "C1")
            responses.append({"attempt_id": attempt_id, "item_id": item_id, "response_id": "RESPONSE", "value": value,
                              "seq": seq, "wall_time": format_time(utc_now()), "elapsed_ms": 30_000 * seq,
                              "flagged": False})
        attempt = {"attempt_id": attempt_id, "candidate_id": f"cand-{n}", "form_id": form_id, "form_version": 1,
                   "package_id": package_id, "centre_id": "centre-1", "kiosk_id": "kiosk-1", "option_seed": n,
                   "seat": f"A{n + 1}"}
        payload = {"format": "invigil-attempt-result", "v": 1, "attempt": attempt, "responses": responses,
                   "timings": {"item_time_ms": dict.fromkeys(form_items, 30000)},
                   "journal_head": {"seq": len(responses) + 2, "hash": "cd" * 32}}
        data = envelope.seal_envelope(payload, attempt_id=attempt_id, centre_id="centre-1", kiosk_id="kiosk-1",
                                      form_id=form_id, form_version=1, package_id=package_id,
                                      kiosk_signing_key=kiosk, chain=chain, results_public=results_public)
        console.db.table("envelopes").insert({"sha256": hashlib.sha256(data).hexdigest(), "kiosk_id": "kiosk-1",
                                        "attempt_id": attempt_id, "body": data, "header": "{}",
                                        "received": format_time(utc_now())})

"""Centres and publishing: enrolment, revocation, and packages that open only for the right centre."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, UTC
from pathlib import Path

import pytest

from exam_core import certs, formcontent, keys, package
from exam_core.errors import ReleaseCodeError, WrongKeyError
from exam_core.model import FormContent
from tests.support.central_cli import Central, make_centre
from tests.support.central_db import everything_stored


def window() -> tuple[str, str]:
    now = datetime.now(UTC)
    return (now - timedelta(hours=1)).isoformat(), (now + timedelta(days=2)).isoformat()


@pytest.fixture
def bank_with_form(central: Central, samples: Path, tmp_path: Path) -> tuple[Central, str]:
    """The importable samples, approved, on one form of a scheme that takes all of them."""
    central.run("import", samples / "2_1", "--area", "general")
    central.approve_all()
    count = len(central.json("items", "list", "--status", "approved")["items"])
    scheme = tmp_path / "s.yaml"
    scheme.write_text("format: invigil-scheme/1\nid: SAMPLES\nversion: 1\ntitle: Samples\nduration_minutes: 30\n"
                      f"cut_score_percent: 50\nblueprint:\n  - {{area: general, items: {count}}}\n")
    central.json("schemes", "add", scheme)
    built = central.json("forms", "build", "--scheme", "SAMPLES", "--count", "1", "--seed", "1")
    form_id = built["forms"][0]["form_id"]
    return central, form_id


def test_enrol_list_revoke(central: Central, tmp_path: Path) -> None:
    centre = make_centre("centre-1")
    (tmp_path / "req.json").write_bytes(centre.request)
    enrolled = central.json("centres", "add", "--request", tmp_path / "req.json")
    bundle = json.loads(Path(enrolled["certificate_bundle"]).read_text())
    root = bundle["root_certificate"].encode()
    root_key = keys.load_signing_public_key(central.data_dir / "keys" / "central-signing.pub")
    certs.verify_root_certificate(root, root_key)
    (verified,) = certs.verify_chain([bundle["centre_certificate"].encode()], root_key, leaf_role=certs.ROLE_CENTRE)
    assert verified.cert.subject == "centre-1"
    assert keys.key_id(verified.hpke_public) == keys.key_id(centre.hpke.public_key())
    again = central.run("centres", "add", "--request", tmp_path / "req.json", "--json")
    assert again.exit_code == 1 and "already enrolled" in again.data["error"]

    forged = make_centre("centre-2")
    doc = json.loads(forged.request)
    doc["signature"] = json.loads(centre.request)["signature"]  # someone else's signature
    (tmp_path / "forged.json").write_text(json.dumps(doc))
    bad = central.run("centres", "add", "--request", tmp_path / "forged.json", "--json")
    assert bad.exit_code == 1 and "not a valid enrolment request" in bad.data["error"]

    revoked = central.json("centres", "revoke", "centre-1", "--reason", "lost laptop")
    assert revoked["revocation_sequence"] == 1
    crl = certs.read_revocation_list((central.data_dir / "centres" / "revocations.signed").read_bytes(), root_key)
    assert verified.cert.serial in crl.serials and crl.sequence == 1
    assert central.json("centres", "list")["centres"][0]["revoked_reason"] == "lost laptop"


def test_enrol_the_request_the_real_console_writes(central: Central, tmp_path: Path) -> None:
    console = tmp_path / "console"
    subprocess.run([sys.executable, "-m", "proctor_console", "--data", str(console), "init", "--centre-id", "hall-7",
                    "--name", "Hall 7", "--json"], check=True, capture_output=True, timeout=120)
    enrolled = central.json("centres", "add", "--request", console / "enrolment-request.json")
    assert enrolled["centre_id"] == "hall-7" and len(enrolled["tls_fingerprint_sha256"]) == 64
    installed = subprocess.run([sys.executable, "-m", "proctor_console", "--data", str(console), "certificate",
                                "install", enrolled["certificate_bundle"]], capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, installed.stderr


def test_package_opens_only_for_its_centre_and_code_and_holds_no_keys(bank_with_form, tmp_path: Path) -> None:
    central, form_id = bank_with_form
    centre, other = make_centre("centre-1"), make_centre("centre-2")
    for c in (centre, other):
        (tmp_path / f"{c.centre_id}.json").write_bytes(c.request)
        central.json("centres", "add", "--request", tmp_path / f"{c.centre_id}.json")
    opens, closes = window()
    published = central.json("publish", "--form", form_id, "--centre", "centre-1", "--opens", opens, "--closes", closes,
                             "--release-code", "--out", tmp_path / "out")
    code = published["release_code"]
    assert code and published["file"] and published["media"] == 3
    data = Path(published["file"]).read_bytes()
    assert data == Path(published["stored"]).read_bytes()
    assert code.encode() not in everything_stored(central.data_dir)
    root = keys.load_signing_public_key(central.data_dir / "keys" / "central-signing.pub")

    with pytest.raises(WrongKeyError):
        package.open_form_package(data, root, other.hpke, code)
    with pytest.raises(ReleaseCodeError):
        package.open_form_package(data, root, centre.hpke, None)
    with pytest.raises(ReleaseCodeError):
        package.open_form_package(data, root, centre.hpke, "2222-3333-4444-5555")
    _, content = package.open_form_package(data, root, centre.hpke, code)

    form, media = formcontent.decode(content)
    parsed = FormContent.from_dict(form)
    assert parsed.form.form_id == form_id and len(media) == 3
    text = json.dumps(form)
    for forbidden in ('"correct"', '"mapping"', '"template"', "match_correct", "map_response", "ChoiceA\"]",
                      "DriverC\", \"DriverA"):
        assert forbidden not in text, forbidden
    bank_keys = [central.json("items", "show", i.item_id, "--version", str(i.version))["key"]
                 for i in parsed.form.items]
    for key in bank_keys:  # no key's exact JSON shape appears anywhere in the content
        for response in key["responses"]:
            if response["mapping"]:
                shape = json.dumps(response["mapping"], sort_keys=True, separators=(",", ":"))
                assert shape not in content.decode("latin-1")

    no_code = central.json("publish", "--form", form_id, "--centre", "centre-1", "--opens", opens, "--closes", closes)
    assert no_code["release_code"] is None
    package.open_form_package(Path(no_code["stored"]).read_bytes(), root, centre.hpke)


def test_publish_refusals(bank_with_form, tmp_path: Path) -> None:
    central, form_id = bank_with_form
    centre = make_centre("centre-1")
    (tmp_path / "r.json").write_bytes(centre.request)
    central.json("centres", "add", "--request", tmp_path / "r.json")
    opens, closes = window()
    for args, message in [
        (("--centre", "nowhere"), "no centre nowhere"),
        (("--closes", opens, "--opens", closes), "--closes must be after --opens"),
        (("--opens", "tomorrow"), "not an ISO 8601 time"),
    ]:
        base = {"--form": form_id, "--centre": "centre-1", "--opens": opens, "--closes": closes}
        for flag, value in zip(args[::2], args[1::2]):
            base[flag] = value
        result = central.run("publish", *[x for kv in base.items() for x in kv], "--json")
        assert result.exit_code == 1 and message in result.data["error"], result.output
    item = central.json("forms", "show", form_id)["items"][0]["item_id"]
    central.json("items", "retire", item, "--by", "carol")
    publish = ("publish", "--form", form_id, "--centre", "centre-1", "--opens", opens, "--closes", closes, "--json")
    retired = central.run(*publish)
    assert retired.exit_code == 1 and "no longer approved" in retired.data["error"] and item in retired.data["error"]
    central.json("centres", "revoke", "centre-1")
    revoked = central.run(*publish)
    assert revoked.exit_code == 1 and "revoked" in revoked.data["error"]

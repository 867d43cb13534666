"""``python -m exam_core inspect`` on every artefact kind, through click and as a real subprocess."""

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from click.testing import CliRunner

from exam_core import certs, keys, receipt
from exam_core.cli import main
from exam_core.jsonio import utc_now
from tests.core.pki import build, seal

KINDS = ["form-package", "response-envelope", "receipt", "certificate", "revocation-list", "public-key"]


@pytest.fixture(scope="module")
def files(tmp_path_factory, pki):
    root = tmp_path_factory.mktemp("artefacts")
    sealed = seal(pki)
    serial = certs.read_unverified_certificate(pki.kiosk_cert).serial
    artefacts = {
        "form-package": (build(pki.central, pki.centre_hpke.public_key())[0], pki.central),
        "response-envelope": (sealed, pki.central),
        "receipt": (receipt.issue_receipt(pki.central, sealed, "central"), pki.central),
        "certificate": (pki.centre_cert, pki.central),
        "revocation-list": (certs.issue_revocation_list(pki.centre, "centre-1", [serial], 4), pki.centre),
        "public-key": (keys.public_key_document(pki.results.public_key(), "results"), None),
    }
    out = {}
    for kind, (data, issuer) in artefacts.items():
        path = root / f"{kind}.bin"
        path.write_bytes(data)
        issuer_path = None
        if issuer is not None:
            issuer_path = root / f"{kind}.issuer.json"
            keys.save_public_key(issuer_path, issuer.public_key())
        out[kind] = (path, issuer_path)
    wrong = root / "wrong.pub"
    keys.save_public_key(wrong, keys.generate_signing_key().public_key())
    out["wrong"] = wrong
    out["root"] = root
    return out


def run(*args):
    return CliRunner().invoke(main, ["inspect", *map(str, args)])


@pytest.mark.parametrize("kind", KINDS)
def test_json_without_issuer(files, kind):
    path, _ = files[kind]
    result = run(path, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"kind", "header", "signature_valid", "error"}
    assert report["kind"] == kind and report["signature_valid"] is None and report["error"] is None
    assert report["header"]


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "public-key"])
def test_json_with_right_and_wrong_issuer(files, kind):
    path, issuer = files[kind]
    good = run(path, "--issuer", issuer, "--json")
    assert good.exit_code == 0, good.output
    assert json.loads(good.output)["signature_valid"] is True
    bad = run(path, "--issuer", files["wrong"], "--json")
    assert bad.exit_code == 1
    report = json.loads(bad.output)
    assert report["signature_valid"] is False
    assert any(name in report["error"] for name in ("WrongKeyError", "UntrustedError"))


def test_headers_show_what_matters(files):
    env = json.loads(run(files["response-envelope"][0], "--json").output)["header"]
    assert env["envelope_id"] == "env-1" and env["kiosk_id"] == "kiosk-7"
    pkg = json.loads(run(files["form-package"][0], "--json").output)["header"]
    assert pkg["package_id"] == "pkg-1" and "wrapped_key" not in pkg
    cert = json.loads(run(files["certificate"][0], "--json").output)["header"]
    assert cert["role"] == "centre" and cert["subject"] == "centre-1"


def test_tampered_file_fails_with_reason(files, tmp_path):
    path, issuer = files["receipt"]
    data = bytearray(path.read_bytes())
    data[data.index(b'"signature":"') + 14] ^= 0x02
    bad = tmp_path / "bad.json"
    bad.write_bytes(bytes(data))
    result = run(bad, "--issuer", issuer)
    assert result.exit_code == 1
    assert "INVALID" in result.output and "error" in result.output


def test_expired_certificate_is_reported(tmp_path):
    central = keys.generate_signing_key()
    now = utc_now()
    cert = certs.issue_certificate(central, "central", "centre-9", "centre", keys.generate_signing_key().public_key(),
                                   not_before=now - timedelta(days=3), not_after=now - timedelta(days=1))
    (tmp_path / "c.json").write_bytes(cert)
    keys.save_public_key(tmp_path / "central.pub", central.public_key())
    report = json.loads(run(tmp_path / "c.json", "--issuer", tmp_path / "central.pub", "--json").output)
    assert report["signature_valid"] is True and "ExpiredError" in report["error"]


def test_private_key_never_printed(tmp_path):
    key = keys.generate_signing_key()
    keys.save_private_key(tmp_path / "k.json", key)
    result = run(tmp_path / "k.json", "--json")
    report = json.loads(result.output)
    assert report["kind"] == "private-key" and report["header"]["key_id"] == keys.key_id(key)
    assert keys.b64e(key.private_bytes_raw()) not in result.output


def test_unknown_file_and_bad_issuer(files, tmp_path):
    (tmp_path / "x.txt").write_bytes(b"hello")
    assert run(tmp_path / "x.txt").exit_code == 1
    result = run(files["receipt"][0], "--issuer", tmp_path / "x.txt")
    assert result.exit_code == 2


def test_human_output_via_subprocess(files):
    path, issuer = files["response-envelope"]
    proc = subprocess.run([sys.executable, "-m", "exam_core", "inspect", str(path), "--issuer", str(issuer)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "response-envelope" in proc.stdout and "valid" in proc.stdout and "env-1" in proc.stdout


@pytest.mark.parametrize("payload", [b"[1,2]", b'{"serials": 5}', b'{"format": "invigil-revocations"}', b"[]"])
def test_odd_but_signed_payloads_are_reported_not_crashed(pki, payload):
    from exam_core import signing
    from exam_core.inspect import inspect_bytes
    for purpose in ("revocation-list", "certificate", "receipt"):
        result = inspect_bytes(signing.make_signed(pki.central, purpose, payload), pki.central.public_key())
        assert not result.ok and result.error

"""``python -m exam_core inspect`` on every artefact kind, through click and as a real subprocess."""

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from click.testing import CliRunner

from exam_core import certs, keys, receipt
from exam_core.cli import main
from exam_core.jsonio import b64e
from exam_core.timestamps import utc_now
from tests.support.pki import build, seal

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
    assert b64e(key.private_bytes_raw()) not in result.output


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


# ----- an --issuer certificate is trusted only through its chain to --root ---------------------

@pytest.fixture(scope="module")
def chain_files(tmp_path_factory, pki):
    """Artefacts signed by a centre and a kiosk, their certificates, the root, and a forgery."""
    root = tmp_path_factory.mktemp("chain")
    forger = keys.generate_signing_key()
    forged_cert = certs.issue_certificate(forger, "central", "centre-1", "centre", forger.public_key())
    kiosk_serial = certs.read_unverified_certificate(pki.kiosk_cert).serial
    centre_serial = certs.read_unverified_certificate(pki.centre_cert).serial
    named = {
        "centre-signed": certs.issue_revocation_list(pki.centre, "centre-1", [kiosk_serial], 1),
        "forger-signed": certs.issue_revocation_list(forger, "centre-1", [kiosk_serial], 1),
        "envelope": seal(pki),
        "centre-cert": pki.centre_cert, "kiosk-cert": pki.kiosk_cert, "forged-cert": forged_cert,
        "root-cert": pki.root_cert,
        "centre-revoked": certs.issue_revocation_list(pki.central, "central", [centre_serial], 1),
        "central-signed": receipt.issue_receipt(pki.central, seal(pki), "central"),
    }
    paths = {}
    for name, data in named.items():
        paths[name] = root / f"{name}.json"
        paths[name].write_bytes(data)
    paths["central.pub"] = root / "central.pub"
    keys.save_public_key(paths["central.pub"], pki.central.public_key())
    paths["centre.pub"] = root / "centre.pub"
    keys.save_public_key(paths["centre.pub"], pki.centre.public_key())
    return paths


def report_of(result):
    return json.loads(result.output)


def test_issuer_certificate_without_root_is_refused(chain_files):
    result = run(chain_files["centre-signed"], "--issuer", chain_files["centre-cert"], "--json")
    assert result.exit_code == 2
    assert "--root" in result.output and "not trusted on its own" in result.output


@pytest.mark.parametrize("root", ["central.pub", "root-cert"])
def test_issuer_certificate_verified_up_to_root(chain_files, root):
    result = run(chain_files["centre-signed"], "--issuer", chain_files["centre-cert"], "--root", chain_files[root],
                 "--json")
    assert result.exit_code == 0, result.output
    assert report_of(result)["signature_valid"] is True


def test_forged_issuer_certificate_is_refused(chain_files):
    """A certificate naming centre-1, signed by another key, and an artefact signed by that key."""
    result = run(chain_files["forger-signed"], "--issuer", chain_files["forged-cert"], "--root",
                 chain_files["central.pub"], "--json")
    assert result.exit_code == 1
    report = report_of(result)
    assert report["signature_valid"] is False and report["kind"] == "revocation-list"
    assert "issuer certificate not trusted" in report["error"] and "UntrustedError" in report["error"]
    # The genuine centre's artefact is not vouched for by the forged certificate either.
    assert run(chain_files["centre-signed"], "--issuer", chain_files["forged-cert"], "--root",
               chain_files["central.pub"]).exit_code == 1


def test_kiosk_issuer_needs_its_centre_certificate(chain_files):
    args = [chain_files["envelope"], "--issuer", chain_files["kiosk-cert"], "--root", chain_files["central.pub"]]
    assert run(*args, "--via", chain_files["centre-cert"], "--json").exit_code == 0
    alone = run(*args, "--json")  # the root never certifies a kiosk directly
    assert alone.exit_code == 1 and "UntrustedError" in report_of(alone)["error"]
    forged_via = run(*args, "--via", chain_files["forged-cert"], "--json")
    assert forged_via.exit_code == 1 and report_of(forged_via)["signature_valid"] is False


def test_revoked_issuer_certificate_is_refused(chain_files):
    result = run(chain_files["centre-signed"], "--issuer", chain_files["centre-cert"], "--root",
                 chain_files["central.pub"], "--revocations", chain_files["centre-revoked"], "--json")
    assert result.exit_code == 1 and "RevokedError" in report_of(result)["error"]


def test_expired_issuer_certificate_is_refused(tmp_path, pki):
    now = utc_now()
    centre = keys.generate_signing_key()
    old = certs.issue_certificate(pki.central, "central", "centre-2", "centre", centre.public_key(),
                                  not_before=now - timedelta(days=9), not_after=now - timedelta(days=1))
    (tmp_path / "old.json").write_bytes(old)
    (tmp_path / "doc.json").write_bytes(certs.issue_revocation_list(centre, "centre-2", [], 1))
    keys.save_public_key(tmp_path / "central.pub", pki.central.public_key())
    result = run(tmp_path / "doc.json", "--issuer", tmp_path / "old.json", "--root", tmp_path / "central.pub", "--json")
    assert result.exit_code == 1 and "ExpiredError" in report_of(result)["error"]


def test_root_certificate_as_issuer(chain_files):
    args = [chain_files["central-signed"], "--issuer", chain_files["root-cert"]]
    assert run(*args, "--root", chain_files["central.pub"], "--json").exit_code == 0
    other = run(*args, "--root", chain_files["centre.pub"], "--json")  # a root certificate of another key
    assert other.exit_code == 1 and report_of(other)["signature_valid"] is False


def test_chain_options_without_a_certificate_are_usage_errors(chain_files, tmp_path):
    key_issuer = run(chain_files["centre-signed"], "--issuer", chain_files["centre.pub"], "--root",
                     chain_files["central.pub"])
    assert key_issuer.exit_code == 2 and "only when --issuer is a certificate" in key_issuer.output
    assert run(chain_files["centre-signed"], "--root", chain_files["central.pub"]).exit_code == 2
    tampered = bytearray(chain_files["root-cert"].read_bytes())
    tampered[tampered.index(b'"signature":"') + 14] ^= 0x02
    (tmp_path / "bad-root.json").write_bytes(bytes(tampered))
    bad_root = run(chain_files["centre-signed"], "--issuer", chain_files["centre-cert"], "--root",
                   tmp_path / "bad-root.json")
    assert bad_root.exit_code == 2 and "not a usable root certificate" in bad_root.output
    not_cert = run(chain_files["centre-signed"], "--issuer", chain_files["central-signed"], "--root",
                   chain_files["central.pub"])
    assert not_cert.exit_code == 2 and "not a certificate" in not_cert.output


# ----- issue 13: what inspect used to call valid -------------------------------------------------

def _inspect_process(*args: object) -> tuple[int, dict]:
    """``python -m exam_core inspect ... --json`` as its own process (the operator's command)."""
    proc = subprocess.run([sys.executable, "-m", "exam_core", "inspect", *map(str, args), "--json"],
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, json.loads(proc.stdout)


def test_a_package_with_a_flipped_content_byte_is_invalid_with_or_without_issuer(files, tmp_path):
    """M1: version 1 packages carried only content.bin's size, so inspect called this one valid."""
    from exam_core import package, safezip

    path, issuer = files["form-package"]
    data = path.read_bytes()
    content = bytes(safezip.read_canonical(data, package.ZIP_POLICY)[package.CONTENT])
    bad = bytearray(data)
    bad[data.index(content) + len(content) // 2] ^= 0x01
    (tmp_path / "bad.zip").write_bytes(bytes(bad))
    for extra in ((), ("--issuer", issuer)):
        code, report = _inspect_process(tmp_path / "bad.zip", *extra)
        assert code == 1 and "TamperedError" in report["error"] and "content_sha256" in report["error"]
        assert report["kind"] == "form-package" and report["header"]["package_id"] == "pkg-1"


def test_an_envelope_checked_with_the_kiosk_key_says_what_was_not_checked(chain_files, pki, tmp_path):
    """14: with the kiosk's own key, the header signature was checked and the embedded chain
    ignored, so an envelope carrying a broken chain was called valid. Now the chain's links are
    checked and the output says its anchor was not; with the root everything is checked."""
    keys.save_public_key(tmp_path / "kiosk.pub", pki.kiosk.public_key())
    code, report = _inspect_process(chain_files["envelope"], "--issuer", tmp_path / "kiosk.pub")
    assert code == 0 and report["signature_valid"] is True
    assert report["header"]["chain_checked"].startswith("links only") and "central root" in \
        report["header"]["chain_checked"]
    code, report = _inspect_process(chain_files["envelope"], "--issuer", chain_files["central.pub"])
    assert code == 0 and report["header"]["chain_checked"] == "to the given root"

    other = keys.generate_signing_key()
    stranger = certs.issue_certificate(other, "central", "centre-1", "centre", other.public_key())
    broken = {
        "centre certificate of another key": seal(pki, chain=[stranger, pki.kiosk_cert]),
        "kiosk certificate only": seal(pki, chain=[pki.kiosk_cert]),
        "another kiosk's certificate": seal(pki, chain=[pki.centre_cert, certs.issue_certificate(
            pki.centre, "centre-1", "kiosk-7", "kiosk", keys.generate_signing_key().public_key())]),
    }
    for name, envelope_bytes in broken.items():
        (tmp_path / "env.json").write_bytes(envelope_bytes)
        code, report = _inspect_process(tmp_path / "env.json", "--issuer", tmp_path / "kiosk.pub")
        assert code == 1 and report["signature_valid"] is False, name
        assert "UntrustedError" in report["error"] or "WrongKeyError" in report["error"], (name, report)
        code, report = _inspect_process(tmp_path / "env.json", "--issuer", chain_files["central.pub"])
        assert code == 1, name

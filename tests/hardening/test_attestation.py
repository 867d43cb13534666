"""Release measurement and signed attestation, end to end with exam_core keys and signing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from exam_core.attestation import NotAllowlistedError, StaleAttestationError, verify_attestation
from exam_core.errors import ValidationError
from exam_core.keys import generate_signing_key
from hardening.attestation import make_attestation, measure
from hardening.policy import load_policy

NONCE = bytes(range(32))


@pytest.fixture
def release(tmp_path):
    """A copy of the hardening package, so tests can modify 'installed' code."""
    import hardening

    tree = tmp_path / "hardening"
    shutil.copytree(hardening.__path__[0], tree, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def test_measurement_is_stable_and_covers_code_and_policy(release):
    policy = load_policy("default")
    first = measure(policy, [release])
    assert first == measure(policy, [release])
    names = [name for name, _ in first.files]
    assert names == sorted(names) and "hardening/attestation.py" in names
    assert "hardening/policies/default.yaml" in names  # package data is measured too
    assert first.policy_sha256 == policy.sha256
    assert measure(load_policy("development"), [release]).digest != first.digest


def test_one_changed_byte_changes_the_measurement(release):
    policy = load_policy("default")
    before = measure(policy, [release]).digest
    target = release / "checks.py"
    target.write_bytes(target.read_bytes().replace(b'FAIL if tracer', b'PASS if tracer'))
    assert measure(policy, [release]).digest != before


def test_installed_packages_are_measured_without_importing_kiosk():
    done = subprocess.run([sys.executable, "-c",
                           "import sys, json; from hardening.attestation import measure;"
                           "from hardening.policy import load_policy;"
                           "m = measure(load_policy());"
                           "print(json.dumps([m.kind, sorted({f[0].split('/')[0] for f in m.files}),"
                           " 'kiosk' in sys.modules]))"], capture_output=True, text=True, check=True)
    kind, packages, kiosk_imported = json.loads(done.stdout)
    assert kind == "source" and packages == ["exam_core", "hardening", "kiosk"]
    assert kiosk_imported is False


def test_attestation_made_here_verifies_with_exam_core(release):
    """The kiosk side (hardening) and the console side (exam_core) agree on the format; the
    refusals of every malformed or forged document are tested in tests/core/test_attestation.py."""
    device = generate_signing_key()
    measurement = measure(load_policy(), [release])
    blob = make_attestation(device, measurement, NONCE, "kiosk-07")
    result = verify_attestation(blob, device.public_key(), {measurement.digest: "1.0.0"}, NONCE)
    assert (result.kiosk_id, result.release, result.kind) == ("kiosk-07", "1.0.0", "source")
    assert (result.policy_sha256, result.files) == (measurement.policy_sha256, len(measurement.files))
    with pytest.raises(StaleAttestationError):
        verify_attestation(blob, device.public_key(), [measurement.digest], bytes(32))
    with pytest.raises(NotAllowlistedError, match=measurement.digest):
        verify_attestation(blob, device.public_key(), {"0" * 64: "1.0.0"}, NONCE)


def test_bad_inputs_are_refused(release):
    device = generate_signing_key()
    measurement = measure(load_policy(), [release])
    with pytest.raises(ValidationError, match="nonce"):
        make_attestation(device, measurement, b"short", "kiosk-07")
    with pytest.raises(ValidationError, match="kiosk_id"):
        make_attestation(device, measurement, NONCE, "")
    with pytest.raises(ValidationError, match="no such file"):
        measure(load_policy(), [release / "absent"])


def test_measure_cli_json():
    done = subprocess.run([sys.executable, "-m", "hardening", "measure", "--json"],
                          capture_output=True, text=True, check=True)
    data = json.loads(done.stdout)
    assert len(data["digest"]) == 64 and data["kind"] == "source"
    assert data["digest"] == measure(load_policy()).digest

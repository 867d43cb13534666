"""The provisioning bundle: generated, complete, and syntactically valid for the tools that read it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys

import pytest

from exam_core.errors import ValidationError
from hardening.errors import HardeningError
from hardening.policy import load_policy
from hardening.provision import CHROMIUM_POLICY_PATH, FILES, MANIFEST, BundleSettings, write_bundle

UDEV_KEY = re.compile(r'^(ACTION|SUBSYSTEMS?|KERNEL|DRIVERS?|ENV\{\w+\}|ATTRS?\{\w+\}|TAG|RUN|GOTO|LABEL)'
                      r'(==|!=|=|\+=|:=)"[^"]*"$')
EXTERNAL_BINARIES = re.compile(r"Command (/usr/bin/xinit|/usr/bin/cage) is not executable")


@pytest.fixture
def bundle(tmp_path):
    out = tmp_path / "bundle"
    settings = BundleSettings(url="http://127.0.0.1:8470/", user="exam-kiosk",
                              kiosk_command=f"{sys.executable} -m kiosk run --url http://127.0.0.1:8470/",
                              hardening_command=f"{sys.executable} -m hardening")
    write_bundle(out, load_policy(), settings)
    return out


def test_every_file_is_written_with_its_mode_and_listed_in_the_manifest(bundle):
    expected = set(FILES) | {CHROMIUM_POLICY_PATH, MANIFEST}
    actual = {str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file()}
    assert actual == expected
    for path, mode in FILES.items():
        assert stat.S_IMODE((bundle / path).stat().st_mode) == mode
    lines = (bundle / MANIFEST).read_text().splitlines()
    assert len(lines) == len(expected) - 1
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((bundle / name).read_bytes()).hexdigest() == digest
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--quiet", "-c", MANIFEST], cwd=bundle, check=True)
    assert "{{" not in "".join(p.read_text() for p in bundle.rglob("*") if p.is_file())


def test_shell_scripts_parse(bundle):
    for script in ("install.sh", "create-kiosk-user.sh", "kiosk-xsession.sh"):
        subprocess.run(["sh", "-n", str(bundle / script)], check=True)
        assert (bundle / script).read_text().startswith("#!/bin/sh\n")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("unit", ["invigil-kiosk-x11.service", "invigil-kiosk-cage.service"])
def test_systemd_units_verify(bundle, unit):
    done = subprocess.run(["systemd-analyze", "verify", str(bundle / unit)], capture_output=True, text=True)
    problems = [line for line in (done.stderr + done.stdout).splitlines()
                if line.strip() and not EXTERNAL_BINARIES.search(line)]
    assert problems == []
    text = (bundle / unit).read_text()
    assert "Restart=always" in text and "User=exam-kiosk" in text
    assert f"ExecStartPre=+{sys.executable} -m hardening restore --journal" in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_verify_would_catch_a_broken_unit(bundle):
    broken = bundle / "broken.service"
    broken.write_text((bundle / "invigil-kiosk-x11.service").read_text().replace("Restart=always", "Restrat=always"))
    done = subprocess.run(["systemd-analyze", "verify", str(broken)], capture_output=True, text=True)
    assert "Restrat" in done.stderr


def test_chromium_policy_parses_and_confines(bundle):
    policy = json.loads((bundle / CHROMIUM_POLICY_PATH).read_text())
    assert policy["URLAllowlist"] == ["http://127.0.0.1:8470"] and policy["URLBlocklist"] == ["*"]


def test_udev_rule_syntax(bundle):
    rules = [line for line in (bundle / "99-invigil-block-usb-storage.rules").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert rules
    for rule in rules:
        pairs = [pair.strip() for pair in rule.split(",")]
        assert all(UDEV_KEY.match(pair) for pair in pairs), rule
        assert any(p == 'ATTR{authorized}="0"' for p in pairs)  # the assignment that blocks
        assert any(p == 'ATTR{bInterfaceClass}=="08"' for p in pairs)  # mass storage only


def test_xorg_config_turns_vt_switching_and_zap_off(bundle):
    text = (bundle / "10-invigil-kiosk.conf").read_text()
    assert text.count("Section ") == text.count("EndSection") == 2
    assert 'Option "DontVTSwitch" "true"' in text and 'Option "DontZap" "true"' in text


def test_nothing_is_applied_to_the_host(tmp_path):
    watched = ["/etc/chromium/policies", "/etc/udev/rules.d/99-invigil-block-usb-storage.rules",
               "/etc/systemd/system/invigil-kiosk-x11.service", "/etc/X11/xorg.conf.d/10-invigil-kiosk.conf"]
    before = {path: os.path.exists(path) for path in watched}
    done = subprocess.run([sys.executable, "-m", "hardening", "provision", "--out", str(tmp_path / "b")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert {path: os.path.exists(path) for path in watched} == before


@pytest.mark.parametrize("settings, field", [
    (BundleSettings(user="Root;rm"), "user"),
    (BundleSettings(kiosk_command="kiosk run"), "kiosk_command"),
    (BundleSettings(kiosk_command="/opt/k run '$(reboot)'"), "kiosk_command"),
    (BundleSettings(url="http://127.0.0.1:1/\nExecStart=/bin/sh"), "url"),
])
def test_unsafe_values_are_refused(tmp_path, settings, field):
    with pytest.raises(ValidationError) as info:
        write_bundle(tmp_path / "b", load_policy(), settings)
    assert info.value.field == field


def test_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(HardeningError, match="not an empty directory"):
        write_bundle(tmp_path, load_policy())

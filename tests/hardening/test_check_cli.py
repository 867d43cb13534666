"""`python -m hardening check` on this very machine: structure and real evidence."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hardening.policy import CHECK_NAMES


def run_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hardening", "check", *args],
                          capture_output=True, text=True, timeout=120)


def test_json_report_on_this_machine():
    done = run_check("--json")
    report = json.loads(done.stdout)
    assert set(report) == {"checks", "blocking"}
    assert [c["name"] for c in report["checks"]] == list(CHECK_NAMES)
    for check in report["checks"]:
        assert set(check) == {"name", "status", "evidence"}
        assert check["status"] in ("pass", "warn", "fail")
        assert check["evidence"]["summary"]
    by_name = {c["name"]: c for c in report["checks"]}
    # Facts known about the test process itself.
    assert by_name["tracer"]["evidence"]["tracer_pid"] == 0
    assert by_name["user"]["evidence"]["uid"] == os.geteuid()
    assert by_name["processes"]["evidence"]["processes_scanned"] >= 2  # at least pytest and the check
    names = [i["name"] for i in by_name["network"]["evidence"]["interfaces"]]
    assert "lo" in names and set(names) == set(os.listdir("/sys/class/net"))
    # Exit code and blocking list agree.
    assert all(by_name[n]["status"] == "fail" for n in report["blocking"])
    assert done.returncode == (1 if report["blocking"] else 0)


def test_development_policy_never_blocks():
    done = run_check("--json", "--policy", "development")
    assert done.returncode == 0 and json.loads(done.stdout)["blocking"] == []


def test_table_output_and_bad_policy_error(tmp_path):
    done = run_check("--policy", "development")
    assert "Preflight checks" in done.stdout and "fit for an exam" in done.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nuser: {root: maybe}\n")
    done = run_check("--policy", str(bad))
    assert done.returncode == 2 and "user.root" in done.stderr


def test_console_clock_is_measured_from_the_cli(tmp_path):
    from tests.support.hit_log_server import HitLogServer
    from tests.support.ports import find_free_port

    console = HitLogServer(find_free_port(), page="<html>console</html>")  # Date header only
    try:
        done = run_check("--json", "--policy", "development", "--console", console.url + "time")
        clock = next(c for c in json.loads(done.stdout)["checks"] if c["name"] == "clock_skew")
        assert clock["evidence"]["measured"] is True and clock["evidence"]["source"] == "date-header"
        assert clock["status"] == "pass" and console.hits == ["/time"]
    finally:
        console.close()

"""Intake's timing record and the results that need a person's decision (issue 13, items 1 and 6),
through the central CLI as a real process: ``intake file``, ``results export``, ``decide`` and
``analyze``, on envelopes sealed by a real kiosk key in the shape ``kiosk.session`` writes.

- An exam a proctor ended is stored with how it ended and flagged for a decision, and it stays out
  of the item statistics, as does a withheld attempt.
- The time the kiosk allowed is recorded next to the bank's own figure (the form's duration with
  the extra time applied once, plus extensions); an attempt given other time, or accommodations its
  scheme does not allow, is accepted and flagged, never silently scored as ordinary.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from exam_core.timestamps import utc_text
from tests.support.central_db import central_db, execute, value
from tests.support.central_world import REPO, World

RIGHT, WRONG = {"q1": "A", "q2": ["A", "C"]}, {"q1": "B", "q2": ["B"]}
HOUR_MS = 3_600_000     # the world's form F1 lasts 60 minutes


def cli(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "item_bank_sync", "--data", str(world.data_dir), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def sit(world: World, attempt_id: str, answers: dict[str, Any], *, extra: int = 0, allowed_ms: int | None = None,
        ended: str | None = None, **accommodations: Any) -> bytes:
    """An envelope as the kiosk seals it: the attempt as admitted, its clock, and how it ended."""
    payload = world.payload(attempt_id, answers, accommodations={"extra_time_percent": extra, **accommodations},
                            duration_seconds=HOUR_MS // 1000 * (100 + extra) // 100)
    payload["timings"]["allowed_ms"] = HOUR_MS * (100 + extra) // 100 if allowed_ms is None else allowed_ms
    payload["timings"]["elapsed_ms"] = 1_500_000
    if ended is not None:
        payload["submission"] = {"reason": "proctor_end", "ended_by_proctor": {"reason": ended, "at": utc_text()}}
    else:
        payload["submission"] = {"reason": "candidate", "ended_by_proctor": None}
    return world.seal(attempt_id, answers, payload=payload)


def take_in(world: World, tmp_path: Path, envelopes: dict[str, bytes]) -> list[dict[str, Any]]:
    for name, data in envelopes.items():
        (tmp_path / f"{name}.env").write_bytes(data)
    files = [str(tmp_path / f"{name}.env") for name in envelopes]
    taken = cli(world, "intake", "file", "--via", "centre-1", "--json", *files)
    assert taken.returncode == 0, taken.stdout + taken.stderr
    return json.loads(taken.stdout)


def mark_all(world: World) -> None:
    """Two markers give every essay (q3) the same mark, so each attempt is fully scored."""
    tasks = json.loads(cli(world, "marking", "list", "--json").stdout)
    for task in tasks:
        for marker in ("Mia", "Max"):
            marked = cli(world, "marking", "mark", str(task["task_id"]), "--by", marker, "--score", "0")
            assert marked.returncode == 0, marked.stderr


def exported(world: World) -> dict[str, dict[str, str]]:
    out = cli(world, "results", "export")
    assert out.returncode == 0, out.stderr
    return {r["attempt_id"]: r for r in csv.DictReader(io.StringIO(out.stdout))}


def test_an_ended_or_withheld_attempt_is_flagged_and_left_out_of_item_statistics(world: World, tmp_path: Path) -> None:
    statuses = take_in(world, tmp_path, {
        "a1": sit(world, "att-1", RIGHT), "a2": sit(world, "att-2", WRONG), "a3": sit(world, "att-3", RIGHT),
        "a4": sit(world, "att-4", WRONG, ended="candidate taken ill after ten minutes")})
    assert [s["status"] for s in statuses] == ["accepted"] * 4     # scored and receipted, not refused
    mark_all(world)
    rows = exported(world)
    assert rows["att-4"]["ended_by"] == "proctor_end"
    assert rows["att-4"]["review"] == "ended by a proctor: candidate taken ill after ten minutes"
    assert rows["att-1"]["ended_by"] == "candidate" and rows["att-1"]["review"] == ""
    assert rows["att-1"]["time_allowed_ms"] == str(HOUR_MS) and rows["att-1"]["time_used_ms"] == "1500000"
    assert {r["scoring_status"] for r in rows.values()} == {"scored"}

    withheld = cli(world, "decide", "att-3", "--by", "Dana", "--outcome", "withheld", "--reason", "integrity review")
    assert withheld.returncode == 0, withheld.stderr
    analysis = cli(world, "analyze", "--form", "F1", "--json", "--write-stats")
    assert analysis.returncode == 0, analysis.stderr
    data = json.loads(analysis.stdout)
    assert data["title"] == "Item analysis of form F1 v2 (2 attempt(s) left out: ended by a proctor or withheld)"
    assert data["test"]["n_candidates"] == 2                       # att-1 and att-2: not the ended, not the withheld
    q1 = next(i for i in data["items"] if i["item_id"] == "q1")
    assert q1["p"] == 0.5                                          # one right, one wrong: att-4's zero left out
    bank = central_db(world.data_dir).bank
    assert value(bank, "SELECT n FROM item_stats WHERE item_id = 'q1'") == 2
    human = cli(world, "analyze", "--form", "F1")
    assert "2 attempt(s) left out: ended by a proctor or withheld" in " ".join(human.stdout.split())


def test_the_time_allowed_is_recorded_once_stretched_and_a_difference_is_flagged(world: World, tmp_path: Path) -> None:
    take_in(world, tmp_path, {
        "once": sit(world, "att-once", RIGHT, extra=25),                          # 1:15:00, as it should be
        "twice": sit(world, "att-twice", RIGHT, extra=100, allowed_ms=4 * HOUR_MS),  # the kiosk: 4:00:00
        "beyond": sit(world, "att-beyond", RIGHT, extra=100, high_contrast=True)})
    rows = exported(world)
    assert rows["att-once"]["time_allowed_ms"] == str(75 * 60_000) and rows["att-once"]["review"] == ""
    assert rows["att-twice"]["review"] == ("time allowed 4:00:00 differs from the form's 1:00:00 with +100 % extra "
                                           "time and 0:00:00 of extensions (2:00:00)")
    # the scheme's policy (here: at most 50 % extra time and nothing else) is checked again centrally
    scheme = {"cut_score": 3.0, "accommodations_allowed": ["extra_time_percent"], "max_extra_time_percent": 50}
    execute(central_db(world.data_dir).bank, "UPDATE schemes SET scheme_json = ? WHERE scheme_id = 'S1'",
            json.dumps(scheme))
    take_in(world, tmp_path, {"late": sit(world, "att-late", RIGHT, extra=100, high_contrast=True)})
    review = exported(world)["att-late"]["review"]
    assert "accommodation not allowed by the scheme: extra_time_percent 100: the scheme allows at most 50" in review
    assert "high_contrast true: the scheme does not allow this accommodation" in review

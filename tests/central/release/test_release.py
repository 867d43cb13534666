"""Results release: holds by centre, form and attempt stop a release until lifted; releasing is
refused to the attempt's proctor and markers and for undecided results; every step is audited; the
score report (page and PDF, the PDF rendered to an image with pypdfium2) shows what it claims, with
per-area feedback only for a fail; and two releasing processes at once release each attempt once,
certify the pass once and tell each candidate once."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pypdfium2 as pdfium  # type: ignore[import-untyped]  # no stubs, no py.typed
import pytest
from sqlalchemy import func, select

from item_bank_sync.certificates.schema import certificates
from item_bank_sync.release.holds import ReleaseRefused, hold, lift, release, release_of, review_queue
from item_bank_sync.release.report import report_html, report_pdf, score_report
from item_bank_sync.release.schema import release_notices, result_releases
from tests.support.central_cli import Central
from tests.support.central_db import audit_of
from tests.support.central_release import CUT, DECIDER, FAILED, MARKERS, PASSED, PROCTOR, Results, results_world
from tests.support.central_world import CENTRE_ID, FORM_ID

RELEASER = "Rita Releaser"


@pytest.fixture
def results(tmp_path) -> Iterator[Results]:
    r = results_world(tmp_path / "central")
    yield r
    r.ctx.close()


def actions(results: Results) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in audit_of(results.world.data_dir).entries()]


def test_holds_by_centre_form_and_attempt_stop_release_until_lifted(results):
    ctx = results.ctx
    for scope, target in (("centre", CENTRE_ID), ("form", FORM_ID), ("attempt", PASSED)):
        hold_id = hold(ctx, "Hal Holder", scope, target, f"looking into the {scope}")
        done = release(ctx, RELEASER, "results day", attempt_id=PASSED)
        assert done.released == () and "held" in done.refused[PASSED]
        assert release_of(ctx, PASSED) is None
        lift(ctx, "Lee Lifter", hold_id, "cleared")
    with pytest.raises(ReleaseRefused, match="lifted already"):
        lift(ctx, "Lee Lifter", hold_id, "again")
    done = release(ctx, RELEASER, "results day", centre=CENTRE_ID)
    assert sorted(done.released) == sorted([PASSED, FAILED]) and done.refused == {}
    assert review_queue(ctx) == []
    assert ("rita releaser", "results.release") in actions(results)
    assert actions(results).count(("hal holder", "results.hold")) == 3


def test_release_is_refused_to_the_proctor_and_markers_and_for_a_withheld_result(results):
    for person in (PROCTOR, *MARKERS):
        done = release(results.ctx, person, "results day", attempt_id=PASSED)
        assert "impartiality" in done.refused[PASSED]
    from item_bank_sync.results.decisions import decide

    decide(results.ctx.open_results_db(), FAILED, DECIDER, "withheld", "integrity review")
    done = release(results.ctx, RELEASER, "results day", form=FORM_ID)
    assert done.released == (PASSED,) and "withheld" in done.refused[FAILED]
    with pytest.raises(ReleaseRefused, match="not released"):
        score_report(results.ctx, FAILED)


def render(pdf: bytes) -> tuple[np.ndarray, str]:
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        return np.asarray(page.render(scale=2).to_pil().convert("L")), page.get_textpage().get_text_range()
    finally:
        document.close()


def test_a_failed_candidates_report_shows_score_cut_areas_and_how_to_appeal(results):
    release(results.ctx, RELEASER, "results day", centre=CENTRE_ID)
    report = score_report(results.ctx, FAILED)
    assert report.outcome == "fail" and report.total == 1.0 and report.cut_score == CUT
    assert {a.area: (a.score, a.max_score) for a in report.areas} == {"Practice": (1.0, 4.0), "Safety": (0.0, 3.0)}
    image, text = render(report_pdf(report))
    assert (image < 128).mean() > 0.005          # the page shows ink, not a blank
    for shown in ("Result: FAIL", "Score: 1 of 7 (pass mark 5.5)", "Practice: 1 of 4 (25%)", "Safety: 0 of 3 (0%)",
                  f"by {report.appeal_by[:10]}", "Accommodations applied: none"):
        assert shown in text.replace("\r\n", " ").replace("\n", " ")
    html = report_html(report)
    assert "Result: FAIL" in html and "Practice" in html and report.appeal_by[:10] in html


def test_a_passing_report_has_no_area_feedback(results):
    release(results.ctx, RELEASER, "results day", attempt_id=PASSED)
    report = score_report(results.ctx, PASSED)
    assert report.outcome == "pass" and report.areas == () and report.total == 6.0
    _, text = render(report_pdf(report))
    assert "Result: PASS" in text and "each area" not in text


def test_the_cli_releases_and_writes_the_report(results, tmp_path):
    cli = Central(results.world.data_dir)
    held = cli.json("release", "hold", "--attempt", FAILED, "--by", "Hal Holder", "--reason", "check")
    done = cli.json("release", "results", "--centre", CENTRE_ID, "--by", RELEASER, "--reason", "results day")
    assert done["released"] == [PASSED] and FAILED in done["refused"]
    queue = cli.json("release", "queue")
    assert [(a["attempt_id"], a["holds"]) for a in queue["attempts"]] == [(FAILED, [held["hold_id"]])]
    report = cli.json("release", "report", PASSED, "--html", tmp_path / "r.html", "--pdf", tmp_path / "r.pdf")
    assert report["outcome"] == "pass" and (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
    assert cli.run("release", "report", FAILED, "--json").exit_code == 1


def test_two_processes_releasing_one_centre_at_once_release_each_attempt_once(results):
    code = ("import sys, json; from click.testing import CliRunner; from item_bank_sync.cli.main import main; "
            "r = CliRunner().invoke(main, ['--data', sys.argv[1], 'release', 'results', '--centre', sys.argv[2], "
            "'--by', sys.argv[3], '--reason', 'results day', '--json']); print(r.output)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(results.world.data_dir), CENTRE_ID, f"Releaser {n}"],
                              stdout=subprocess.PIPE, text=True) for n in range(2)]
    outputs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    released = [a for o in outputs for a in o.get("released", [])]
    assert sorted(released) == sorted([PASSED, FAILED])
    with results.ctx.open_results_db().connect() as conn:
        assert conn.execute(select(func.count()).select_from(result_releases)).scalar_one() == 2
        assert conn.execute(select(func.count()).select_from(release_notices)).scalar_one() == 2   # told once each
    with results.ctx.open_bank_db().connect() as conn:                    # the pass certified once
        assert conn.execute(select(func.count()).select_from(certificates)).scalar_one() == 1
    assert [a for _, a in actions(results)].count("certificate.issue") == 1

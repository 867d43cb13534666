"""After the exam: decide, release (which issues the passes' certificates and e-mails each candidate),
suspend and restore, an appeal with a replayed re-score, and the accreditation evidence pack (issue
17 item 7).

Each step is the central body's command line as its staff would run it; the public site
(``python -m item_bank_sync public``) runs as one more real process, and the issuer's key set and
the status-list credential are fetched from it over HTTPS (trusting exactly the body's certificate)
and saved, so what the summary points to is what a verifier would have been served.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from demo import commands
from demo.portal import PublicSite
from demo.processes import Supervisor

RELEASER, DECIDER, STATUS_OFFICER = "rhea.release", "dan.decider", "sam.status"
CASE_OFFICER, HANDLER = "cora.cases", "hugo.handler"


class DemoLike(Protocol):
    """What this phase needs of the orchestrator (demo.orchestrate.Demo)."""

    central_dir: Path
    work: Path
    supervisor: Supervisor

    def say(self, text: str) -> None: ...


def after_exam(demo: DemoLike, site: PublicSite, centre_id: str, scheme_id: str) -> dict[str, str]:
    """The whole after-exam phase on the running public site (``certificates setup`` named it
    before the exam); the paths of the files the summary names."""
    out = demo.work / "certification"
    out.mkdir(exist_ok=True)
    c = demo.central_dir
    rows = _results(c)
    passes = [r["attempt_id"] for r in rows if r["passed"] in ("1", "true", "True")]
    fails = [r["attempt_id"] for r in rows if r["attempt_id"] not in passes]
    _decide(demo, passes, fails)
    # Released once decided (the release refuses an attempt without a decision standing); releasing a
    # pass issues its certificate and each candidate is e-mailed that the result is on the portal.
    released = commands.central(c, "release", "results", "--centre", centre_id, "--by", RELEASER,
                                "--reason", "results reviewed after the session; no hold")
    certificates = [str(v) for v in released.get("certificates", {}).values()]
    told = sum(status == "sent" for status in released.get("told", {}).values())
    demo.say(f"{len(passes)} passes and {len(fails)} fails decided; results released "
             f"({len(released.get('released', []))} attempts, score reports ready, {told} candidates e-mailed); "
             f"{len(certificates)} certificates issued at release")
    paths = {"certificate_sample": str(_sample(c, certificates[0], out))} if certificates else {}
    if certificates:
        _suspend_and_restore(demo, site, certificates[0], out)
    if fails:
        _appeal(demo, fails[0])
    paths["issuer_jwks"] = str(_fetch(site, "/.well-known/jwks.json", out / "jwks.json"))
    paths["status_list"] = str(_fetch(site, "/status/suspension", out / "status-list-suspension.jwt"))
    paths["evidence_pack"] = _evidence(demo, scheme_id)
    return paths


def _results(central_dir: Path) -> list[dict[str, str]]:
    text = commands.run("item_bank_sync", central_dir, "results", "export", as_json=False)
    return list(csv.DictReader(io.StringIO(text)))


def _decide(demo: DemoLike, passes: list[str], fails: list[str]) -> None:
    """The decision maker decides each attempt (after reviewing its integrity flags); the certificate
    is issued later, at release. In-process through the same click command (as the item approvals are)."""
    for attempt_id in passes + fails:
        outcome = "pass" if attempt_id in passes else "fail"
        commands.in_process(demo.central_dir, "decide", attempt_id, "--by", DECIDER, "--outcome", outcome,
                            "--reason", f"score against the cut: {outcome}", "--flags-reviewed")


def _sample(central_dir: Path, certificate_id: str, out: Path) -> Path:
    """One issued credential (the VC-JWT) written to a file."""
    jwt = commands.run("item_bank_sync", central_dir, "certificates", "show", certificate_id, "--jwt", as_json=False)
    path = out / f"{certificate_id}.jwt"
    path.write_text(jwt.strip() + "\n")
    return path


def _suspend_and_restore(demo: DemoLike, site: PublicSite, certificate_id: str, out: Path) -> None:
    """Suspend a certificate (it shows in the served status list at once), then restore it."""
    c = demo.central_dir
    until = (date.today() + timedelta(days=30)).isoformat()
    commands.central(c, "certificates", "suspend", certificate_id, "--by", STATUS_OFFICER, "--reason",
                     "holder asked to clarify a CPD record", "--until", until)
    _fetch(site, "/status/suspension", out / "status-list-while-suspended.jwt")
    commands.central(c, "certificates", "restore", certificate_id, "--by", STATUS_OFFICER, "--reason",
                     "clarified; cause removed")
    demo.say(f"certificate {certificate_id} suspended (served status list fetched) and restored")


def _appeal(demo: DemoLike, attempt_id: str) -> None:
    """A candidate who failed appeals; an impartial handler has the attempt replayed from its exact
    original inputs (the same score, bit for bit) and dismisses the appeal."""
    c = demo.central_dir
    words = demo.work / "certification" / "appeal.txt"
    words.write_text("I believe my answers were not all counted.\n")
    candidate = next(r["candidate_id"] for r in _results(c) if r["attempt_id"] == attempt_id)
    case = commands.central(c, "cases", "lodge", "--kind", "appeal", "--category", "result", "--person", candidate,
                            "--summary-file", str(words), "--attempt", attempt_id, "--by", CASE_OFFICER)
    case_id = case["case_id"]
    commands.central(c, "cases", "acknowledge", case_id, "--by", CASE_OFFICER)
    commands.central(c, "cases", "assign", case_id, "--handler", HANDLER, "--by", CASE_OFFICER)
    replay = commands.central(c, "cases", "rescore", attempt_id, "--case", case_id, "--reason",
                              "appeal: replay the original inputs", "--by", HANDLER)
    commands.central(c, "cases", "decide", case_id, "--outcome", "dismissed", "--text",
                     "The re-score from the original inputs gave the same result.", "--by", HANDLER)
    demo.say(f"appeal {case_id} on {attempt_id}: re-score replayed ({_replay_words(replay)}), dismissed")


def _replay_words(replay: dict[str, Any]) -> str:
    for key in ("same", "unchanged", "identical"):
        if key in replay:
            return f"{key}: {replay[key]}"
    return "recorded"


def _fetch(site: PublicSite, path: str, out: Path) -> Path:
    """GET a public file over HTTPS (trusting exactly the body's certificate), saved to ``out``."""
    out.write_bytes(site.get(path))
    return out


def _evidence(demo: DemoLike, scheme_id: str) -> str:
    today = datetime.now(UTC).date()
    out = demo.work / "reports" / "evidence"
    pack = commands.central(demo.central_dir, "evidence", "--scheme", scheme_id, "--from",
                            (today - timedelta(days=1)).isoformat(), "--to", (today + timedelta(days=1)).isoformat(),
                            "--out", str(out), "--by", "aud.assessor")
    demo.say(f"evidence pack written: {pack.get('index', out)}")
    return str(out)

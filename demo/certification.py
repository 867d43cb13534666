"""After the exam: release, decide, certify, suspend and restore, an appeal with a replayed re-score,
and the accreditation evidence pack (issue 17 item 7).

Each step is the central body's command line as its staff would run it; the public site
(``python -m item_bank_sync public``) runs as one more real process, and the issuer's key set and
the status-list credential are fetched from it over HTTPS (trusting exactly the body's certificate)
and saved, so what the summary points to is what a verifier would have been served.
"""

from __future__ import annotations

import csv
import io
import json
import ssl
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from demo import commands
from demo.processes import DemoError, Supervisor, free_port, wait_for_port

RELEASER, DECIDER, STATUS_OFFICER = "rhea.release", "dan.decider", "sam.status"
CASE_OFFICER, HANDLER = "cora.cases", "hugo.handler"


class DemoLike(Protocol):
    """What this phase needs of the orchestrator (demo.orchestrate.Demo)."""

    central_dir: Path
    work: Path
    supervisor: Supervisor

    def say(self, text: str) -> None: ...


def after_exam(demo: DemoLike, centre_id: str, scheme_id: str) -> dict[str, str]:
    """The whole after-exam phase; the paths of the files the summary names."""
    out = demo.work / "certification"
    out.mkdir(exist_ok=True)
    public_url = _start_public_site(demo)
    c = demo.central_dir
    commands.central(c, "certificates", "setup", "--public-url", public_url, "--by", "carl.admin")
    rows = _results(c)
    passes = [r["attempt_id"] for r in rows if r["passed"] in ("1", "true", "True")]
    fails = [r["attempt_id"] for r in rows if r["attempt_id"] not in passes]
    certificates = _decide(demo, passes, fails)
    # Released once decided (the release refuses an attempt without a decision standing).
    released = commands.central(c, "release", "results", "--centre", centre_id, "--by", RELEASER,
                                "--reason", "results reviewed after the session; no hold")
    demo.say(f"{len(passes)} passes and {len(fails)} fails decided; {len(certificates)} certificates issued; "
             f"results released ({len(released.get('released', []))} attempts, score reports ready)")
    paths = {"certificate_sample": str(_sample(c, certificates[0], out))} if certificates else {}
    if certificates:
        _suspend_and_restore(demo, public_url, certificates[0], out)
    if fails:
        _appeal(demo, fails[0])
    paths["issuer_jwks"] = str(_fetch(demo, f"{public_url}/.well-known/jwks.json", out / "jwks.json"))
    paths["status_list"] = str(_fetch(demo, f"{public_url}/status/suspension", out / "status-list-suspension.jwt"))
    paths["evidence_pack"] = _evidence(demo, scheme_id)
    return paths


def _start_public_site(demo: DemoLike) -> str:
    """The public verification site (no portal: it would need a mail relay) on a free port."""
    port = free_port()
    node = demo.supervisor.start("public", "item_bank_sync", ["--data", str(demo.central_dir), "public", "--host",
                                                              "127.0.0.1", "--port", str(port), "--no-portal"])
    wait_for_port(port, 60, node.process, node.log)
    url = f"https://127.0.0.1:{port}"
    demo.say(f"public verification site on {url}")
    return url


def _results(central_dir: Path) -> list[dict[str, str]]:
    text = commands.run("item_bank_sync", central_dir, "results", "export", as_json=False)
    return list(csv.DictReader(io.StringIO(text)))


def _decide(demo: DemoLike, passes: list[str], fails: list[str]) -> list[str]:
    """The decision maker decides each attempt (after reviewing its integrity flags); a pass issues
    the certificate. In-process through the same click command (as the item approvals are)."""
    issued: list[str] = []
    for attempt_id in passes + fails:
        outcome = "pass" if attempt_id in passes else "fail"
        done = commands.in_process(demo.central_dir, "decide", attempt_id, "--by", DECIDER, "--outcome", outcome,
                                   "--reason", f"score against the cut: {outcome}", "--flags-reviewed")
        if done.get("certificate_id"):
            issued.append(str(done["certificate_id"]))
    return issued


def _sample(central_dir: Path, certificate_id: str, out: Path) -> Path:
    """One issued credential (the VC-JWT) written to a file."""
    jwt = commands.run("item_bank_sync", central_dir, "certificates", "show", certificate_id, "--jwt", as_json=False)
    path = out / f"{certificate_id}.jwt"
    path.write_text(jwt.strip() + "\n")
    return path


def _suspend_and_restore(demo: DemoLike, public_url: str, certificate_id: str, out: Path) -> None:
    """Suspend a certificate (it shows in the served status list at once), then restore it."""
    c = demo.central_dir
    until = (date.today() + timedelta(days=30)).isoformat()
    commands.central(c, "certificates", "suspend", certificate_id, "--by", STATUS_OFFICER, "--reason",
                     "holder asked to clarify a CPD record", "--until", until)
    _fetch(demo, f"{public_url}/status/suspension", out / "status-list-while-suspended.jwt")
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


def _fetch(demo: DemoLike, url: str, path: Path) -> Path:
    """GET over HTTPS trusting exactly the body's own certificate; the body saved to ``path``."""
    from item_bank_sync.sync.tls_cert import ensure_tls_certificate

    cert, _key, _fingerprint = ensure_tls_certificate(demo.central_dir)
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False  # the body's self-signed certificate names the body, not 127.0.0.1
    try:
        with urllib.request.urlopen(url, context=context, timeout=30) as response:  # noqa: S310 - https only
            body = response.read()
    except OSError as exc:
        raise DemoError(f"GET {url} failed: {exc}") from exc
    path.write_bytes(body)
    return path


def _evidence(demo: DemoLike, scheme_id: str) -> str:
    today = datetime.now(UTC).date()
    out = demo.work / "reports" / "evidence"
    pack = commands.central(demo.central_dir, "evidence", "--scheme", scheme_id, "--from",
                            (today - timedelta(days=1)).isoformat(), "--to", (today + timedelta(days=1)).isoformat(),
                            "--out", str(out), "--by", "aud.assessor")
    demo.say(f"evidence pack written: {pack.get('index', out)}")
    return str(out)


def load_json(path: str) -> Any:
    """A saved JSON file (the JWKS)."""
    return json.loads(Path(path).read_text())

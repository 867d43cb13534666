"""The whole chain on one machine: central body -> test centre -> three kiosks -> scoring.

Every node is a real process started with its own command line (``python -m item_bank_sync``,
``python -m proctor_console``, ``python -m kiosk``), each in its own process group; the demo only
plays the people: the central administrators, the centre administrator, a proctor and the
candidates. See ``python -m demo --help``.
"""

from __future__ import annotations

import functools
import json
import os
import random
import secrets
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta, UTC
from pathlib import Path
from typing import Any
from collections.abc import Callable

from demo import certification, commands, lifecycle
from demo.candidates import Candidate, KioskClient, load_item_keys
from demo.portal import PublicSite
from demo.processes import REPO_ROOT, DemoError, Node, Supervisor, free_port, wait_for, wait_for_port
from demo.proctor import Proctor, tls_fingerprint
from demo.summary import kiosk_counts, lifecycle_counts, summarise

DEMO_DIR = Path(__file__).resolve().parent
CENTRE_ID = "centre-1"
SCHEME_ID = "cnt"
PROCTOR_NAME, ADMIN_NAME = "paula", "alice"
#: Kiosk 1's camera: the candidate is present, leaves the desk for 15 s, comes back.
LEAVING_CAMERA = "synthetic:one=20,none=15,one=3600"
PRESENT_CAMERA = "synthetic:one=3600"


@dataclass
class Seat:
    """One kiosk, the candidate admitted on it and the form package they sit."""

    kiosk_id: str
    candidate_id: str
    package_id: str
    camera: str
    role: str  # "webcam-alert" | "kill-9" | "steady" | "person"
    #: Extra environment of the kiosk process (the fault suite runs one under libfaketime).
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    node: Node | None = None
    client: KioskClient | None = None
    outcome: dict[str, Any] = field(default_factory=dict)

    @property
    def kiosk(self) -> KioskClient:
        """The client of this seat's kiosk (there once the kiosk has started)."""
        if self.client is None:
            raise DemoError(f"{self.kiosk_id}: its kiosk has not started")
        return self.client

    @property
    def kiosk_node(self) -> Node:
        """This seat's kiosk process (there once the kiosk has started)."""
        if self.node is None:
            raise DemoError(f"{self.kiosk_id}: its kiosk has not started")
        return self.node


@dataclass
class DemoOptions:
    workdir: Path
    scripted: bool = True
    say: Callable[[str], None] = print
    #: How long to wait for the webcam alert before submitting anyway (the summary shows it).
    alert_timeout_s: float = 120.0
    #: Seconds between a scripted candidate's answers (kiosk 1 keeps answering while it is watched).
    pace_s: float = 0.5
    #: Later candidates (cand-004 onwards in demo/roster.csv) who sit after the first one on each
    #: scripted kiosk, so the item analysis has a cohort to work on (a morning and afternoon session).
    later_sittings: int = 0
    #: The central body on a private PostgreSQL cluster (started and stopped here) instead of SQLite.
    postgres: bool = False


class Demo:
    def __init__(self, options: DemoOptions) -> None:
        self.o = options
        self.say = options.say
        self.work = options.workdir.resolve()
        self.central_dir, self.console_dir = self.work / "central", self.work / "console"
        self.logs = self.work / "logs"
        self.supervisor = Supervisor(self.logs)
        self.passwords = {PROCTOR_NAME: secrets.token_urlsafe(12), ADMIN_NAME: secrets.token_urlsafe(12)}
        self.proctor: Proctor | None = None
        self.proctor_lock = threading.Lock()
        self.forms: list[str] = []
        self.packages: dict[str, str] = {}
        self.seats: list[Seat] = []
        self.hub_url = self.console_url = ""
        self.hub_fingerprint = ""
        self.reports: list[str] = []
        self.later_submitted: list[str] = []
        self.cluster: Any = None  # simulators.postgres.PrivateCluster with --postgres
        #: Files the after-exam phase wrote (issued credential, served JWKS and status list, evidence pack).
        self.certification_files: dict[str, str] = {}
        #: The public site (portal, verification, keys, status lists) and its SMTP relay, once started.
        self.site: PublicSite | None = None
        #: The first three seats' candidates (candidate id, name): the session's signed roster once
        #: ``before_exam`` ran, else demo/roster.csv's first three.
        self.first_candidates = [("cand-001", "Ada Lovelace"), ("cand-002", "Alan Turing"),
                                 ("cand-003", "Grace Hopper")]

    # --- the run --------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        try:
            self.prepare()
            self.central_database()
            self.central_body()
            self.test_centre()
            self.before_exam()
            self.start_kiosks()
            self.sit_exam()
            self.drain_and_stop_kiosks()
            self.return_results()
            if self.site is not None:
                self.certification_files = certification.after_exam(self, self.site, CENTRE_ID, SCHEME_ID)
            return self.summary()
        finally:
            if self.proctor is not None:
                self.proctor.close()
            self.supervisor.stop_all()
            if self.site is not None:
                self.site.stop()
            self.stop_central_database()

    def prepare(self) -> None:
        if self.work.exists():
            shutil.rmtree(self.work)
        self.logs.mkdir(parents=True)
        self.item_keys = load_item_keys(DEMO_DIR / "items")

    def central_database(self) -> None:
        """With ``--postgres``: a private cluster (simulators/postgres.py) holding the central body's
        database, named to every central command this demo runs (its own processes and the hub) by
        ``INVIGIL_CENTRAL_DB``, as a production body's workers are."""
        if not self.o.postgres:
            return
        from simulators.postgres import PrivateCluster

        self.cluster = PrivateCluster().start()
        os.environ["INVIGIL_CENTRAL_DB"] = self.cluster.create_database("central")
        self.say(f"central database: PostgreSQL (private cluster in {self.cluster.root})")

    def stop_central_database(self) -> None:
        if self.cluster is not None:
            os.environ.pop("INVIGIL_CENTRAL_DB", None)
            self.cluster.stop()
            self.cluster = None

    def central_body(self) -> None:
        c = self.central_dir
        info = commands.central(c, "init", "--body-id", "demo-body", "--name", "Demo Certification Body")
        self.say(f"central body created: signing key {info['signing_key_id']}, results key ({info['results_suite']})")
        imported = commands.central(c, "import", str(DEMO_DIR / "items"), "--by", "rita.author")
        self.say(f"imported {len(imported['imported'])} items ({self._types(imported)})")
        approved = commands.review_and_approve_all(c, reviewer="rob.reviewer", approver="ann.approver")
        self.say(f"reviewed and approved {approved} items (two people, recorded)")
        commands.central(c, "schemes", "add", str(DEMO_DIR / "scheme.yaml"))
        built = commands.central(c, "forms", "build", "--scheme", SCHEME_ID, "--count", "2", "--seed", "7")
        self.forms = [f["form_id"] for f in built["forms"]]
        self.say(f"assembled two parallel forms {', '.join(self.forms)} (overlap {built['max_overlap']} items)")

    @staticmethod
    def _types(imported: dict[str, Any]) -> str:
        counts: dict[str, int] = {}
        for row in imported["imported"]:
            counts[row["interaction"]] = counts.get(row["interaction"], 0) + 1
        return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))

    def test_centre(self) -> None:
        con, c = self.console_dir, self.central_dir
        init = commands.console(con, "init", "--centre-id", CENTRE_ID, "--name", "Riverside Test Centre")
        enrolled = commands.central(c, "centres", "add", "--request", init["enrolment_request"], "--by", "carl.admin")
        commands.console(con, "certificate", "install", enrolled["certificate_bundle"])
        self.say(f"test centre {CENTRE_ID} enrolled and certified (serial {enrolled['serial']})")
        now = datetime.now(UTC).replace(microsecond=0)
        window = [(now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=8)).isoformat()]
        for form_id in self.forms:
            pkg = commands.central(c, "publish", "--form", form_id, "--centre", CENTRE_ID, "--opens", window[0],
                                   "--closes", window[1], "--by", "carl.admin")
            self.packages[form_id] = pkg["package_id"]
        self.say(f"published {len(self.packages)} sealed packages for {CENTRE_ID}")
        self._start_hub()
        report = self.sync()
        self.say(f"console synced with the central body: {len(report['packages_imported'])} packages imported")
        commands.console(con, "roster", "import", str(DEMO_DIR / "roster.csv"))
        commands.console(con, "users", "add", PROCTOR_NAME, "--role", "proctor", "--password-stdin",
                         stdin=self.passwords[PROCTOR_NAME] + "\n", as_json=False)
        commands.console(con, "users", "add", ADMIN_NAME, "--role", "centre_admin", "--password-stdin",
                         stdin=self.passwords[ADMIN_NAME] + "\n", as_json=False)
        self._allow_kiosk_release()
        port = free_port()
        node = self.supervisor.start("console", "proctor_console",
                                     ["--data", str(con), "serve", "--host", "127.0.0.1", "--port", str(port)])
        wait_for_port(port, 60, node.process, node.log)
        if tls_fingerprint("127.0.0.1", port) != init["tls_fingerprint_sha256"]:
            raise DemoError("the console presents a TLS certificate other than the one `init` made")
        self.console_url = f"https://127.0.0.1:{port}"
        self.say(f"proctor console serving on {self.console_url} (TLS certificate checked)")

    def before_exam(self) -> None:
        """People apply, book and are put on a session's signed roster, which the console takes in
        on its next sync; the three booked sit first (kiosks 1-3), admitted from that roster. The
        later candidates still come from demo/roster.csv (a centre without the body's sessions)."""
        self.site = PublicSite(self.central_dir, self.supervisor)
        commands.central(self.central_dir, "certificates", "setup", "--public-url", self.site.url, "--by", "carl.admin")
        self.say(f"public site (candidate portal, certificate verification) on {self.site.url}, "
                 f"its mail through an SMTP relay on 127.0.0.1:{self.site.smtp.port}")
        self.first_candidates = lifecycle.before_exam(self, self.site, CENTRE_ID, SCHEME_ID)
        report = self.sync()
        self.say(f"console synced: {len(report.get('rosters_imported', []))} signed roster(s) verified and taken in")
        for candidate_id, _ in self.first_candidates:  # the session is planned days ahead (booking cut-off)
            commands.console(self.console_dir, "roster", "allow-outside-window", candidate_id, "--reason",
                             "demo: the session is planned days ahead and sat today", "--by", ADMIN_NAME, as_json=False)

    def _allow_kiosk_release(self) -> None:
        """Put the release measurement of this code tree on the console's allow-list, as a centre
        administrator does for a release build: the console then refuses to start exams on any
        kiosk that runs other code (every demo kiosk runs this tree with the default policy)."""
        done = subprocess.run([sys.executable, "-m", "hardening", "measure", "--json"], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise DemoError(f"`python -m hardening measure --json` failed: {done.stderr.strip()[-500:]}")
        digest = json.loads(done.stdout)["digest"]
        commands.console(self.console_dir, "release-allowlist", "add", digest, "--release", "demo",
                         "--by", ADMIN_NAME)
        self.say(f"kiosk release measurement {digest[:16]}... on the console's allow-list")

    def _start_hub(self) -> None:
        port = free_port()
        node = self.supervisor.start("central", "item_bank_sync",
                                     ["--data", str(self.central_dir), "serve", "--host", "127.0.0.1",
                                      "--port", str(port)])
        wait_for_port(port, 60, node.process, node.log)
        self.hub_url = f"https://127.0.0.1:{port}"
        self.hub_fingerprint = tls_fingerprint("127.0.0.1", port)
        self.say(f"central sync API on {self.hub_url}")

    def demo_seats(self) -> list[Seat]:
        form_a, form_b = self.packages[self.forms[0]], self.packages[self.forms[1]]
        third = "steady" if self.o.scripted else "person"
        (one, _), (two, _), (three, _) = self.first_candidates
        return [Seat("kiosk-01", one, form_a, LEAVING_CAMERA, "webcam-alert"),
                Seat("kiosk-02", two, form_b, PRESENT_CAMERA, "kill-9"),
                Seat("kiosk-03", three, form_a, PRESENT_CAMERA, third)]

    def start_kiosks(self, seats: list[Seat] | None = None) -> None:
        """Pair and start each seat's kiosk (one-time code from `proctor_console pair`), then log in."""
        self.seats = seats if seats is not None else self.demo_seats()
        for seat in self.seats:
            code = commands.console(self.console_dir, "pair")["code"]
            seat.port = free_port()
            seat.node = self.supervisor.start(seat.kiosk_id, "kiosk", [*self._kiosk_args(seat), "--pair-code", code],
                                              extra_env=seat.env, drop_env=("DISPLAY",))
        for seat in self.seats:
            wait_for_port(seat.port, 60, seat.kiosk_node.process, seat.kiosk_node.log)
            seat.client = KioskClient(seat.port)
            seat.kiosk.load_page()
            wait_for(seat.kiosk.connected_to_console, 60, f"{seat.kiosk_id} on the console")
        self.say(f"{len(self.seats)} kiosks paired (one-time codes, pinned TLS) and logged in to the console")
        self.proctor = Proctor(self.console_url, PROCTOR_NAME, self.passwords[PROCTOR_NAME])

    def _kiosk_args(self, seat: Seat) -> list[str]:
        return ["run", "--data", str(self.work / seat.kiosk_id), "--no-browser", "--port", str(seat.port),
                "--console", self.console_url, "--central-cert", str(self.central_dir / "keys" / "central.cert"),
                "--kiosk-id", seat.kiosk_id, "--camera", seat.camera]

    def act(self, kind: str, **payload: Any) -> dict[str, Any]:
        with self.proctor_lock:
            if self.proctor is None:
                raise DemoError("the proctor has not logged in yet")
            return self.proctor.act(kind, **payload)

    # --- the exam -------------------------------------------------------------------------------
    def sit_exam(self) -> None:
        threads, errors = [], []
        for seat in self.seats:
            self.act("admit", kiosk_id=seat.kiosk_id, candidate_id=seat.candidate_id, package_id=seat.package_id,
                     identity_checked=True)
        self.say(f"proctor admitted three candidates (identity checked): "
                 f"{', '.join(name for _, name in self.first_candidates)}")
        if not self.o.scripted:
            self._print_interactive_urls()

        def sit(seat: Seat) -> None:
            try:
                self._sit(seat)
            except Exception as exc:  # noqa: BLE001 - reported after every candidate finished
                errors.append(f"{seat.kiosk_id} ({seat.role}): {type(exc).__name__}: {exc}")
        for seat in self.seats:
            thread = threading.Thread(target=sit, args=(seat,), name=seat.kiosk_id, daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        if errors:
            raise DemoError("a candidate could not finish:\n  " + "\n  ".join(errors))
        if self.later_submitted:
            self.say(f"{len(self.later_submitted)} later candidates sat and submitted on the same kiosks")

    def _print_interactive_urls(self) -> None:
        person = self.seats[2]
        self.say("")
        self.say(f"  Proctor dashboard: {self.console_url}/dashboard")
        self.say(f"      login {PROCTOR_NAME} / {self.passwords[PROCTOR_NAME]}  (centre admin: {ADMIN_NAME} / "
                 f"{self.passwords[ADMIN_NAME]})  - the certificate is self-signed: accept it in the browser")
        self.say(f"  Your exam (kiosk-03, {self.first_candidates[2][1]}): http://127.0.0.1:{person.port}/")
        self.say("  Confirm your identity there; the proctor starts your exam. Ctrl+C stops everything.")
        self.say("")

    def _sit(self, seat: Seat) -> None:
        if seat.role == "person":
            later = {"awaiting_start", "agreement", "instructions", "exam", "submitted"}
            wait_for(lambda: seat.kiosk.state()["screen"] in later, 24 * 3600, "the person to confirm identity")
            try:
                self.start_exam(seat)
            except DemoError:
                if seat.kiosk.state()["screen"] == "awaiting_start":
                    raise
                # The person started it from the dashboard first: nothing left to do.
            self.say("kiosk-03: exam started for the person at the browser")
            seat.kiosk.wait_screen("submitted", timeout=24 * 3600)
            return
        candidate = self.begin(seat)
        total = candidate.item_count()
        if seat.role == "kill-9":
            half = total // 2
            candidate.answer_items(range(half))
            self.say(f"{seat.kiosk_id}: kill -9 after {half} of {total} answers")
            self.kill9_and_resume(seat)
            self.say(f"{seat.kiosk_id}: resumed after proctor approval; remaining time "
                     f"{seat.outcome['remaining_before_ms']} ms before the kill, {seat.outcome['remaining_after_ms']}"
                     f" ms after ({seat.outcome['outage_s']} s outage not charged)")
            candidate.answer_items(range(half, total))
        else:
            candidate.answer_items(range(total))
        if seat.role == "webcam-alert":
            self._wait_for_alert(seat)
        self.submit(seat)
        for candidate_id in self._later_candidates(seat):
            self.sit_later(seat, candidate_id)

    def _later_candidates(self, seat: Seat) -> list[str]:
        """This kiosk's share of the later sittings (dealt round the scripted kiosks)."""
        scripted = [s.kiosk_id for s in self.seats if s.role != "person"]
        ids = [f"cand-{n:03d}" for n in range(4, 4 + self.o.later_sittings)]
        return ids[scripted.index(seat.kiosk_id)::len(scripted)]

    def sit_later(self, seat: Seat, candidate_id: str) -> None:
        """The next candidate on a kiosk whose previous candidate submitted: admit, sit, submit."""
        number = int(candidate_id[-3:])
        package_id = list(self.packages.values())[number % 2]
        later = Seat(seat.kiosk_id, candidate_id, package_id, seat.camera, "steady", env=seat.env, port=seat.port,
                     node=seat.node, client=seat.client)
        wait_for(lambda: self._attempt_state(seat.kiosk_id) == "submitted", 60,
                 f"the console to record {seat.kiosk_id}'s submission")
        self.act("admit", kiosk_id=seat.kiosk_id, candidate_id=candidate_id, package_id=package_id,
                 identity_checked=True)
        ability = random.Random(candidate_id).gauss(0.0, 1.0)
        candidate = self.begin(later, ability=ability)
        candidate.pace_s = 0.0
        candidate.answer_items(range(candidate.item_count()))
        later.kiosk.post("submit", {"confirm": True})
        self.later_submitted.append(candidate_id)

    def _attempt_state(self, kiosk_id: str) -> str | None:
        return self._console_value("SELECT state FROM attempts WHERE kiosk_id = ? ORDER BY admitted_at DESC LIMIT 1",
                                   kiosk_id)

    def begin(self, seat: Seat, ability: float | None = None) -> Candidate:
        """An admitted candidate confirms identity, the proctor starts, the candidate begins."""
        kiosk = seat.kiosk
        kiosk.wait_screen("identity")
        kiosk.post("confirm_identity")
        kiosk.wait_screen("awaiting_start")
        self.start_exam(seat)
        notice = kiosk.wait_screen("agreement")["monitoring"]  # read, and acknowledged with the agreement
        kiosk.post("agreement", {"accepted": True, "monitoring_notice": notice["sha256"]})
        kiosk.post("begin")
        kiosk.wait_screen("exam")
        if ability is None:
            ability = {"webcam-alert": 1.0, "kill-9": 0.0}.get(seat.role, -0.5)
        return Candidate(seat.candidate_id, kiosk, self.item_keys, ability=ability, seed=int(seat.kiosk_id[-2:]),
                         pace_s=self.o.pace_s)

    def start_exam(self, seat: Seat) -> None:
        """The proctor's start (key release), once the kiosk holds the encrypted package."""
        wait_for(lambda: (self.work / seat.kiosk_id / "packages" / f"{seat.package_id}.pkg").exists(), 60,
                 f"{seat.kiosk_id} to fetch its package")
        self.act("start", kiosk_id=seat.kiosk_id)

    def submit(self, seat: Seat) -> str:
        seat.outcome["receipt_code"] = seat.kiosk.post("submit", {"confirm": True})["receipt_code"]
        self.say(f"{seat.kiosk_id}: {seat.candidate_id} submitted, receipt {seat.outcome['receipt_code']}")
        return seat.outcome["receipt_code"]

    def kill9_and_resume(self, seat: Seat) -> None:
        """SIGKILL the kiosk, start it again, and let the proctor approve the resume."""
        before = seat.kiosk.state()["timer"]["remaining_ms"]
        seat.kiosk_node.kill9()
        down = time.monotonic()
        self.supervisor.restart(seat.kiosk_node, self._kiosk_args(seat))
        wait_for_port(seat.port, 60, seat.kiosk_node.process, seat.kiosk_node.log)
        seat.kiosk.load_page()
        seat.kiosk.wait_screen("resume_wait")
        wait_for(lambda: seat.kiosk.state()["console_connected"], 60, f"{seat.kiosk_id} back on the console")
        self.act("approve_resume", kiosk_id=seat.kiosk_id)
        after = seat.kiosk.wait_screen("exam")["timer"]["remaining_ms"]
        seat.outcome.update(remaining_before_ms=before, remaining_after_ms=after,
                            outage_s=round(time.monotonic() - down, 1))

    def restart_console(self, down_s: float = 0.0, sig: int = 9) -> None:
        """Stop the console (SIGKILL by default), keep it down ``down_s`` seconds, start it again."""
        node = next(n for n in self.supervisor.nodes if n.name == "console")
        if sig == 9:
            node.kill9()
        else:
            node.stop()
        if self.proctor is not None:
            self.proctor.close()
        time.sleep(down_s)
        node.start()
        port = int(self.console_url.rsplit(":", 1)[1])
        wait_for_port(port, 60, node.process, node.log)
        with self.proctor_lock:
            self.proctor = Proctor(self.console_url, PROCTOR_NAME, self.passwords[PROCTOR_NAME])

    def restart_hub(self) -> None:
        """SIGKILL the central sync API and start it again on the same port."""
        node = next(n for n in self.supervisor.nodes if n.name == "central")
        node.kill9()
        node.start()
        wait_for_port(int(self.hub_url.rsplit(":", 1)[1]), 60, node.process, node.log)

    def sync(self) -> dict[str, Any]:
        return commands.console(self.console_dir, "sync", "--hub", self.hub_url, "--tls-fingerprint",
                                self.hub_fingerprint)

    def _wait_for_alert(self, seat: Seat) -> None:
        """Keep the candidate seated until the console shows the webcam alert (or give up and say so)."""
        try:
            wait_for(lambda: self._alert_count(seat.kiosk_id) > 0, self.o.alert_timeout_s,
                     f"a webcam alert from {seat.kiosk_id}")
            self.say(f"{seat.kiosk_id}: webcam alert raised at the console (candidate left the desk)")
        except DemoError as exc:
            self.say(f"{seat.kiosk_id}: {exc}")

    def _alert_count(self, kiosk_id: str) -> int:
        return self._console_value("SELECT count(*) FROM alerts WHERE kiosk_id = ?", kiosk_id)

    def _console_value(self, sql: str, *args: Any) -> Any:
        """One value from the console's database, read-only (what the dashboard would show)."""
        with closing(sqlite3.connect(f"file:{self.console_dir / 'console.db'}?mode=ro", uri=True)) as db:
            row = db.execute(sql, args).fetchone()
        return row[0] if row else None

    # --- after the exam -------------------------------------------------------------------------
    def _drained(self, seat: Seat, outbox: str) -> bool:
        """True when the kiosk's outbox holds none of ``outbox`` (pending_envelopes, pending_events)."""
        return kiosk_counts(self.work / seat.kiosk_id)[outbox] == 0

    def drain_and_stop_kiosks(self) -> None:
        """Wait until every kiosk's outbox is empty (all acked), then stop the kiosks (SIGTERM)."""
        for seat in self.seats:
            wait_for(functools.partial(self._drained, seat, "pending_envelopes"), 60,
                     f"{seat.kiosk_id}'s envelope to be acknowledged by the console")
            wait_for(functools.partial(self._drained, seat, "pending_events"), 60,
                     f"{seat.kiosk_id}'s events to be acknowledged by the console")
        for seat in self.seats:
            seat.kiosk_node.stop()
        self.say("every kiosk outbox drained; kiosks stopped")

    def return_results(self) -> None:
        report = self.sync()
        self.say(f"console synced: {report['envelopes_receipted']} envelopes receipted by the central body, "
                 f"{len(report['envelopes_kept'])} kept")
        reports_dir = self.work / "reports"
        reports_dir.mkdir(exist_ok=True)
        for form_id in self.forms:
            html = reports_dir / f"item-analysis-{form_id}.html"
            try:
                commands.central(self.central_dir, "analyze", "--form", form_id, "--html", str(html), "--write-stats")
            except DemoError as exc:
                self.say(f"item analysis of {form_id} not written: {exc}")
                continue
            self.reports.append(str(html))
        for package_id in self.packages.values():
            commands.console(self.console_dir, "report", package_id, "-o",
                             str(reports_dir / f"session-{package_id}.html"), as_json=False)
        results = commands.run("item_bank_sync", self.central_dir, "results", "export", as_json=False)
        (reports_dir / "results.csv").write_text(results)
        self.say(f"scored; item analysis and session reports in {reports_dir}")

    def summary(self) -> dict[str, Any]:
        out = summarise([self.work / s.kiosk_id for s in self.seats], self.console_dir, self.central_dir,
                        self.reports[0] if self.reports else None)
        out["reports"] = self.reports
        out.update(lifecycle_counts(self.central_dir, self.console_dir))
        out.update(self.certification_files)
        kill9 = next((s for s in self.seats if s.role == "kill-9"), None)
        if kill9 is not None and "remaining_before_ms" in kill9.outcome:
            out["resume_timer_drift_ms"] = kill9.outcome["remaining_before_ms"] - kill9.outcome["remaining_after_ms"]
        out["central_db"] = "postgresql" if self.o.postgres else "sqlite"
        out["workdir"] = str(self.work)
        return out


def run_demo(options: DemoOptions) -> dict[str, Any]:
    return Demo(options).run()


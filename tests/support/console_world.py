"""A console world for tests: a real console data directory, a real server process, simulated kiosks.

The central body's part (root key, centre certificate, a signed form package) is produced here
with ``exam_core`` directly, the same calls ``item_bank_sync`` makes; everything the console does
is exercised through its CLI and its network endpoints. The pytest fixtures that build it are in
``tests/console/conftest.py``; the kiosk tests build the same world with these helpers.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator

import requests
import urllib3

from exam_core import certs, keys, pairing, protocol, sync_wire
from exam_core.jsonio import b64e
from exam_core.timestamps import utc_now
from exam_core.model import AccommodationPolicy
from exam_core.package import build_form_package
from proctor_console.context import ConsoleContext
from simulators.kiosk import SimKiosk
from simulators.proctor import ProctorSocket
from tests.support.tools import REPO_ROOT

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)

ADMIN, PROCTOR, PROCTOR2 = "admin", "paula", "peter"
PASSWORD = "correct horse battery"
ROSTER = """candidate_id,name,scheme,seat,accommodations
cand-1,Ada Lovelace,scheme-a,A1,
cand-2,Alan Turing,scheme-a,A2,"{""extra_time_percent"": 25}"
cand-3,Grace Hopper,scheme-a,A3,
"""


def wait_until(predicate: Callable[..., Any], timeout: float = 15.0) -> Any:
    # Callable[...]: loops pass lambdas that bind their loop variable as a default (lambda s=s: ...)
    """Poll ``predicate`` until it returns something true (what a kiosk or browser does arrives async)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def app_client(server: Any, address: str = "127.0.0.1") -> Any:
    """A Flask test client of an in-process console (``proctor_console.app.build_console``, threading
    mode, no sockets)."""
    client = server.app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # Secure cookies travel only over HTTPS
    client.environ_base["REMOTE_ADDR"] = address  # the login throttle counts per address
    return client


def form_csrf(client: Any, path: str = "/login") -> str:
    """The CSRF token a page's forms carry."""
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def app_login(server: Any, user: str, password: str = PASSWORD, address: str = "127.0.0.1") -> tuple[Any, Any]:
    """Log in through the login form; returns ``(client, reply)`` (302 on success)."""
    client = app_client(server, address)
    reply = client.post("/login", data={"csrf": form_csrf(client), "name": user, "password": password})
    return client, reply


@contextmanager
def console_tab(browser: Any) -> Iterator[Any]:
    """A Chromium page in its own context that accepts the console's self-signed certificate;
    ``page.errors`` collects the page's console errors (a CSP violation shows up there)."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    try:
        yield page
    finally:
        context.close()


def cli(data: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "proctor_console", "--data", str(data), *args],
                            input=stdin, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"proctor_console {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@dataclass
class Central:
    key: Any
    root_cert: bytes

    def certify_centre(self, request_bytes: bytes) -> dict[str, str]:
        request = sync_wire.open_enrolment_request(request_bytes)
        centre_cert = certs.issue_certificate(
            self.key, "central", request.centre_id, certs.ROLE_CENTRE,
            keys.signing_public_from_dict(request.signing_key), keys.hpke_public_from_dict(request.hpke_key))
        return {"centre_certificate": centre_cert.decode(), "root_certificate": self.root_cert.decode()}


def make_central() -> Central:
    """A central body: a root signing key and its self-signed root certificate."""
    key = keys.generate_signing_key()
    return Central(key, certs.make_root_certificate(key, "central"))


@dataclass
class ConsoleSetup:
    data: Path
    central: Central
    packages: dict[str, Path] = field(default_factory=dict)
    release_codes: dict[str, str] = field(default_factory=dict)


def make_package(setup: ConsoleSetup, package_id: str, *, opens_in: timedelta = timedelta(hours=-1),
                 closes_in: timedelta = timedelta(hours=3), release_code: bool = False, form_id: str = "form-1",
                 accommodation_policy: AccommodationPolicy | None = None) -> Path:
    """A package of scheme-a (a 60-minute form) for the console, with the scheme's accommodation
    policy in its manifest when given."""
    hpke_public = keys.load_hpke_public_key(setup.data / "keys" / "centre-hpke.pub")
    now = utc_now()
    data, code = build_form_package(
        b"form content: items would be here", package_id=package_id, form_id=form_id, form_version=1,
        scheme_id="scheme-a", centre_id="centre-1", opens=now + opens_in, closes=now + closes_in,
        signing_key=setup.central.key, centre_hpke_public=hpke_public, with_release_code=release_code,
        title=f"Form 1 ({package_id})", duration_seconds=3600, item_count=40,
        accommodation_policy=accommodation_policy)
    path = setup.data.parent / f"{package_id}.zip"
    path.write_bytes(data)
    if code:
        setup.release_codes[package_id] = code
    return path


def set_up_console(tmp_path: Path, central: Central) -> ConsoleSetup:
    """An initialised, certified console with users, a roster and one open package ``pkg-open``,
    made with the console's own CLI (eight processes)."""
    data = tmp_path / "console"
    cli(data, "init", "--centre-id", "centre-1", "--name", "Test Centre")
    bundle = tmp_path / "centre-cert.json"
    bundle.write_text(json.dumps(central.certify_centre((data / "enrolment-request.json").read_bytes())))
    cli(data, "certificate", "install", str(bundle))
    cli(data, "users", "add", ADMIN, "--role", "centre_admin", "--password-stdin", stdin=PASSWORD + "\n")
    cli(data, "users", "add", PROCTOR, "--role", "proctor", "--password-stdin", stdin=PASSWORD + "\n")
    cli(data, "users", "add", PROCTOR2, "--role", "proctor", "--password-stdin", stdin=PASSWORD + "\n")
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    cli(data, "roster", "import", str(roster))
    setup = ConsoleSetup(data, central)
    setup.packages["pkg-open"] = make_package(setup, "pkg-open")
    cli(data, "packages", "import", str(setup.packages["pkg-open"]))
    return setup


def make_console(tmp_path: Path, central: Central) -> ConsoleSetup:
    """A certified console made in-process (``init`` and ``certificate install`` as the CLI does them,
    no users, no roster): quick, for the tests of one service."""
    ctx = ConsoleContext(tmp_path / "console")
    ctx.initialise("centre-1", "Test Centre")
    ctx.install_certificate(json.dumps(central.certify_centre(ctx.enrolment_request_path.read_bytes())).encode(), None)
    return ConsoleSetup(ctx.data, central)


def pair_kiosk(registry: Any, kiosk_id: str) -> tuple[pairing.PairResponse, Any]:
    """Pair a kiosk through ``KioskRegistry.pair`` with fresh keys, as a kiosk would over HTTP;
    returns the pairing response and the kiosk's HPKE key (to unwrap what is released to it)."""
    code, _ = registry.new_code("test")
    signing_key, hpke_key = keys.generate_signing_key(), keys.generate_hpke_key(keys.SUITE_X25519)
    request = pairing.PairRequest(kiosk_id=kiosk_id, signing_key=keys.public_key_to_dict(signing_key.public_key()),
                                  hpke_key=keys.public_key_to_dict(hpke_key.public_key()),
                                  nonce=b64e(secrets.token_bytes(16)))
    reply = registry.pair(pairing.seal_pairing(code, pairing.PAIRING_REQUEST, request.to_dict()), "test")
    return pairing.PairResponse.from_dict(pairing.open_pairing(code, pairing.PAIRING_RESPONSE, reply)), hpke_key


@dataclass
class RunningConsole:
    setup: ConsoleSetup
    server: Any  # tests.conftest.LiveServer

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    def pairing_code(self) -> str:
        return json.loads(cli(self.setup.data, "pair", "--json"))["code"]

    def kiosk(self, kiosk_id: str, connect: bool = True) -> SimKiosk:
        kiosk = SimKiosk(self.url, kiosk_id, verify=False)
        kiosk.pair(self.pairing_code())
        if connect:
            kiosk.connect()
        return kiosk

    def login(self, user: str = PROCTOR, password: str = PASSWORD) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=False
        session.verify = False
        page = session.get(self.url + "/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        reply = session.post(self.url + "/login", data={"csrf": token, "name": user, "password": password},
                             allow_redirects=False)
        if reply.status_code != 302:
            raise AssertionError(f"login as {user} failed: {reply.status_code}")
        return session

    def proctor_socket(self, session: requests.Session) -> tuple[ProctorSocket, str, list]:
        """A python-socketio client on /proctor using a logged-in session; returns (client, csrf, received)."""
        page = session.get(self.url + "/dashboard")
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        received: list[tuple[str, Any]] = []
        client = ProctorSocket()
        client.on("*", lambda event, data: received.append((event, data)), namespace=protocol.PROCTOR_NAMESPACE)
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        client.connect(self.url, namespaces=[protocol.PROCTOR_NAMESPACE], headers={"Cookie": cookie},
                       auth={"csrf": csrf}, transports=["websocket"], wait_timeout=10)
        return client, csrf, received


def start_console(data: Path, log_dir: Path) -> Any:
    """``python -m proctor_console serve`` as a real process (HTTPS) via the shared LiveServer."""
    import os

    from tests.support.live_server import LiveServer, launch as _launch
    from tests.support.ports import find_free_port, wait_for_port
    port = find_free_port()
    args = ["--data", str(data), "serve", "--host", "127.0.0.1", "--port", "{port}"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = log_dir / f"console-{port}.log"
    server = LiveServer("proctor_console", args, port, _launch("proctor_console", args, port, env, log), log, env)
    wait_for_port(port, timeout=30, process=server.process)
    return server


def let_sit_again(data: Path, *candidate_ids: str, reason: str = "the test admits this candidate again") -> None:
    """A centre admin allows each candidate who has already sat one more admission (issue 13: a
    second admission is refused without it). For tests about other things that reuse the roster's
    three candidates in one console; the re-admission itself is tested in tests/console/test_admission.py."""
    from proctor_console import services
    from proctor_console.accounts import User

    candidates = services.candidates(ConsoleContext(data))
    sat = candidates.attempts.sittings(list(candidate_ids))
    for candidate_id in candidate_ids:
        if candidate_id in sat and candidates.readmissions.pending(candidate_id) is None:
            candidates.allow_readmission(User(ADMIN, "centre_admin"), candidate_id, reason)


class _SourceAddress(requests.adapters.HTTPAdapter):
    """Connections from another loopback address: all of 127/8 is this machine, and the console
    sees each as another client (its per-address throttles and back-offs tell them apart)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def session_from(address: str) -> requests.Session:
    """A requests session whose HTTPS connections come from ``address`` (e.g. ``127.0.0.2``)."""
    session = requests.Session()
    session.trust_env, session.verify = False, False
    session.mount("https://", _SourceAddress(address))
    return session


def axe(page: Any, where: str) -> list[str]:
    """axe-core's serious and critical violations on ``page``, each named with ``where``."""
    page.add_script_tag(path=str(REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{where}: {v['id']} ({v['impact']}) {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def browser_login(page: Any, url: str, user: str) -> None:
    """Sign ``user`` in on the console's login page in a browser, landing on the dashboard."""
    page.goto(url + "/login")
    page.fill("input[name=name]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/dashboard")

"""The synchronized start at a large centre (issue 14, item 5b): N admitted kiosks, one "start all".

A real console server (``python -m proctor_console serve``, HTTPS, gevent) on 127.0.0.1; N
simulated kiosks paired with one-time codes and logged in over the real ``/kiosk`` link, spread
over several worker processes (one process of 500 asyncio clients would make the harness, not the
console, the bottleneck); a proctor logged in through the login form and holding the dashboard's
CSRF token on ``/proctor``. Set-up (not measured): every kiosk admitted with the proctor's
``admit`` action and its package fetched in chunks over the link, and ``BUSY`` other kiosks
started and answering (one event a second each, as a candidate's answers and monitors produce).

Measured, all on one machine clock:

- **storm**: the dashboard's "Start all admitted" sends one ``start`` action per admitted seat at
  once (``dashboard.js`` ``startAll`` -> ``actOnSeats``: a Promise per seat on the one socket); the
  bench does the same on the same socket path. The figure is the time from the first action sent
  to the last kiosk showing its first item: the start command received, the released key
  unwrapped, the package's manifest signature checked and its content decrypted, item 1 parsed.
- **refused**: start actions the console answered not ok, plus kiosks that never reached item 1.
- **event latency** of the busy kiosks (send -> the console's durable ack) while the storm runs,
  against the same kiosks' latency in the quiet seconds before it.
- **raw baseline**: one kiosk's start alone, action to first item, in the same run; the storm
  figure's ratio to it is how much a start costs when 500 arrive together.

Usage: ``python -m bench start-storm [--quick] [--kiosks N]`` (quick: 100 kiosks; full: N/2 and
N, N = 500 by default, for how it grows), or ``python -m bench.start_storm --kiosks N``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import queue
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import Figure, free_port, percentile

KIOSKS_PER_WORKER = 50
#: Kiosks of one worker logging in at once (set-up: challenge fetch, TLS, hello).
CONNECTS_AT_ONCE = 3
CONNECT_TRIES = 4
EVENT_TRIES = 10
BUSY_PREFIX = "busy-"
BUSY_KIOSKS = 50
#: Events a second each busy kiosk sends while the storm runs (its candidate answering).
BUSY_EVENT_RATE = 1.0
HEARTBEAT_SECONDS = 5.0
#: Seconds of busy kiosks' events before the storm: the quiet latency the storm is compared with.
QUIET_SECONDS = 5.0
#: Set-up actions (admissions, the busy kiosks' starts) in flight at once: set-up is not measured.
SETUP_CONCURRENCY = 20
STORM_TIMEOUT = 600.0
PASSWORD = "bench-password-123"
PROCTOR = "bench"
PACKAGE_ID = "pkg-storm"
ITEMS = 60
REPO = Path(__file__).resolve().parents[1]


# --- the console's world (central body's part made here with exam_core, as the tests do) ---------

@dataclass
class World:
    data: Path
    root_public_raw: bytes
    #: Each kiosk's id and its private keys' documents (signing, HPKE), paired with the console.
    kiosks: list[tuple[str, bytes, bytes]]
    candidates: list[str]


def _form_content() -> bytes:
    """A form of ``ITEMS`` items, about the size of a real one (the kiosk decrypts all of it)."""
    items = [{"item_id": f"item-{i:03d}", "stem": f"Question {i}: " + "lorem ipsum " * 80,
              "options": [f"option {c} " * 10 for c in "ABCD"]} for i in range(ITEMS)]
    return json.dumps({"items": items}).encode()


def make_world(tmp: Path, kiosk_ids: list[str]) -> World:
    """A certified console with a proctor, a roster of one candidate per kiosk, one open package,
    and the kiosks paired."""
    from exam_core import certs, keys, sync_wire
    from exam_core.package import build_form_package
    from exam_core.timestamps import utc_now
    from proctor_console import services
    from proctor_console.context import ConsoleContext

    central = keys.generate_signing_key()
    root_cert = certs.make_root_certificate(central, "central")
    ctx = ConsoleContext(tmp / "console")
    ctx.initialise("storm-centre", "Storm Centre")
    request = sync_wire.open_enrolment_request(ctx.enrolment_request_path.read_bytes())
    centre_cert = certs.issue_certificate(central, "central", request.centre_id, certs.ROLE_CENTRE,
                                          keys.signing_public_from_dict(request.signing_key),
                                          keys.hpke_public_from_dict(request.hpke_key))
    ctx.install_certificate(json.dumps({"centre_certificate": centre_cert.decode(),
                                        "root_certificate": root_cert.decode()}).encode(), None)
    services.accounts(ctx).add(PROCTOR, "proctor", PASSWORD, by="bench")
    candidates = [f"cand-{i:04d}" for i in range(len(kiosk_ids))]
    roster = "candidate_id,name,scheme,seat,accommodations\n" + "".join(
        f"{c},Candidate {i},scheme-a,S{i:04d},\n" for i, c in enumerate(candidates))
    services.roster(ctx).import_csv(roster.encode(), "bench", by="bench")
    now = utc_now()
    data, _ = build_form_package(
        _form_content(), package_id=PACKAGE_ID, form_id="form-1", form_version=1, scheme_id="scheme-a",
        centre_id="storm-centre", opens=now - timedelta(hours=1), closes=now + timedelta(hours=3),
        signing_key=central, centre_hpke_public=keys.load_hpke_public_key(ctx.keys_dir / "centre-hpke.pub"),
        with_release_code=False, title="Storm form", duration_seconds=3600, item_count=ITEMS)
    services.packages(ctx).import_package(data, "bench", by="bench")
    registry = services.registry(ctx)
    paired = [_pair(registry, kiosk_id) for kiosk_id in kiosk_ids]
    return World(ctx.data, central.public_key().public_bytes_raw(), paired, candidates)


def _pair(registry: Any, kiosk_id: str) -> tuple[str, bytes, bytes]:
    """Pair one kiosk through ``KioskRegistry.pair``, the code behind the pairing endpoint, with a
    one-time code and a sealed request, as the kiosk does over HTTPS. In-process because pairing is
    set-up, not measured: 500 TLS handshakes and key checks over HTTPS took minutes on 2 cores.
    Returns the kiosk id and its private keys' documents (for the worker process that plays it)."""
    from exam_core import keys, pairing
    from exam_core.jsonio import b64e
    code, _ = registry.new_code("bench")
    signing_key, hpke_key = keys.generate_signing_key(), keys.generate_hpke_key(keys.SUITE_X25519)
    request = pairing.PairRequest(kiosk_id=kiosk_id, signing_key=keys.public_key_to_dict(signing_key.public_key()),
                                  hpke_key=keys.public_key_to_dict(hpke_key.public_key()),
                                  nonce=b64e(secrets.token_bytes(16)), software_version="bench")
    registry.pair(pairing.seal_pairing(code, pairing.PAIRING_REQUEST, request.to_dict()), "127.0.0.1")
    return kiosk_id, keys.private_key_document(signing_key), keys.private_key_document(hpke_key)


def start_server(data: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``python -m proctor_console serve`` as its own process; returns it and its URL once it listens."""
    import socket
    port = free_port()
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-m", "proctor_console", "--data", str(data), "serve",
                                 "--host", "127.0.0.1", "--port", str(port)], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=out)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"https://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"console did not start (log: {log})")


# --- kiosk workers (separate processes) ----------------------------------------------------------

@dataclass
class _Kiosk:
    """One simulated kiosk's state in a worker: what a kiosk keeps between commands."""

    sim: Any                      # simulators.kiosk.SimKiosk (keys, pairing)
    busy: bool
    sio: Any = None
    state: str = "idle"
    attempt_id: str | None = None
    package: bytes | None = None
    seq: int = 0
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)


def kiosk_worker(url: str, specs: list[tuple[str, bytes, bytes]], root_public_raw: bytes, reports: Any,
                 go_busy: Any, stop: Any) -> None:
    """One process, many kiosks on asyncio python-socketio clients; reports to the parent:
    ``("ready", n)``, ``("admitted", kiosk_id)`` once its package is fetched and checked,
    ``("first", kiosk_id, received, shown)`` when it shows item 1, ``("latencies", [(sent, s)])``."""
    import urllib3
    urllib3.disable_warnings()
    from exam_core import keys
    from simulators.kiosk import SimKiosk

    kiosks = []
    for kiosk_id, signing_doc, hpke_doc in specs:
        sim = SimKiosk(url, kiosk_id, verify=False)
        signing_key, hpke_key = keys.parse_private_key_document(signing_doc), keys.parse_private_key_document(hpke_doc)
        if isinstance(signing_key, keys.HpkePrivateKey) or not isinstance(hpke_key, keys.HpkePrivateKey):
            raise RuntimeError("kiosk keys of the wrong kinds")
        sim.signing_key, sim.hpke_key = signing_key, hpke_key
        kiosks.append(_Kiosk(sim, busy=kiosk_id.startswith(BUSY_PREFIX)))
    asyncio.run(_worker_main(url, kiosks, root_public_raw, reports, go_busy, stop))


async def _worker_main(url: str, kiosks: list[_Kiosk], root_public_raw: bytes, reports: Any, go_busy: Any,
                       stop: Any) -> None:
    from exam_core import keys
    root = keys.public_from_raw(keys.KIND_ED25519, root_public_raw)
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)

    async def connect(k: _Kiosk) -> None:
        async with gate:
            for attempt in range(CONNECT_TRIES):  # set-up on a busy machine: a timed-out login is tried again
                try:
                    k.sio = await _connect(url, k, root, reports)
                    return
                except Exception:  # the last try's failure is raised
                    if attempt == CONNECT_TRIES - 1:
                        raise
                    await asyncio.sleep(1 + attempt)
    await asyncio.gather(*(connect(k) for k in kiosks))
    reports.put(("ready", len(kiosks)))
    tasks = [asyncio.create_task(_heartbeats(k, stop)) for k in kiosks]
    while not go_busy.is_set():
        await asyncio.sleep(0.05)
    latencies = await asyncio.gather(*(_answer(k, stop) for k in kiosks if k.busy))
    while not stop.is_set():  # a worker without busy kiosks keeps its kiosks connected until the end
        await asyncio.sleep(0.1)
    reports.put(("latencies", [x for per in latencies for x in per]))
    for task in tasks:
        task.cancel()
    for k in kiosks:
        await k.sio.disconnect()


async def _connect(url: str, k: _Kiosk, root: Any, reports: Any) -> Any:
    import socketio

    from exam_core import protocol
    sio = socketio.AsyncClient(reconnection=False, ssl_verify=False)

    async def on_command(data: Any = None) -> dict[str, Any]:
        return await _on_command(k, sio, root, reports, data)
    sio.on(protocol.COMMAND, on_command, namespace=protocol.KIOSK_NAMESPACE)
    auth = await asyncio.to_thread(k.sim.make_auth)  # a blocking fetch of the challenge
    await sio.connect(url, namespaces=[protocol.KIOSK_NAMESPACE], auth=auth, transports=["websocket"],
                      wait_timeout=120)
    reply = await sio.call(protocol.HELLO, protocol.Hello(kiosk_id=k.sim.kiosk_id, state=k.state,
                                                          software_version="bench").to_dict(),
                           namespace=protocol.KIOSK_NAMESPACE, timeout=120)
    if not reply.get("ok"):
        raise RuntimeError(f"hello refused: {reply}")
    return sio


async def _on_command(k: _Kiosk, sio: Any, root: Any, reports: Any, data: Any) -> dict[str, Any]:
    """What a kiosk does with a command, applied once per command id (a re-sent one gets its ack)."""
    from exam_core import protocol
    command = protocol.Command.from_dict(data)
    if command.command_id in k.applied:
        return k.applied[command.command_id]
    if command.type == "admit":
        k.attempt_id, k.state = command.attempt_id, "admitted"
        asyncio.get_running_loop().create_task(_fetch_package(k, sio, command.args, reports))
    elif command.type == "start":
        received = time.time()
        if k.package is None:  # a real kiosk answers retry and is sent the start again after its hello
            return protocol.ack_error("retry", "package not fetched yet")
        _show_first_item(k, command, root)
        k.state = "in_progress"
        reports.put(("first", k.sim.kiosk_id, received, time.time()))
    ack = protocol.CommandAck(ok=True, command_id=command.command_id, state=k.state).to_dict()
    k.applied[command.command_id] = ack
    return ack


def _show_first_item(k: _Kiosk, command: Any, root: Any) -> dict[str, Any]:
    """The kiosk's work between a start and item 1 on screen: unwrap the released key, check the
    package's signed manifest, decrypt the content, read the first item."""
    from exam_core import package
    from exam_core.jsonio import b64d
    assert k.package is not None
    key = package.unwrap_released_key(b64d(command.args.wrapped_key), k.sim.hpke_key, command.args.package_id,
                                      command.attempt_id or "")
    content = package.decrypt_content(package.read_form_package(k.package, root), key)
    return dict(json.loads(content)["items"][0])


async def _fetch_package(k: _Kiosk, sio: Any, args: Any, reports: Any) -> None:
    """Fetch the admitted attempt's package in chunks over the link, check its digest (as kiosk.link)."""
    import hashlib

    from exam_core import protocol
    from exam_core.jsonio import b64d
    parts, offset = [], 0
    while offset < args.package_size:
        ack = await sio.call(protocol.PACKAGE_CHUNK, protocol.PackageChunkRequest(
            package_id=args.attempt.package_id, offset=offset).to_dict(), namespace=protocol.KIOSK_NAMESPACE,
            timeout=120)
        if not ack.get("ok"):
            raise RuntimeError(f"package refused: {ack}")
        parts.append(b64d(ack["data"], "data", protocol.PACKAGE_CHUNK_BYTES))
        offset += len(parts[-1])
    data = b"".join(parts)
    if hashlib.sha256(data).hexdigest() != args.package_sha256:
        raise RuntimeError("package digest differs from the admission's")
    k.package = data
    reports.put(("admitted", k.sim.kiosk_id))


async def _heartbeats(k: _Kiosk, stop: Any) -> None:
    """A heartbeat every ``HEARTBEAT_SECONDS``, each kiosk at its own phase (real kiosks jitter)."""
    from exam_core import protocol
    from exam_core.timestamps import utc_text_us
    await asyncio.sleep(random.uniform(0, HEARTBEAT_SECONDS))
    while not stop.is_set():
        beat = {"v": 1, "state": k.state, "wall_time": utc_text_us(), "attempt_id": k.attempt_id,
                "progress": {"answered": k.seq % ITEMS, "total": ITEMS}, "camera_fps": 15.0}
        await k.sio.emit(protocol.HEARTBEAT, beat, namespace=protocol.KIOSK_NAMESPACE)
        await asyncio.sleep(HEARTBEAT_SECONDS)


async def _answer(k: _Kiosk, stop: Any) -> list[tuple[float, float]]:
    """A busy kiosk's candidate answering: one event a second, each timed from send to durable ack."""
    from exam_core import protocol
    from exam_core.timestamps import utc_text_us
    samples: list[tuple[float, float]] = []
    await asyncio.sleep(random.uniform(0, 1 / BUSY_EVENT_RATE))
    while not stop.is_set():
        sent = time.time()
        event = {"kiosk_id": k.sim.kiosk_id, "seq": k.seq, "type": "item.answered", "severity": "info",
                 "wall_time": utc_text_us(), "mono_time": time.monotonic(), "attempt_id": k.attempt_id,
                 "data": {"item": k.seq % ITEMS}}
        k.seq += 1
        for _ in range(EVENT_TRIES):  # "retry" (not stored in time) is sent again, as a kiosk's outbox does
            reply = await k.sio.call(protocol.EVENT, event, namespace=protocol.KIOSK_NAMESPACE,
                                     timeout=STORM_TIMEOUT)
            if reply.get("ok"):
                break
            if reply.get("error") != "retry":
                raise RuntimeError(f"event refused: {reply}")
        else:
            raise RuntimeError(f"event not stored after {EVENT_TRIES} tries")
        samples.append((sent, time.time() - sent))
        await asyncio.sleep(max(0.0, sent + 1 / BUSY_EVENT_RATE - time.time()))
    return samples


# --- the proctor ---------------------------------------------------------------------------------

class Proctor:
    """A proctor logged in through the login form, on the dashboard's ``/proctor`` socket with its
    CSRF token, acting as the dashboard does (``socket.emit("action", ...)`` with a request id)."""

    def __init__(self, url: str) -> None:
        import requests
        import socketio

        from exam_core import protocol
        from exam_core.aioloop import LoopThread
        session = requests.Session()
        session.trust_env, session.verify = False, False
        token = _page_value(r'name="csrf" value="([^"]+)"', session.get(url + "/login").text)
        reply = session.post(url + "/login", data={"csrf": token, "name": PROCTOR, "password": PASSWORD},
                             allow_redirects=False)
        if reply.status_code != 302:
            raise RuntimeError(f"proctor login failed: HTTP {reply.status_code}")
        self.csrf = _page_value(r'name="csrf-token" content="([^"]+)"', session.get(url + "/dashboard").text)
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        self.loop = LoopThread("proctor")
        self.client = socketio.AsyncClient(ssl_verify=False, reconnection=False)
        self.loop.run(self.client.connect(url, namespaces=[protocol.PROCTOR_NAMESPACE], headers={"Cookie": cookie},
                                          auth={"csrf": self.csrf}, transports=["websocket"], wait_timeout=60))

    async def act(self, payload: dict[str, Any]) -> dict[str, Any]:
        from exam_core import protocol
        body = {"csrf": self.csrf, "request_id": secrets.token_urlsafe(12), **payload}
        reply = await self.client.call("action", body, namespace=protocol.PROCTOR_NAMESPACE, timeout=STORM_TIMEOUT)
        return reply if isinstance(reply, dict) else {"ok": False, "error": "no answer"}

    async def _bounded(self, payloads: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
        gate = asyncio.Semaphore(limit)

        async def one(payload: dict[str, Any]) -> dict[str, Any]:
            async with gate:
                return await self.act(payload)
        return list(await asyncio.gather(*(one(p) for p in payloads)))

    def act_all(self, payloads: list[dict[str, Any]], limit: int | None = None) -> list[dict[str, Any]]:
        """Every action at once (``limit`` None: as the dashboard's ``Promise.all``), or ``limit`` at a time."""
        return list(self.loop.run(self._bounded(payloads, limit or len(payloads) or 1), timeout=STORM_TIMEOUT))

    def close(self) -> None:
        self.loop.run(self.client.disconnect(), timeout=30)
        self.loop.stop()


def _page_value(pattern: str, page: str) -> str:
    found = re.search(pattern, page)
    if not found:
        raise RuntimeError(f"page lacks {pattern}")
    return found.group(1)


# --- one run -------------------------------------------------------------------------------------

class Reports:
    """What the workers reported, read from their queue as the parent waits for something."""

    def __init__(self, q: Any, workers: list[Any]) -> None:
        self.q = q
        self.workers = workers
        self.ready = 0
        self.admitted: set[str] = set()
        self.first: dict[str, tuple[float, float]] = {}
        self.latencies: list[tuple[float, float]] = []
        self.latency_reports = 0

    def wait(self, done: Any, timeout: float, what: str) -> None:
        _progress(f"waiting for {what}")
        deadline = time.time() + timeout
        while not done():
            if time.time() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            if any(w.exitcode not in (None, 0) for w in self.workers):
                raise RuntimeError(f"a kiosk worker failed while waiting for {what} (its traceback is above)")
            with contextlib.suppress(queue.Empty):
                self._take(self.q.get(timeout=0.2))

    def _take(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "ready":
            self.ready += message[1]
        elif kind == "admitted":
            self.admitted.add(message[1])
        elif kind == "first":
            self.first[message[1]] = (message[2], message[3])
        elif kind == "latencies":
            self.latencies.extend(message[1])
            self.latency_reports += 1


def _progress(text: str) -> None:
    """A line on stderr (the bench runner keeps it in the benchmark's log; the table is on stdout)."""
    print(f"{time.strftime('%H:%M:%S')} start-storm: {text}", file=sys.stderr, flush=True)


def _kiosk_ids(storm: int, busy: int) -> list[str]:
    """The storm's kiosks, then the one started alone (the baseline), then the busy ones."""
    return [f"storm-{i:04d}" for i in range(storm)] + ["solo-0000"] + [f"{BUSY_PREFIX}{i:04d}" for i in range(busy)]


def measure(storm: int, busy: int = BUSY_KIOSKS) -> dict[str, Any]:
    """One run at ``storm`` kiosks: set up, measure, tear down; the figures as a dict."""
    with tempfile.TemporaryDirectory(prefix="bench-start-storm-") as tmp_name:
        tmp = Path(tmp_name)
        _progress(f"{storm} kiosks: pairing {storm + 1 + busy} kiosks")
        world = make_world(tmp, _kiosk_ids(storm, busy))
        server, url = start_server(world.data, tmp / "console.log")
        try:
            return _run(url, world, storm, busy)
        finally:
            server.terminate()
            server.wait(timeout=30)


def _run(url: str, world: World, storm: int, busy: int) -> dict[str, Any]:
    specs = world.kiosks
    ctx = mp.get_context("spawn")
    q, go_busy, stop = ctx.Queue(), ctx.Event(), ctx.Event()
    workers = [ctx.Process(target=kiosk_worker, args=(url, specs[i:i + KIOSKS_PER_WORKER], world.root_public_raw,
                                                      q, go_busy, stop), daemon=True)
               for i in range(0, len(specs), KIOSKS_PER_WORKER)]
    for w in workers:
        w.start()
    reports = Reports(q, workers)
    proctor = None
    try:
        reports.wait(lambda: reports.ready == len(specs), 900, "kiosks to pair and connect")
        proctor = Proctor(url)
        return _phases(proctor, reports, world, storm, busy, go_busy, stop, len(workers))
    finally:
        stop.set()
        go_busy.set()
        if proctor is not None:
            proctor.close()
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.kill()


def _phases(proctor: Proctor, reports: Reports, world: World, storm: int, busy: int, go_busy: Any, stop: Any,
            workers: int) -> dict[str, Any]:
    ids = [k[0] for k in world.kiosks]
    admits = [{"type": "admit", "kiosk_id": k, "candidate_id": c, "package_id": PACKAGE_ID, "identity_checked": True}
              for k, c in zip(ids, world.candidates)]
    _all_ok(proctor.act_all(admits, SETUP_CONCURRENCY), "admit")
    reports.wait(lambda: len(reports.admitted) == len(ids), 600, "every kiosk to fetch its package")
    busy_ids = ids[storm + 1:]
    _all_ok(proctor.act_all([{"type": "start", "kiosk_id": k} for k in busy_ids], SETUP_CONCURRENCY), "busy start")
    reports.wait(lambda: all(k in reports.first for k in busy_ids), 300, "the busy kiosks to start")
    go_busy.set()
    quiet_from = time.time() + 1
    time.sleep(QUIET_SECONDS + 1)
    solo_sent = time.time()
    _all_ok(proctor.act_all([{"type": "start", "kiosk_id": ids[storm]}]), "solo start")
    reports.wait(lambda: ids[storm] in reports.first, 60, "the kiosk started alone")
    solo = reports.first[ids[storm]][1] - solo_sent
    time.sleep(1)
    storm_ids = ids[:storm]
    sent = time.time()
    replies = proctor.act_all([{"type": "start", "kiosk_id": k} for k in storm_ids])
    replied = time.time()
    refused = [r for r in replies if not r.get("ok")]
    with contextlib.suppress(RuntimeError):  # a kiosk that never shows item 1 is counted below
        reports.wait(lambda: all(k in reports.first for k in storm_ids), STORM_TIMEOUT, "the storm's kiosks")
    shown = [reports.first[k][1] for k in storm_ids if k in reports.first]
    last = max(shown, default=float("nan"))
    time.sleep(2)
    stop.set()
    reports.wait(lambda: reports.latency_reports == workers, 120, "the busy kiosks' latencies")
    quiet = [s for t, s in reports.latencies if quiet_from <= t < solo_sent]
    during = [s for t, s in reports.latencies if sent <= t <= last]
    per_kiosk = [reports.first[k][1] - sent for k in storm_ids if k in reports.first]
    return {"kiosks": storm, "busy": busy, "storm_s": last - sent, "replied_s": replied - sent, "solo_s": solo,
            "refused": len(refused), "not_started": storm - len(shown),
            "refusals": sorted({str(r.get("error"))[:120] for r in refused})[:3],
            "first_p50_s": percentile(per_kiosk or [float("nan")], 50),
            "quiet_p50_ms": percentile(quiet or [float("nan")], 50) * 1000,
            "quiet_p99_ms": percentile(quiet or [float("nan")], 99) * 1000,
            "storm_p50_ms": percentile(during or [float("nan")], 50) * 1000,
            "storm_p99_ms": percentile(during or [float("nan")], 99) * 1000,
            "storm_events": len(during)}


def _all_ok(replies: list[dict[str, Any]], what: str) -> None:
    refused = [r for r in replies if not r.get("ok")]
    if refused:
        raise RuntimeError(f"{len(refused)} {what} actions refused in set-up, e.g. {refused[0]}")


# --- figures ---------------------------------------------------------------------------------------

def _figures(r: dict[str, Any]) -> list[Figure]:
    n = r["kiosks"]
    note = (f"{n} kiosks started by one 'start all' ({r['busy']} others answering 1 ev/s); every action "
            f"answered after {r['replied_s']:.1f} s; median kiosk at item 1 after {r['first_p50_s']:.1f} s; "
            f"{r['storm_events']} busy events during the storm; refusals: {r['refusals'] or 'none'}")
    goal = "500 kiosks: 0 refused, all at item 1, busy p99 < 1 s"
    return [
        Figure("start-storm", f"{n} kiosks: action to last at item 1", r["storm_s"], "s",
               "one kiosk's start alone", r["solo_s"], goal, note),
        Figure("start-storm", f"{n} kiosks: refused or never at item 1", float(r["refused"] + r["not_started"]),
               "kiosks", "", None, goal, note),
        Figure("start-storm", f"{n} kiosks: busy event p50 during storm", r["storm_p50_ms"], "ms",
               "busy event p50 before storm", r["quiet_p50_ms"], goal, note),
        Figure("start-storm", f"{n} kiosks: busy event p99 during storm", r["storm_p99_ms"], "ms",
               "busy event p99 before storm", r["quiet_p99_ms"], goal, note),
    ]


def _growth(small: dict[str, Any], large: dict[str, Any]) -> Figure:
    return Figure("start-storm", f"{large['kiosks']} kiosks: storm time", large["storm_s"], "s",
                  f"{small['kiosks']} kiosks: storm time", small["storm_s"], "~2 (linear) for 2x the kiosks",
                  "how the storm's cost grows with the centre")


def run(quick: bool = False) -> list[Figure]:
    import urllib3
    urllib3.disable_warnings()
    size = int(os.environ.get("INVIGIL_BENCH_KIOSKS", 100 if quick else 500))
    busy = min(BUSY_KIOSKS, max(10, size // 5))
    if quick:
        return _figures(measure(size, busy))
    small, large = measure(size // 2, busy), measure(size, busy)
    return _figures(small) + _figures(large) + [_growth(small, large)]


if __name__ == "__main__":
    import argparse

    import urllib3
    urllib3.disable_warnings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=500)
    parser.add_argument("--busy", type=int, default=BUSY_KIOSKS)
    parsed = parser.parse_args()
    print(json.dumps(measure(parsed.kiosks, parsed.busy), indent=2))

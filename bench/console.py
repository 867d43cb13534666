"""Console event path: kiosk -> console (stored, acked) -> proctor client, against a bare relay.

N simulated kiosks (real python-socketio clients, several per worker process) each send 2 events/s
plus a heartbeat every 5 s for a few seconds, each kiosk's heartbeats at its own phase (real kiosks
jitter theirs; 500 heartbeats in lockstep, as after a console restart without jitter, raised p99
from ~45 ms to 80-430 ms). A proctor client logged in on ``/proctor`` receives
the relayed events; latency is its receive time minus the kiosk's send time (same machine clock).
The baseline is a bare Flask-SocketIO relay (gevent, no TLS, no auth, no storage) driven by the
same workers in the same run. ``lost`` counts events sent but never acked or never relayed.

Usage: ``python -m bench console [--quick]`` (quick: 50 kiosks; full: 500 kiosks, the goal).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Figure, free_port, percentile

EVENT_RATE = 2.0           # events per second per kiosk
HEARTBEAT_SECONDS = 5.0
KIOSKS_PER_WORKER = 50
#: After the last send, how long acks and relayed events may take before a missing one counts as lost.
DRAIN_SECONDS = 30.0
PASSWORD = "bench-password-123"
REPO = Path(__file__).resolve().parents[1]


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


# --- kiosk workers (separate processes) ----------------------------------------------------------

def _worker(url: str, mode: str, kiosks: list[tuple[str, str]], ready: Any, go: Any, start: Any,
            duration: float, out: Any) -> None:
    """One process, many kiosks: asyncio python-socketio clients (a thread per client would make
    the harness, not the server, the bottleneck). Pairing uses the synchronous SimKiosk."""
    import asyncio

    import urllib3
    urllib3.disable_warnings()
    import socketio

    from exam_core import protocol
    from exam_core.timestamps import utc_text_us
    from simulators.kiosk import SimKiosk

    paired = []
    for kiosk_id, code in kiosks:
        kiosk = SimKiosk(url, kiosk_id, verify=False)
        if mode == "console":
            kiosk.pair(code)
        paired.append(kiosk)
    sent: set[tuple[str, int]] = set()
    acked: set[tuple[str, int]] = set()

    async def connect(kiosk: SimKiosk) -> Any:
        sio = socketio.AsyncClient(reconnection=False, ssl_verify=False)
        auth = kiosk.make_auth() if mode == "console" else None  # blocking fetch: setup only, not measured
        await sio.connect(url, namespaces=[protocol.KIOSK_NAMESPACE], auth=auth, transports=["websocket"],
                          wait_timeout=60)
        if mode == "console":
            await sio.call(protocol.HELLO, protocol.Hello(kiosk_id=kiosk.kiosk_id, state="in_progress",
                                                          software_version="bench").to_dict(),
                           namespace=protocol.KIOSK_NAMESPACE, timeout=60)
        return sio

    async def run_kiosk(index: int, sio: Any, kiosk_id: str, start_at: float) -> None:
        await asyncio.sleep(max(0.0, start_at - time.time()) + index / EVENT_RATE / max(1, len(paired)))
        # heartbeats out of step, as real kiosks' are (kiosk.link jitters each interval)
        seq, next_beat, end = 0, time.time() + random.uniform(0, HEARTBEAT_SECONDS), start_at + duration
        while time.time() < end:
            event = {"kiosk_id": kiosk_id, "seq": seq, "type": "bench.tick", "severity": "info",
                     "wall_time": utc_text_us(), "mono_time": time.monotonic(), "data": {"t": time.time()}}

            def on_ack(reply: Any = None, key: tuple[str, int] = (kiosk_id, seq)) -> None:
                if isinstance(reply, dict) and reply.get("ok"):
                    acked.add(key)
            sent.add((kiosk_id, seq))
            await sio.emit(protocol.EVENT, event, namespace=protocol.KIOSK_NAMESPACE, callback=on_ack)
            seq += 1
            if mode == "console" and time.time() >= next_beat:
                next_beat += HEARTBEAT_SECONDS
                await sio.emit(protocol.HEARTBEAT, {"v": 1, "state": "in_progress", "wall_time": utc_text_us(),
                                                    "progress": {"answered": seq % 40, "total": 40},
                                                    "camera_fps": 15.0}, namespace=protocol.KIOSK_NAMESPACE)
            await asyncio.sleep(1.0 / EVENT_RATE)

    async def main() -> None:
        clients = [await connect(k) for k in paired]
        ready.put(len(clients))
        while not go.is_set():
            await asyncio.sleep(0.05)
        await asyncio.gather(*(run_kiosk(i, c, paired[i].kiosk_id, start.value) for i, c in enumerate(clients)))
        deadline = time.time() + DRAIN_SECONDS  # late is not lost: wait for every ack or the deadline
        while len(acked) < len(sent) and time.time() < deadline:
            await asyncio.sleep(0.1)
        out.put({"sent": sorted(sent), "acked": sorted(acked)})
        for client in clients:
            await client.disconnect()

    asyncio.run(main())


# --- the proctor side ------------------------------------------------------------------------------

class ProctorListener:
    """The proctor's side: an asyncio client (see simulators.kiosk: the threaded client drops TLS frames)."""

    def __init__(self, url: str, mode: str) -> None:
        import requests
        import socketio

        from exam_core import protocol
        from exam_core.aioloop import LoopThread
        self.latencies: list[float] = []
        self.received: set[tuple[str, int]] = set()
        self.loop = LoopThread()
        headers, auth = {}, {}
        if mode == "console":
            session = requests.Session()
            session.trust_env, session.verify = False, False
            token = _page_value(r'name="csrf" value="([^"]+)"', session.get(url + "/login").text)
            session.post(url + "/login", data={"csrf": token, "name": "bench", "password": PASSWORD})
            csrf = _page_value(r'name="csrf-token" content="([^"]+)"', session.get(url + "/dashboard").text)
            headers = {"Cookie": "; ".join(f"{c.name}={c.value}" for c in session.cookies)}
            auth = {"csrf": csrf}

        async def connect() -> Any:
            client = socketio.AsyncClient(ssl_verify=False, reconnection=False)
            client.on(protocol.PROCTOR_EVENT, self._on_event, namespace=protocol.PROCTOR_NAMESPACE)
            await client.connect(url, namespaces=[protocol.PROCTOR_NAMESPACE], headers=headers, auth=auth,
                                 transports=["websocket"], wait_timeout=30)
            return client
        self.client = self.loop.run(connect())

    def _on_event(self, data: Any) -> None:
        now = time.time()
        self.received.add((data["kiosk_id"], data["seq"]))
        self.latencies.append(now - data["data"]["t"])

    def close(self) -> None:
        self.loop.run(self.client.disconnect())


def _page_value(pattern: str, page: str) -> str:
    """The first group of ``pattern`` in a page (a token the console put there)."""
    found = re.search(pattern, page)
    assert found, pattern
    return found.group(1)


# --- servers -------------------------------------------------------------------------------------

def _relay_main(port: int, async_mode: str = "gevent") -> None:
    """The bare baseline: Flask-SocketIO, /kiosk 'event' -> /proctor room, ack, nothing else."""
    from flask import Flask
    from flask_socketio import SocketIO, join_room

    from exam_core import protocol
    app = Flask("relay")
    sio = SocketIO(app, async_mode="threading" if async_mode == "threading" else "gevent")

    @sio.on("connect", namespace=protocol.PROCTOR_NAMESPACE)
    def proctor_connect(auth: Any = None) -> None:
        join_room("proctors")

    @sio.on(protocol.EVENT, namespace=protocol.KIOSK_NAMESPACE)
    def event(data: Any) -> dict[str, Any]:
        sio.emit(protocol.PROCTOR_EVENT, data, to="proctors", namespace=protocol.PROCTOR_NAMESPACE)
        return {"ok": True, "seq": data["seq"]}

    sio.run(app, host="127.0.0.1", port=port, log_output=False, allow_unsafe_werkzeug=async_mode == "threading")


def _start_console(tmp: Path, kiosks: int) -> tuple[subprocess.Popen, str, list[str]]:
    from proctor_console import services
    from proctor_console.context import ConsoleContext
    ctx = ConsoleContext(tmp / "console")
    ctx.initialise("bench-centre", "Bench Centre")
    services.accounts(ctx).add("bench", "proctor", PASSWORD, by="bench")
    registry = services.registry(ctx)
    codes = [registry.new_code("bench")[0] for _ in range(kiosks)]
    port = free_port()
    with open(tmp / "console.log", "wb") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-m", "proctor_console", "--data", str(ctx.data), "serve",
                                 "--host", "127.0.0.1", "--port", str(port)], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=log)
    _wait_port(port)
    return proc, f"https://127.0.0.1:{port}", codes


def _measure(mode: str, url: str, codes: list[str], kiosks: int, duration: float) -> dict[str, Any]:
    listener = ProctorListener(url, mode)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    specs = [(f"kiosk-{mode}-{i:04d}", codes[i] if codes else "") for i in range(kiosks)]
    ready, go, start = ctx.Queue(), ctx.Event(), ctx.Value("d", 0.0)
    workers = [ctx.Process(target=_worker, args=(url, mode, specs[i:i + KIOSKS_PER_WORKER], ready, go, start,
                                                 duration, out))
               for i in range(0, kiosks, KIOSKS_PER_WORKER)]
    for w in workers:
        w.start()
    connected = sum(ready.get(timeout=600) for _ in workers)  # pairing and login are not measured
    if connected != kiosks:
        raise RuntimeError(f"only {connected} of {kiosks} kiosks connected")
    start.value = time.time() + 2
    go.set()
    results = [out.get(timeout=duration + DRAIN_SECONDS + 120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    expected = {k for r in results for k in map(tuple, r["sent"])}
    deadline = time.time() + DRAIN_SECONDS
    while not expected <= listener.received and time.time() < deadline:
        time.sleep(0.1)
    listener.close()
    sent = {k for r in results for k in map(tuple, r["sent"])}
    acked = {k for r in results for k in map(tuple, r["acked"])}
    lost = len(sent - (acked & listener.received))
    lat = listener.latencies or [float("nan")]
    return {"sent": len(sent), "lost": lost, "p50": percentile(lat, 50) * 1000, "p99": percentile(lat, 99) * 1000,
            "rate": len(sent) / duration}


def _measure_relay(async_mode: str, kiosks: int, duration: float) -> dict[str, Any]:
    port = free_port()
    relay = subprocess.Popen([sys.executable, "-m", "bench.console", "relay", str(port), async_mode], cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        return _measure("relay", f"http://127.0.0.1:{port}", [], kiosks, duration)
    finally:
        relay.terminate()
        relay.wait(timeout=10)


def run(quick: bool = False) -> list[Figure]:
    import urllib3
    urllib3.disable_warnings()
    kiosks, duration = (50, 6.0) if quick else (500, 20.0)
    kiosks = int(os.environ.get("INVIGIL_BENCH_KIOSKS", kiosks))  # e.g. 200 to find where it bends
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp_name:
        tmp = Path(tmp_name)
        base = _measure_relay("gevent", kiosks, duration)
        threaded = _measure_relay("threading", kiosks, duration)
        console, url, codes = _start_console(tmp, kiosks)
        try:
            real = _measure("console", url, codes, kiosks, duration)
        finally:
            console.terminate()
            console.wait(timeout=10)
    note = (f"{kiosks} kiosks x {EVENT_RATE:g} ev/s for {duration:g} s ({real['sent']} events, "
            f"{real['rate']:.0f}/s); console: HTTPS, challenge login, FULL-sync group commit; "
            f"relay: bare gevent Flask-SocketIO, plain HTTP")
    goal = "500 kiosks: p99 < 100 ms, 0 lost"
    return [
        Figure("console", "event latency p50", real["p50"], "ms", "bare relay p50", base["p50"], goal, note),
        Figure("console", "event latency p99", real["p99"], "ms", "bare relay p99", base["p99"], goal, note),
        Figure("console", "events lost", float(real["lost"]), "events", "bare relay lost", float(base["lost"]),
               goal, note),
        Figure("console", "bare relay p99, threading mode", threaded["p99"], "ms", "bare relay p99, gevent",
               base["p99"], "async mode chosen by this ratio (> 1: gevent better)",
               f"threading lost {threaded['lost']}, gevent lost {base['lost']}"),
    ]


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "relay":
        _relay_main(int(sys.argv[2]), *sys.argv[3:4])
    else:
        for figure in run(quick="--quick" in sys.argv):
            print(figure.to_dict())

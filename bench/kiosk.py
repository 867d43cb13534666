"""Kiosk benchmarks: answer-save latency through HTTP to the durable journal commit, and time from
the key release to the first item of a 200-item form with 20 MB of media.

Baselines measured in the same run:
- a raw ``sqlite3`` insert + commit of a row of the same size with the kiosk's pragmas
  (WAL, synchronous=FULL) in the same directory: the floor of a durable save;
- a raw AES-256-GCM decryption of the same content bytes: the floor of opening the form.

The answer-save requests come from a separate process (as the candidate's browser is one), on one
kept-alive connection; each is timed there, interleaved with the engine-only and raw samples.

The trust world (keys, certificates, package, key release) and the form are the simulators the
kiosk tests use too (``simulators/trust_world.py``, ``simulators/forms.py``) around a real kiosk device.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import multiprocessing as mp
import os
import re
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench.common import Figure, percentile


def _world(directory: Path, extra_items: int = 0, media_mb: int = 0):
    from exam_core.model import FormContent
    from kiosk.device import Device
    from kiosk.runtime import KeyOpener, KioskRuntime
    from simulators.forms import make_content
    from simulators.trust_world import TrustWorld
    content = None
    if extra_items or media_mb:
        form, media = make_content(extra_items=extra_items)
        data = form.to_dict()
        blobs = {}
        for n in range(media_mb):
            blob = os.urandom(1024 * 1024)
            sha = hashlib.sha256(blob).hexdigest()
            blobs[sha] = blob
            data["items"][10 + n % max(1, extra_items)]["media"].append(
                {"sha256": sha, "mime": "image/png", "name": f"figure {n}"})
        content = (FormContent.from_dict(data), {**media, **blobs})
    device = Device.load_or_create(directory, "K01")
    world = TrustWorld(device, content=content)
    return world, KioskRuntime(directory, device.kiosk_id, KeyOpener(device.unwrap, device.decrypt), device)


def _serve(runtime):
    from kiosk.webapp import create_app, make_ui_server
    server = make_ui_server(create_app(runtime), 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    conn.request("GET", "/")
    found = re.search(r'name="kiosk-token" content="([^"]+)"', conn.getresponse().read().decode())
    assert found, "the kiosk page carries its token"
    return server, found.group(1)


def _post(conn: http.client.HTTPConnection, token: str, path: str, body: dict) -> dict:
    """One POST on a kept-alive connection, as the browser makes it."""
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", "X-Kiosk-Token": token})
    reply = conn.getresponse()
    data = json.loads(reply.read())
    if reply.status != 200:
        raise RuntimeError(f"{path}: {reply.status} {data}")
    return data


def _open_exam(world, runtime) -> None:
    assert runtime.handle_command(world.admit()).ok
    runtime.store_package("P1", world.package_bytes)
    runtime.confirm_identity()
    ack = runtime.handle_command(world.release())
    if not ack.ok:
        raise RuntimeError(ack.reason)
    runtime.session.accept_agreement()
    runtime.session.begin()


def _browser_process(pipe, port: int, token: str) -> None:
    """The page's side of the answer-save figure, in its own process as a browser is: on each
    ``go`` from the parent it makes one POST on its kept-alive connection and sends back how long
    that request took (its own clock, so the pipe is not timed). In the server's process the
    client would compete with the server for the GIL, which no real browser does."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while (n := pipe.recv()) is not None:
        body = {"item_id": "Q03", "response_id": "R1", "value": f"answer number {n}"}
        start = time.perf_counter()
        _post(conn, token, "/api/answer", body)
        pipe.send(time.perf_counter() - start)
    conn.close()


class RawCommit:
    """A raw sqlite3 insert + commit with the kiosk's pragmas: the floor of a durable save."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")

    def timed(self, row_bytes: int) -> float:
        body = os.urandom(row_bytes)
        start = time.perf_counter()
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO t (body) VALUES (?)", [body])
        self.conn.execute("COMMIT")
        return time.perf_counter() - start


def answer_save(quick: bool) -> list[Figure]:
    count = 150 if quick else 1000
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        world, runtime = _world(directory)
        server, token = _serve(runtime)
        try:
            _open_exam(world, runtime)
            parent_end, child_end = mp.get_context("spawn").Pipe()
            browser = mp.get_context("spawn").Process(target=_browser_process,
                                                       args=(child_end, server.server_port, token), daemon=True)
            browser.start()
            baseline = RawCommit(directory / "raw.db")
            row_bytes = 0
            samples, raw, engine = [], [], []
            for n in range(count):  # interleaved, so all three see the same machine load
                parent_end.send(n)
                samples.append(parent_end.recv())  # one save timed by the browser process
                start = time.perf_counter()
                runtime.session.answer("Q04", "R1", f"answer number {n}")
                engine.append(time.perf_counter() - start)
                if not row_bytes:
                    row_bytes = len(runtime.db.execute(
                        "SELECT ciphertext FROM journal ORDER BY seq DESC LIMIT 1").fetchone()[0]) + 200
                raw.append(baseline.timed(row_bytes))
            baseline.conn.close()
            parent_end.send(None)
            browser.join(timeout=10)
        finally:
            runtime.stop()
            server.shutdown()
            runtime.db.conn.close()
    figures = [Figure("kiosk", f"answer save p{pct}, engine only (validate, encrypt, FULL commit)",
                      percentile(engine, pct) * 1000, "ms", f"raw sqlite3 FULL commit p{pct}",
                      percentile(raw, pct) * 1000, note="no HTTP: what the journal itself costs")
               for pct in (50, 99)]
    for pct in (50, 99):
        figures.append(Figure("kiosk", f"answer save p{pct} (HTTP -> FULL commit)", percentile(samples, pct) * 1000,
                               "ms", f"raw sqlite3 FULL commit p{pct}", percentile(raw, pct) * 1000,
                               goal="p99 within 3x" if pct == 99 else "",
                               note=f"{count} saves"))
    return figures


def start_to_first_item(quick: bool) -> list[Figure]:
    rounds = 3 if quick else 7
    timings, raw = [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            world, runtime = _world(directory, extra_items=190, media_mb=20)
            server, token = _serve(runtime)
            try:
                assert runtime.handle_command(world.admit()).ok
                runtime.store_package("P1", world.package_bytes)
                runtime.confirm_identity()
                release = world.release()
                start = time.perf_counter()
                ack = runtime.handle_command(release)
                if not ack.ok:
                    raise RuntimeError(ack.reason)
                runtime.session.accept_agreement()
                runtime.session.begin()
                conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
                conn.request("GET", "/api/item/0", headers={"X-Kiosk-Token": token})
                reply = conn.getresponse()
                reply.read()
                timings.append(time.perf_counter() - start)
                if reply.status != 200 or len(runtime.session.bundle.items) != 200:
                    raise RuntimeError("first item not served")
                nonce, body = os.urandom(12), world.content_bytes
                key = AESGCM.generate_key(256)
                sealed = AESGCM(key).encrypt(nonce, body, None)
                t0 = time.perf_counter()
                AESGCM(key).decrypt(nonce, sealed, None)
                raw.append(time.perf_counter() - t0)
                size_mb = len(world.package_bytes) / 1e6
            finally:
                runtime.stop()
                server.shutdown()
                runtime.db.conn.close()
    best = sorted(timings)[len(timings) // 2]
    return [Figure("kiosk", "start -> first item (200 items, 20 MB media)", best * 1000, "ms",
                   "raw AES-GCM decrypt of the content", sorted(raw)[len(raw) // 2] * 1000,
                   goal="< 300 ms", note=f"median of {rounds}; package {size_mb:.1f} MB")]


def run(quick: bool) -> list[Figure]:
    return answer_save(quick) + start_to_first_item(quick)

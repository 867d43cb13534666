"""Results day: every centre uploads at once (issue 14, item 5a), over HTTPS with signed requests.

``python -m bench results-day [--scale F] [--workers 1,2,4]`` (``--quick`` is ``--scale 0.005``: about
a minute on an idle 2-core machine).
At scale 1, 1,000 simulated centres (one kiosk each, real keys and certificates) upload 100,000
real sealed envelopes (60 responses each) to ``python -m item_bank_sync serve`` as fast as the
clients can send them, in batches of ``BATCH`` from ``CLIENTS`` concurrent centres: some batches
are sent twice (a console that lost its receipts), some interrupted (the connection dropped half way
through the body, or after the request but before the answer) and then retried. Measured for the
SQLite files with one process and for PostgreSQL (a private cluster, fsync on) with each ``--workers``
count: envelopes/s, p50/p99 latency of one upload request, and server CPU per envelope (the serve
process tree plus, on PostgreSQL, the cluster's processes), beside the raw crypto rate (open and
verify one envelope in process, straight on pyca/cryptography, as bench.central measures it)
measured in the same run. Then how the cost grows: twice the centres (same envelopes) and twice the
envelopes (same centres) on PostgreSQL with the most workers.

Every run checks, and fails otherwise: 0 envelopes lost (each has a receipt that verifies against
the central key and a row), 0 taken twice (one attempt per envelope), every duplicate answered with
the same receipt bytes.

The envelopes (and the keys that sealed them) are made once and cached under
``$INVIGIL_BENCH_CACHE`` (default ``~/.cache/invigil-bench/results-day``), one directory per size,
so a rerun spends its time on the upload, not on sealing. The client processes share the machine
with the server: on a small machine they take part of its CPU, which the figures include.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import multiprocessing
import os
import random
import shutil
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Figure, free_port, percentile

BENCH = "results-day"
CENTRES, ENVELOPES, ITEMS = 1000, 100_000, 60
#: Envelopes per upload request, centres uploading at once, client processes.
BATCH, CLIENTS, CLIENT_PROCESSES = 20, 16, 2
#: Share of batches sent again after their answer, and interrupted before it.
DUPLICATE_SHARE, INTERRUPT_SHARE = 0.03, 0.03
CACHE_FORMAT = "v1"
SCALE_ENV, WORKERS_ENV, CACHE_ENV = "BENCH_SCALE", "BENCH_WORKERS", "INVIGIL_BENCH_CACHE"
REPO_ROOT = Path(__file__).resolve().parents[1]
FAR_PAST, FAR_FUTURE = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"


@dataclass(frozen=True)
class Size:
    centres: int
    envelopes: int

    @property
    def label(self) -> str:
        return f"{self.centres} centres x {self.envelopes} envelopes"


# --- the data set, made once ----------------------------------------------------------------------

def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "invigil-bench" / "results-day")


def dataset(size: Size) -> Path:
    """The cached directory of ``size``: keys, certificates and ``centre-N.bin`` envelope files."""
    where = cache_root() / f"{CACHE_FORMAT}-c{size.centres}-e{size.envelopes}"
    if (where / "done").exists():
        return where
    tmp = Path(tempfile.mkdtemp(prefix="making-", dir=_mkdir(cache_root())))
    _make_dataset(tmp, size)
    (tmp / "done").write_text("ok")
    shutil.rmtree(where, ignore_errors=True)
    tmp.rename(where)
    return where


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _make_dataset(out: Path, size: Size) -> None:
    from exam_core import certs, keys

    central, results = keys.generate_signing_key(), keys.generate_hpke_key()
    root = certs.make_root_certificate(central, "central", results.public_key())
    keys.save_private_key(out / "central.key", central)       # 0600, as any key file
    keys.save_private_key(out / "results.key", results)
    (out / "root.cert").write_bytes(root)
    jobs, centres = [], []
    for c in range(size.centres):
        centre_id = f"centre-{c:04d}"
        centre, kiosk = keys.generate_signing_key(), keys.generate_signing_key()
        centre_cert = certs.issue_certificate(central, "central", centre_id, "centre", centre.public_key(),
                                              keys.generate_hpke_key(keys.SUITE_X25519).public_key())
        kiosk_cert = certs.issue_certificate(centre, centre_id, f"kiosk-{c:04d}", "kiosk", kiosk.public_key())
        count = size.envelopes // size.centres + (1 if c < size.envelopes % size.centres else 0)
        centres.append({"centre_id": centre_id, "key": keys.private_key_document(centre).decode(),
                        "cert": centre_cert.hex(), "key_id": keys.key_id(centre), "count": count})
        jobs.append((str(out), c, count, keys.private_key_document(kiosk), [centre_cert, kiosk_cert]))
    (out / "centres.json").write_text(json.dumps(centres))
    with concurrent.futures.ProcessPoolExecutor(max(1, os.cpu_count() or 1),
                                                mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_seal_centre, jobs, chunksize=4))


def _seal_centre(job: tuple[str, int, int, bytes, list[bytes]]) -> None:
    """Seal one centre's envelopes (a child process) into ``centre-N.bin``: length-prefixed bytes."""
    from exam_core import envelope, keys

    out, c, count, kiosk_doc, chain = job
    kiosk = signing_key(kiosk_doc)
    results = keys.load_hpke_key(Path(out) / "results.key")
    with open(Path(out) / f"centre-{c:04d}.bin", "wb") as f:
        for n in range(count):
            attempt_id = f"att-{c:04d}-{n:05d}"
            data = envelope.seal_envelope_bytes(
                payload(attempt_id, c), attempt_id=attempt_id, centre_id=f"centre-{c:04d}",
                kiosk_id=f"kiosk-{c:04d}", form_id="F1", form_version=1, package_id=f"pkg-{c:04d}",
                kiosk_signing_key=kiosk, chain=chain, results_public=results.public_key())
            f.write(struct.pack(">I", len(data)) + data)


def payload(attempt_id: str, c: int) -> bytes:
    """An attempt result of ``ITEMS`` answered items, as a kiosk builds it."""
    from exam_core.model import Attempt, Response
    from exam_core.result import AttemptResult, SealedJournalHead, Timings

    responses = tuple(Response(attempt_id=attempt_id, seq=i + 1, item_id=f"item-{i:03d}", response_id="RESPONSE",
                               value="ABCD"[(i + len(attempt_id)) % 4], wall_time="2026-11-26T10:00:00Z",
                               elapsed_ms=20_000 * (i + 1)) for i in range(ITEMS))
    attempt = Attempt(attempt_id=attempt_id, candidate_id=f"cand-{attempt_id}", form_id="F1", form_version=1,
                      package_id=f"pkg-{c:04d}", centre_id=f"centre-{c:04d}", kiosk_id=f"kiosk-{c:04d}",
                      option_seed=1)
    return AttemptResult(attempt=attempt, responses=responses, journal_head=SealedJournalHead(ITEMS + 5, "ab" * 32),
                         timings=Timings(item_time_ms={f"item-{i:03d}": 20_000 for i in range(ITEMS)})).to_bytes()


def signing_key(document: bytes) -> Any:
    """An Ed25519 private key from a key document (refused if it is another kind)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from exam_core import keys

    key = keys.parse_private_key_document(document)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError("not a signing key")
    return key


def central_public(data_set: Path) -> Any:
    from exam_core import keys

    return keys.load_signing_key(data_set / "central.key").public_key()


def read_envelopes(data_set: Path, c: int) -> list[bytes]:
    raw, out, at = (data_set / f"centre-{c:04d}.bin").read_bytes(), [], 0
    while at < len(raw):
        (length,) = struct.unpack_from(">I", raw, at)
        out.append(raw[at + 4:at + 4 + length])
        at += 4 + length
    return out


# --- a central body for one run -------------------------------------------------------------------

def central_body(data_set: Path, data_dir: Path, db_url: str | None) -> None:
    """A data directory with the data set's keys, and a bank with the form and every centre."""
    from item_bank_sync.context import CentralContext
    from item_bank_sync.db import open_central

    from exam_core import keys

    context = CentralContext(data_dir=data_dir)
    context.ensure_dirs()
    for name, path in (("central.key", context.signing_key_path), ("results.key", context.results_key_path)):
        keys.save_private_key(path, keys.parse_private_key_document((data_set / name).read_bytes()))
    shutil.copy(data_set / "root.cert", context.central_cert_path)
    context.body_path.write_text(json.dumps({"body_id": "central", "name": "Results day"}))
    db = open_central(data_dir, db_url)
    try:
        _bank_rows(db.bank, json.loads((data_set / "centres.json").read_text()))
    finally:
        db.dispose()


def _bank_rows(engine: Any, centres: list[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    from bench.central import _bank_row_values
    from item_bank_sync.bank.schema import forms, items, packages, schemes
    from item_bank_sync.db.sql import write
    from item_bank_sync.trust.schema import centres as centres_table

    rows = _bank_row_values()
    rows["centres"] = [{"centre_id": c["centre_id"], "name": c["centre_id"], "signing_key_id": c["key_id"],
                        "hpke_key_id": "x", "request_json": "{}", "cert_serial": c["centre_id"],
                        "certificate": bytes.fromhex(c["cert"]), "not_after": FAR_FUTURE,
                        "enrolled_at": FAR_PAST} for c in centres]
    rows["packages"] = [{"package_id": c["centre_id"].replace("centre", "pkg"), "form_id": "F1", "form_version": 1,
                         "centre_id": c["centre_id"], "opens": FAR_PAST, "closes": FAR_FUTURE,
                         "release_code_required": 0, "path": "p", "sha256": "0", "created_at": FAR_PAST}
                        for c in centres]
    tables = {"items": items, "schemes": schemes, "forms": forms, "centres": centres_table, "packages": packages}
    with write(engine) as conn:
        for table, values in rows.items():
            conn.execute(insert(tables[table]), values)


class Server:
    """``python -m item_bank_sync serve`` (HTTPS) as its own process tree."""

    def __init__(self, data_dir: Path, db_url: str | None, workers: int) -> None:
        self.port = free_port()
        env = {**os.environ, "COLUMNS": "400"}          # the ready line on one line
        env.pop("INVIGIL_CENTRAL_DB", None)
        if db_url:
            env["INVIGIL_CENTRAL_DB"] = db_url              # as production passes it (never on argv)
        self.process = subprocess.Popen([sys.executable, "-m", "item_bank_sync", "--data", str(data_dir), "serve",
                                         "--port", str(self.port), "--workers", str(workers)],
                                        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                        env=env)
        assert self.process.stderr is not None
        line = self.process.stderr.readline()
        if "listening" not in line:
            self.stop()
            raise RuntimeError(f"serve did not start: {line.strip()}")
        self.fingerprint = line.split("sha256 ")[1].split(")")[0]
        _wait_for_workers(self.process.pid, workers)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(60)
        if self.process.stderr is not None:
            self.process.stderr.close()


def _wait_for_workers(pid: int, workers: int) -> None:
    deadline = time.monotonic() + 60
    while workers > 1 and len(_children(pid)) < workers and time.monotonic() < deadline:
        time.sleep(0.1)


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return out


def cpu_seconds(roots: list[int]) -> float:
    """CPU (user + system, own and reaped children's) of the process trees under ``roots``."""
    total, tick, todo = 0.0, os.sysconf("SC_CLK_TCK"), list(roots)
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15]) / tick
        todo.extend(_children(pid))
    return total


# --- the centres ------------------------------------------------------------------------------------

def _client_process(job: tuple[str, str, str, list[int], int]) -> dict[str, Any]:
    """One client process: ``CLIENTS // CLIENT_PROCESSES`` centres at a time, each uploading all its
    envelopes in batches (some again, some interrupted first); then every receipt verified."""
    url, fingerprint, data_set, centre_numbers, seed = job
    started = time.time()
    rng = random.Random(seed)
    centres = json.loads((Path(data_set) / "centres.json").read_text())
    threads = max(1, CLIENTS // CLIENT_PROCESSES)
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        done = list(pool.map(lambda c: _centre(url, fingerprint, Path(data_set), centres[c], c,
                                              random.Random(rng.random())), centre_numbers))
    return {**_verified(Path(data_set), done), "started": started}


def _centre(url: str, fingerprint: str, data_set: Path, centre: dict[str, Any], c: int,
            rng: random.Random) -> dict[str, Any]:
    from exam_core.sync_wire import Upload, UploadEntry
    from proctor_console.sync.client import HubClient, HubError

    client = HubClient(url, centre["centre_id"], signing_key(centre["key"].encode()), central_public(data_set),
                       tls_fingerprint=fingerprint, timeout=120)
    envelopes = read_envelopes(data_set, c)
    receipts: dict[int, bytes | None] = {}
    latencies, duplicates_ok, duplicates, interrupted, retries = [], 0, 0, 0, 0
    for start in range(0, len(envelopes), BATCH):
        batch = Upload(tuple(UploadEntry(e) for e in envelopes[start:start + BATCH]))
        if rng.random() < INTERRUPT_SHARE:
            interrupted += 1
            _interrupted(client, batch.to_bytes(), half_body=rng.random() < 0.5)
        while True:
            began = time.perf_counter()
            try:
                answer = client.upload(batch)
            except HubError:
                retries += 1
                time.sleep(0.2)
                continue
            latencies.append(time.perf_counter() - began)
            break
        for n, result in enumerate(answer.results):
            receipts[start + n] = result.receipt
        if rng.random() < DUPLICATE_SHARE:
            duplicates += 1
            again = client.upload(batch)
            duplicates_ok += all(r.duplicate and r.receipt == receipts[start + n]
                                 for n, r in enumerate(again.results))
    return {"c": c, "receipts": receipts, "latencies": latencies, "duplicates": duplicates,
            "duplicates_ok": duplicates_ok, "interrupted": interrupted, "retries": retries,
            "ended": time.time()}


def _interrupted(client: Any, body: bytes, half_body: bool) -> None:
    """The request as the console sends it, broken off: half way through the body, or after the
    whole request but before reading the answer (the hub may then have taken the batch in)."""
    from exam_core import sync_wire

    headers = client._signed_headers("POST", sync_wire.ENVELOPES_PATH, "", body)
    headers["Content-Type"] = "application/json"
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    conn = http.client.HTTPSConnection(client.host, client.port, timeout=60, context=context)
    try:
        conn.putrequest("POST", sync_wire.ENVELOPES_PATH)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            conn.putheader(name, value)
        conn.endheaders()
        conn.send(body[:len(body) // 2] if half_body else body)
        if not half_body:
            time.sleep(0.05)
    except OSError:
        pass
    finally:
        conn.close()


def _verified(data_set: Path, done: list[dict[str, Any]]) -> dict[str, Any]:
    """Every envelope's receipt checked against the central key and the envelope's own bytes."""
    from exam_core.receipt import verify_receipt

    central = central_public(data_set)
    valid, total = 0, 0
    for centre in done:
        for n, data in enumerate(read_envelopes(data_set, centre["c"])):
            total += 1
            receipt = centre["receipts"].get(n)
            if receipt is not None:
                verify_receipt(receipt, data, central)
                valid += 1
    return {"valid": valid, "total": total, "latencies": [x for c in done for x in c["latencies"]],
            "ended": max(c["ended"] for c in done),
            **{k: sum(c[k] for c in done) for k in ("duplicates", "duplicates_ok", "interrupted", "retries")}}


# --- one run ----------------------------------------------------------------------------------------

def run_once(size: Size, engine: str, workers: int, cluster: Any, work: Path) -> dict[str, Any]:
    """Upload the whole data set of ``size`` to a fresh central body; its measurements and checks."""
    data_set = dataset(size)
    data_dir = work / f"{engine}-{workers}-{size.centres}-{size.envelopes}"
    db_url = None
    if engine == "postgresql":
        db_url = cluster.create_database(f"rd_{workers}_{size.centres}_{size.envelopes}")
    central_body(data_set, data_dir, db_url)
    server = Server(data_dir, db_url, workers)
    roots = [server.process.pid] + ([_postmaster(cluster)] if db_url else [])
    try:
        cpu_before, began = cpu_seconds(roots), time.time()
        groups = [list(range(i, size.centres, CLIENT_PROCESSES)) for i in range(CLIENT_PROCESSES)]
        jobs = [(f"https://127.0.0.1:{server.port}", server.fingerprint, str(data_set), g, i)
                for i, g in enumerate(groups) if g]
        with concurrent.futures.ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(_client_process, jobs))
        cpu = cpu_seconds(roots) - cpu_before
    finally:
        server.stop()
    ended = max(p["ended"] for p in parts)
    counts = _counts(data_dir, db_url)
    latencies = sorted(x for p in parts for x in p["latencies"])
    print(f"results-day {engine} x{workers}, {size.label}: {ended - began:.1f} s, server CPU {cpu:.1f} s, "
          f"{len(latencies)} uploads, p50 {latencies[len(latencies) // 2]:.3f} s, max {latencies[-1]:.3f} s, "
          f"first client start {min(p['started'] for p in parts) - began:.1f} s", file=sys.stderr, flush=True)
    out = {"seconds": ended - began, "cpu": cpu, "latencies": [x for p in parts for x in p["latencies"]],
           **{k: sum(p[k] for p in parts) for k in ("valid", "total", "duplicates", "duplicates_ok", "interrupted",
                                                   "retries")}, **counts}
    _check(out, size)
    return out


def _postmaster(cluster: Any) -> int:
    return int((cluster.datadir / "postmaster.pid").read_text().split()[0])


def _counts(data_dir: Path, db_url: str | None) -> dict[str, int]:
    from sqlalchemy import text

    from item_bank_sync.db import open_central

    db = open_central(data_dir, db_url)
    try:
        with db.results.connect() as conn:
            return {"envelope_rows": conn.execute(text("SELECT count(*) FROM envelopes")).scalar_one(),
                    "attempt_rows": conn.execute(text("SELECT count(*) FROM attempts")).scalar_one(),
                    "accepted": conn.execute(text("SELECT count(*) FROM envelopes WHERE status = 'accepted'"))
                    .scalar_one(),
                    "distinct_attempts": conn.execute(text("SELECT count(DISTINCT attempt_id) FROM attempts"))
                    .scalar_one()}
    finally:
        db.dispose()


def _check(out: dict[str, Any], size: Size) -> None:
    """0 lost, 0 taken twice, every receipt valid, every duplicate answered with the same receipt."""
    problems = []
    if out["valid"] != size.envelopes or out["total"] != size.envelopes:
        problems.append(f"{out['valid']} valid receipts of {size.envelopes}")
    if out["envelope_rows"] != size.envelopes or out["accepted"] != size.envelopes:
        problems.append(f"{out['accepted']} accepted rows of {size.envelopes} ({out['envelope_rows']} rows)")
    if out["attempt_rows"] != out["distinct_attempts"] or out["attempt_rows"] != size.envelopes:
        problems.append(f"{out['attempt_rows']} attempt rows, {out['distinct_attempts']} distinct")
    if out["duplicates_ok"] != out["duplicates"]:
        problems.append(f"{out['duplicates'] - out['duplicates_ok']} duplicate batches got other receipts")
    if problems:
        raise AssertionError("results day lost or doubled envelopes: " + "; ".join(problems))


# --- the figures ------------------------------------------------------------------------------------

def raw_crypto_rate(size: Size) -> tuple[float, float]:
    """(our open+verify+score rate in process, raw crypto rate), envelopes/s on one core."""
    from bench.central import _keys, _raw_open, _rate
    from exam_core import keys
    from item_bank_sync.results.envelope import open_envelope
    from item_bank_sync.results.scoring import score_attempt

    data_set = dataset(size)
    central = keys.load_signing_key(data_set / "central.key")
    results = keys.load_hpke_key(data_set / "results.key")
    data = read_envelopes(data_set, 0)[0]
    answer_keys = _keys()

    def ours() -> None:
        score_attempt(answer_keys, open_envelope(data, central.public_key(), results).responses)

    k1, k2 = keys.generate_signing_key(), keys.generate_signing_key()
    raw = _raw_open(data, central, k1, k2, results)
    return _rate(ours, 100, 5), _rate(raw, 200, 5)      # medians of 5 rounds: the machine may be busy


def sizes(scale: float) -> Size:
    return Size(max(2, round(CENTRES * scale)), max(4, round(ENVELOPES * scale)))


def configurations(workers: list[int]) -> list[tuple[str, int]]:
    return [("sqlite", 1)] + [("postgresql", w) for w in workers]


def run(quick: bool) -> list[Figure]:
    from simulators.postgres import PrivateCluster

    scale = float(os.environ.get(SCALE_ENV) or (0.005 if quick else 1.0))
    workers = [int(w) for w in (os.environ.get(WORKERS_ENV) or "1,2,4").split(",") if w.strip()]
    base = sizes(scale)
    ours, raw = raw_crypto_rate(base)
    figures = [Figure(BENCH, "open+verify+score one envelope in process, 1 core", ours, "envelopes/s",
                      "raw crypto (3x Ed25519 verify + HPKE open)", raw, note=f"scale {scale}: {base.label}")]
    with tempfile.TemporaryDirectory(prefix="invigil-results-day-") as tmp, PrivateCluster() as cluster:
        results: dict[tuple[str, int], dict[str, Any]] = {}
        for engine, w in configurations(workers):
            results[(engine, w)] = out = run_once(base, engine, w, cluster, Path(tmp))
            figures += _run_figures(f"{engine} {w} worker{'s' if w > 1 else ''}", out, base, raw)
        top = ("postgresql", max(workers))
        for label, size in (("2x centres", Size(base.centres * 2, base.envelopes)),
                            ("2x envelopes", Size(base.centres, base.envelopes * 2))):
            out = run_once(size, *top, cluster, Path(tmp))
            figures += _growth_figures(label, out, results[top], size, base)
    return figures


def _run_figures(label: str, out: dict[str, Any], size: Size, raw: float) -> list[Figure]:
    rate = size.envelopes / out["seconds"]
    note = (f"{size.label}; {out['duplicates']} batches sent twice, {out['interrupted']} interrupted, "
            f"{out['retries']} retries; 0 lost, 0 twice, {out['valid']} receipts valid")
    cpu_ms = 1000 * out["cpu"] / size.envelopes
    return [Figure(BENCH, f"{label}: envelopes/s over HTTPS", rate, "envelopes/s", "raw crypto rate, 1 core", raw,
                   note=note),
            Figure(BENCH, f"{label}: upload p50 ({BATCH} envelopes)", 1000 * statistics.median(out["latencies"]),
                   "ms"),
            Figure(BENCH, f"{label}: upload p99 ({BATCH} envelopes)", 1000 * percentile(out["latencies"], 99), "ms"),
            Figure(BENCH, f"{label}: server CPU per envelope", cpu_ms, "ms", "raw crypto per envelope", 1000 / raw)]


def _growth_figures(label: str, out: dict[str, Any], base_out: dict[str, Any], size: Size,
                    base: Size) -> list[Figure]:
    cpu, base_cpu = out["cpu"] / size.envelopes, base_out["cpu"] / base.envelopes
    seconds, base_seconds = out["seconds"], base_out["seconds"]
    return [Figure(BENCH, f"{label} ({size.label}): CPU per envelope", 1000 * cpu, "ms",
                   "same workers at the base size", 1000 * base_cpu),
            Figure(BENCH, f"{label} ({size.label}): wall time", seconds, "s", "same workers at the base size",
                   base_seconds, note=f"{size.envelopes / seconds:.0f} envelopes/s")]


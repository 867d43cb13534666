"""Issue 13, M3: slow clients cannot hold the sync API's connections (slowloris).

The attack as the red team ran it: 32 unauthenticated TLS connections, each sending one header
line every 3 s, held every slot of the front (waitress's time-out counts idle time only) and
locked out every centre. Here with real sockets on loopback, bounded in count and time: the
attack runs while an honest centre syncs, from other loopback addresses (127.0.0.2-5; Linux
routes all of 127/8 to lo) and from the centre's own address.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Iterator

import pytest

from item_bank_sync.sync.api import create_app
from item_bank_sync.sync.limits import FRONT_LIMITS
from item_bank_sync.sync.server import SyncServer, tls_context
from item_bank_sync.sync.tls_front import FramingError, FrontLimits, RequestFramer
from proctor_console.sync.run import run_sync
from tests.support.central_sync import GOOD, body_of, client_for, put_envelope
from tests.support.central_world import PACKAGE_ID

LINE_EVERY = 3.0


def _tls(sock: socket.socket) -> ssl.SSLSocket:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context.wrap_socket(sock)


@dataclass
class Slowloris:
    """Connections that finish the TLS handshake, send a request line, then one header line every
    ``LINE_EVERY`` seconds and never the blank line; records when the server closed each."""

    port: int
    sources: list[str]
    per_source: int
    opened: list[tuple[float, ssl.SSLSocket | None]] = field(default_factory=list)
    closed_after: dict[int, float] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def open_all(self) -> None:
        for source in self.sources:
            for _ in range(self.per_source):
                self.opened.append((time.monotonic(), self._open(source)))

    def _open(self, source: str) -> ssl.SSLSocket | None:
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=5, source_address=(source, 0))
        try:
            conn = _tls(raw)
            conn.sendall(b"GET /v1/packages HTTP/1.1\r\nHost: hub\r\n")
            return conn
        except (OSError, ssl.SSLError):      # refused at once (address at its cap): counts as closed
            raw.close()
            return None

    def trickle(self) -> None:
        """Every LINE_EVERY seconds, one more header line on each connection still open."""
        n = 0
        while not self.stop.wait(LINE_EVERY):
            n += 1
            for index, (since, conn) in enumerate(self.opened):
                if index in self.closed_after or conn is None:
                    self.closed_after.setdefault(index, 0.0)
                    continue
                try:
                    conn.sendall(f"X-Slow-{n}: {'a' * 20}\r\n".encode())
                    conn.settimeout(0.01)
                    if conn.recv(1) == b"":
                        raise ConnectionError("closed")
                except (TimeoutError, ssl.SSLWantReadError):
                    pass
                except (OSError, ssl.SSLError):
                    self.closed_after[index] = time.monotonic() - since

    def close(self) -> None:
        self.stop.set()
        for _, conn in self.opened:
            if conn is not None:
                conn.close()


@pytest.fixture
def attack(hub) -> Iterator[Slowloris]:
    port = int(hub.url.rsplit(":", 1)[1])
    loris = Slowloris(port, ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"], 8)
    loris.open_all()
    thread = threading.Thread(target=loris.trickle, daemon=True)
    thread.start()
    yield loris
    loris.close()
    thread.join(LINE_EVERY + 2)


def test_a_centre_syncs_while_32_slow_connections_trickle_headers(world, console, hub, attack):
    """Before: the 32 slow connections held every relay slot; the centre's sync was refused."""
    digest = put_envelope(console, world.seal("att-1", GOOD), "att-1")
    started = time.monotonic()
    report = run_sync(console, client_for(console, hub, timeout=20))
    assert time.monotonic() - started < FRONT_LIMITS.head_seconds          # got in at once, not after a deadline
    assert report.packages_imported == [PACKAGE_ID] and report.envelopes_receipted == 1
    assert body_of(console, digest) == b""
    # However steadily they trickle, the slow ones are cut once the head deadline has passed.
    deadline = FRONT_LIMITS.head_seconds + LINE_EVERY + 2
    while len(attack.closed_after) < len(attack.opened) and time.monotonic() - started < deadline + 5:
        time.sleep(0.5)
    assert len(attack.closed_after) == len(attack.opened) == 32
    assert max(attack.closed_after.values()) <= deadline


def test_slow_connections_from_the_centres_own_address_give_way_to_it(world, console, hub):
    """One address holds at most half the slots, and a newcomer from it replaces its oldest
    connection still in its head: a centre behind the same address as an attacker gets in."""
    port = int(hub.url.rsplit(":", 1)[1])
    loris = Slowloris(port, ["127.0.0.1"], FRONT_LIMITS.max_connections)
    try:
        loris.open_all()
        time.sleep(0.5)
        alive = [conn for _, conn in loris.opened if conn is not None and _still_open(conn)]
        assert len(alive) <= FRONT_LIMITS.slots_per_address()
        report = run_sync(console, client_for(console, hub, timeout=20))
        assert report.packages_imported == [PACKAGE_ID]
    finally:
        loris.close()


def _still_open(conn: ssl.SSLSocket, wait: float = 0.05) -> bool:
    conn.settimeout(wait)
    try:
        return conn.recv(1) != b""
    except (TimeoutError, ssl.SSLWantReadError):
        return True
    except (OSError, ssl.SSLError):
        return False


# ----- the deadlines one by one, on a front with short times ------------------------------------

SHORT = FrontLimits(max_connections=8, head_max_bytes=4096, body_max_bytes=1 << 20, head_seconds=1.0,
                    body_grace_seconds=1.0, body_min_bytes_per_second=1000)


@pytest.fixture(scope="module")
def quick_hub(tmp_path_factory) -> Iterator[int]:
    from tests.support.central_world import build_world

    world = build_world(tmp_path_factory.mktemp("loris") / "central")
    context, _ = tls_context(world.data_dir)
    server = SyncServer(create_app(world.data_dir), "127.0.0.1", 0, context, limits=SHORT)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()


def _connect(port: int) -> ssl.SSLSocket:
    conn = _tls(socket.create_connection(("127.0.0.1", port), timeout=10))
    conn.settimeout(10)
    return conn


def _closed_within(conn: ssl.SSLSocket, seconds: float) -> float:
    """Seconds until the server closed ``conn`` (reading what it sends); fails after ``seconds``."""
    started = time.monotonic()
    conn.settimeout(seconds)
    try:
        while conn.recv(4096):
            pass
    except (ConnectionError, ssl.SSLError):
        pass
    return time.monotonic() - started


def test_a_head_that_never_ends_is_cut_at_its_deadline(quick_hub):
    conn = _connect(quick_hub)
    conn.sendall(b"GET /v1/packages HTTP/1.1\r\n")
    for _ in range(3):                                # steady bytes do not extend the deadline
        time.sleep(0.3)
        try:
            conn.sendall(b"X-A: b\r\n")
        except (OSError, ssl.SSLError):
            break
    assert _closed_within(conn, 5) < 2.0


def test_a_body_slower_than_the_minimum_rate_is_cut_and_a_fast_one_is_answered(quick_hub):
    slow = _connect(quick_hub)
    slow.sendall(b"POST /v1/envelopes HTTP/1.1\r\nHost: hub\r\nContent-Length: 2000\r\n\r\n")
    started = time.monotonic()
    closed_at = None
    while closed_at is None and time.monotonic() - started < 8:   # 20 bytes/s; allowed 1 s + 2000 / 1000
        try:
            slow.sendall(b"x" * 10)
        except (OSError, ssl.SSLError):
            closed_at = time.monotonic() - started
            break
        if not _still_open(slow, wait=0.5):
            closed_at = time.monotonic() - started
    assert closed_at is not None and 2.5 < closed_at < 4.5
    fast = _connect(quick_hub)
    fast.sendall(b"POST /v1/envelopes HTTP/1.1\r\nHost: hub\r\nContent-Length: 2000\r\n\r\n" + b"x" * 2000)
    assert fast.recv(64).startswith(b"HTTP/1.1 401")


def test_kept_alive_requests_are_each_framed(quick_hub):
    """Several requests on one connection, each answered; an idle pause between them is waitress's
    business, but a second head that dawdles is cut like the first."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", quick_hub, context=context, timeout=10)
    for _ in range(3):
        conn.request("GET", "/v1/packages")
        response = conn.getresponse()
        assert response.status == 401 and response.read()
        time.sleep(1.5)                               # longer than the head deadline: idle is fine
    raw = conn.sock
    raw.sendall(b"GET /v1/packages HTTP/1.1\r\n")
    time.sleep(0.5)
    raw.sendall(b"Host: hub\r\n")
    assert _closed_within(raw, 5) < 2.0


def test_heads_hold_only_half_the_slots_and_the_oldest_gives_way(quick_hub):
    slow = []
    for n in range(SHORT.slots_for_heads() + 2):
        raw = socket.create_connection(("127.0.0.1", quick_hub), timeout=10, source_address=(f"127.0.1.{n + 1}", 0))
        slow.append(raw)                             # not even a TLS handshake
    conn = _connect(quick_hub)                       # a newcomer still gets through, at once
    conn.sendall(b"GET /v1/packages HTTP/1.1\r\nHost: hub\r\n\r\n")
    assert conn.recv(64).startswith(b"HTTP/1.1 401")
    evicted = 0
    for raw in slow[:3]:                             # the oldest made room
        raw.settimeout(0.2)
        try:
            evicted += raw.recv(1) == b""
        except TimeoutError:
            pass
        except OSError:
            evicted += 1
    assert evicted == 3
    for raw in slow:
        raw.close()


@pytest.mark.parametrize("head", [
    b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"a" * 5000 + b"\r\n\r\n",
])
def test_framing_the_front_cannot_follow_is_refused(head):
    framer = RequestFramer(SHORT, 0.0)
    with pytest.raises(FramingError):
        framer.feed(head, 0.0)


def test_the_framer_follows_bodies_pipelines_and_chunked_requests():
    framer = RequestFramer(SHORT, 0.0)
    framer.feed(b"\r\nPOST /a HTTP/1.1\r\ncontent-length:  4\r\n\r\nab", 0.5)
    assert framer.state == "body" and framer.deadline == 0.5 + 1.0 + 4 / 1000
    framer.feed(b"cdGET /b HTTP/1.1\r\n\r\nGET /c", 2.0)
    assert framer.requests == 2 and framer.state == "head" and framer.deadline == 3.0
    framer.feed(b" HTTP/1.1\r\n\r\n", 2.5)
    assert framer.requests == 3 and framer.state == "between" and framer.deadline is None
    framer.feed(b"POST /d HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 4.0)
    assert framer.state == "opaque" and framer.deadline == 4.0 + 1.0 + (1 << 20) / 1000

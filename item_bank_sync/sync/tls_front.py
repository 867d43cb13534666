"""TLS for the sync API: a small terminator in the server's own process, in front of waitress.

Why not TLS inside waitress: waitress has none, and wrapping its sockets in ``ssl`` is unsafe
rather than merely unsupported. Its event loop reads a connection while a worker thread writes
the answer to it, and one OpenSSL connection must never be used by two threads at once; its
``select`` also cannot see plaintext that OpenSSL has already decrypted and buffered, so a request
can stall half-read. Why not only a documented reverse proxy: test centres pin the fingerprint of
the certificate ``serve`` makes (``serve_tls``), and an offline central body should not need a
second program to be safe by default. A site that prefers its own proxy can still put one in
front of the plain listener.

So TLS is done by asyncio's SSL protocol (memory BIOs, every read and write of a connection on the
one loop thread) and each decrypted connection is relayed, bytes only, to waitress on a Unix
socket in a fresh 0700 directory with 0600 permissions: nothing but this process's user can
reach the plain side. The relay logs nothing of what it carries; HTTP parsing, size limits and
answers stay waitress's. The development mode without TLS (``serve --insecure-dev``) goes through
the same front on plain TCP, so it has the same limits.

Why the front also keeps time (issue 13, M3: slowloris). waitress's ``channel_timeout`` counts
idle time only, so 32 unauthenticated connections that each sent one header line every 3 s held
every connection slot and locked out every centre. The front therefore follows the request
framing of what the client sends (where a request head ends, the body length it declares; it
never looks at anything else) and enforces, per connection:

* **a deadline for the whole head**: TLS handshake plus request line and headers within
  ``HEAD_SECONDS`` of accepting (of its first byte, for a later request on a kept-alive
  connection), whatever the pace of the bytes;
* **a deadline for the body**: ``BODY_GRACE_SECONDS`` plus the declared length at
  ``BODY_MIN_BYTES_PER_SECOND`` (a chunked body, which declares none, gets the time of the
  largest body the API takes, and the connection ends after it);
* **a cap per address**: one address holds at most half of the connections at once; a newcomer
  from an address at its cap takes the place of that address's oldest connection still in its
  first head (refused only when all of them have finished theirs);
* **slots kept for requests**: connections that have not finished their first head may hold at
  most half of the slots; when they hold them all, the oldest of them gives way to the newcomer.
  An honest client finishes its head in a round trip or two, so it always gets through; a slow
  one loses its slot to the next.

The backend connection (a waitress slot) is opened only once the first head is complete, so a
connection still sending its head costs the front a socket, never a worker or a waitress slot.

Who is connected (the peer hook). waitress on the Unix socket sees only the front, so an app that
limits or backs off per client address (the public site, the staff sign-in) is told it by the
front: given a :class:`PeerHeader`, the front writes ``NAME: SECRET ADDRESS`` into the first
request head of each connection (any copy the client sent removed) together with ``Connection:
close`` (a WSGI app may not set that hop-by-hop header itself), so waitress serves one request per
connection. ``SECRET`` is random per process and known only to the front and the app: a request
whose header does not carry it (a second request pipelined on the connection, with an address of
the client's choosing) must be refused by the app. Pages are single requests, so one TLS
handshake per request costs little.
What is not covered, and why it is acceptable, is in docs/SECURITY.md (M3).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import ssl
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from exam_core.aioloop import LoopThread

#: Bytes moved per read in each direction (the relay holds at most this much per direction).
CHUNK_BYTES = 64 * 1024
#: TLS handshake and the whole first request head, from accepting the connection.
HEAD_SECONDS = 10.0
#: A body has this long plus its declared length at the minimum rate below.
BODY_GRACE_SECONDS = 30.0
BODY_MIN_BYTES_PER_SECOND = 32 * 1024

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrontLimits:
    """What one front allows (defaults above; tests shorten the times).

    ``max_connections`` is the total at once; ``head_slots`` the most that may still be in their
    first head and ``per_address`` the most one address may hold (0: half of the total, each);
    ``head_max_bytes`` the longest head the front buffers
    (waitress refuses a long head itself, with 431, below this); ``body_max_bytes`` the largest
    body the API takes (it sets the time of a body whose length is not declared).
    """

    max_connections: int
    head_max_bytes: int
    body_max_bytes: int
    head_seconds: float = HEAD_SECONDS
    body_grace_seconds: float = BODY_GRACE_SECONDS
    body_min_bytes_per_second: int = BODY_MIN_BYTES_PER_SECOND
    per_address: int = 0
    head_slots: int = 0

    def slots_for_heads(self) -> int:
        return self.head_slots or max(1, self.max_connections // 2)

    def slots_per_address(self) -> int:
        return self.per_address or max(1, self.max_connections // 2)

    def body_seconds(self, length: int) -> float:
        return self.body_grace_seconds + length / self.body_min_bytes_per_second


class Backends:
    """Where the front relays decrypted connections: one Unix socket (one waitress process) or the
    sockets of several worker processes (``serve --workers N``).

    Why least busy, ties in turn: uploads differ in cost (one envelope or a hundred), so plain
    round robin would queue a centre behind a long batch while another worker idles; counting the
    relays open to each worker is free in the front's one loop thread and needs nothing from the
    workers. A worker that is down (being restarted) refuses the connection; the front then tries
    the next one, so a dead worker costs a new request nothing. Used only from the front's loop
    thread (no lock).
    """

    def __init__(self, paths: Sequence[str]) -> None:
        if not paths:
            raise ValueError("at least one backend socket")
        self._busy: dict[str, int] = dict.fromkeys(paths, 0)
        self._turn = 0

    def order(self) -> list[str]:
        """Every backend, least busy first; among equals, starting one further each call."""
        paths = list(self._busy)
        self._turn = (self._turn + 1) % len(paths)
        rotated = paths[self._turn:] + paths[:self._turn]
        return sorted(rotated, key=self._busy.__getitem__)

    def taken(self, path: str) -> None:
        self._busy[path] += 1

    def returned(self, path: str) -> None:
        self._busy[path] -= 1

    def busy(self) -> dict[str, int]:
        """Open relays per backend (for tests and the operator's view)."""
        return dict(self._busy)


@dataclass(frozen=True)
class PeerHeader:
    """The front's peer hook: tell the app behind it the client's address (see the module doc).

    ``name`` is the header (the app reads it), ``secret`` the per-process value the app checks
    before it believes the address.
    """

    name: str
    secret: str

    def tag(self, head: bytes, peer: str) -> bytes:
        """``head`` (a request head and whatever followed it) with ``name: secret peer`` and
        ``Connection: close`` after the request line, and the client's own copies of both removed.
        Bytes that are not a complete head are returned as they are."""
        line_end, end = head.find(b"\r\n"), head.find(b"\r\n\r\n")
        if line_end < 0 or end < 0:
            return head
        replaced = (self.name.encode().lower() + b":", b"connection:")
        kept = [h for h in head[line_end + 2:end].split(b"\r\n") if h and not h.lower().startswith(replaced)]
        ours = f"{self.name}: {self.secret} {peer}".encode("ascii", "replace")
        tagged = [head[:line_end], ours, b"Connection: close", *kept]
        return b"\r\n".join(tagged) + b"\r\n" + head[end + 2:]


def peer_of(value: str, secret: str) -> str | None:
    """The app's side of the peer hook: the client's address from the header's ``value`` (``SECRET
    ADDRESS``), or None when it does not carry ``secret`` (a second request on the connection, a
    forged header: the app refuses the request)."""
    given, _, peer = value.partition(" ")
    if not peer or not hmac.compare_digest(given.encode(), secret.encode()):
        return None
    return peer[:64]


class FramingError(Exception):
    """The client's bytes cannot be framed as requests within the limits (the connection ends)."""


class RequestFramer:
    """Where a client is in its stream of requests, from the bytes it sends, and until when it may
    take to finish the part it is in.

    States: ``head`` (request line and headers, until the blank line), ``body`` (the declared
    ``Content-Length``), ``between`` (a request complete, no byte of the next yet: no deadline of
    the front's; waitress's idle time-out applies) and ``opaque`` (after a chunked head: one
    deadline for the rest of the connection, which is not framed further). Nothing is kept but
    the head being read (at most ``head_max_bytes``).
    """

    def __init__(self, limits: FrontLimits, now: float) -> None:
        self.limits = limits
        self.state = "head"
        self.deadline: float | None = now + limits.head_seconds
        self.requests = 0
        self._head = bytearray()
        self._body_left = 0

    @property
    def in_first_head(self) -> bool:
        return self.requests == 0 and self.state == "head"

    def feed(self, data: bytes, now: float) -> None:
        """Follow ``data``; raises ``FramingError`` for a head too long or a length that is not one."""
        view = memoryview(data)
        while view:
            if self.state == "between":
                self.state, self.deadline = "head", now + self.limits.head_seconds
            if self.state == "head":
                view = self._feed_head(view, now)
            elif self.state == "body":
                taken = min(self._body_left, len(view))
                self._body_left -= taken
                view = view[taken:]
                if not self._body_left:
                    self._end_request()
            else:                                   # opaque: nothing more to frame
                return

    def _feed_head(self, view: memoryview, now: float) -> memoryview:
        if not self._head:                          # blank lines before a request line are allowed
            while view and view[0] in (0x0D, 0x0A):
                view = view[1:]
            if not view:
                return view
        start = max(0, len(self._head) - 3)
        self._head += view
        end = self._head.find(b"\r\n\r\n", start)
        if end < 0:
            if len(self._head) > self.limits.head_max_bytes:
                raise FramingError(f"request head longer than {self.limits.head_max_bytes} bytes")
            return view[len(view):]
        rest = len(self._head) - (end + 4)
        self._start_body(bytes(self._head[:end]), now)
        self._head.clear()
        return view[len(view) - rest:]

    def _start_body(self, head: bytes, now: float) -> None:
        if len(head) > self.limits.head_max_bytes:
            raise FramingError(f"request head longer than {self.limits.head_max_bytes} bytes")
        length, chunked = _body_framing(head)
        if chunked:
            self.state, self.deadline = "opaque", now + self.limits.body_seconds(self.limits.body_max_bytes)
            self.requests += 1
            return
        self._body_left = length
        self.state, self.deadline = "body", now + self.limits.body_seconds(length)
        if not length:
            self._end_request()

    def _end_request(self) -> None:
        self.requests += 1
        self.state, self.deadline = "between", None


def _body_framing(head: bytes) -> tuple[int, bool]:
    """``(Content-Length, chunked)`` of a request head; ``FramingError`` for a length that is not
    one number (conflicting repeats, signs, letters)."""
    lengths = set()
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            lengths.add(value.strip())
        elif name == b"transfer-encoding":
            chunked = True
    if chunked:
        return 0, True
    if len(lengths) > 1 or any(not v.isdigit() or len(v) > 18 for v in lengths):
        raise FramingError("Content-Length is not one decimal number")
    return (int(lengths.pop()) if lengths else 0), False


@dataclass(eq=False)
class _Connection:
    """One accepted connection as the front counts it."""

    address: str
    since: float
    task: asyncio.Task[Any] | None = field(default=None)
    heading: bool = True


class TlsFront:
    """Accept TLS (or, with ``context=None``, plain TCP) on ``(host, port)`` and relay each
    connection to the Unix socket ``backend`` (or the least busy of :class:`Backends`) under
    ``limits`` (see the module docstring).

    ``port`` is the bound port (pass 0 to let the OS choose). ``drain()`` stops taking
    connections and waits for the open ones; ``close()`` stops it. With ``peer_header`` the front
    tells the app who connected (the peer hook, see the module doc).
    """

    def __init__(self, host: str, port: int, context: ssl.SSLContext | None, backend: str | Backends, *,
                 limits: FrontLimits, peer_header: PeerHeader | None = None) -> None:
        self._backends = backend if isinstance(backend, Backends) else Backends([backend])
        self._peer_header = peer_header
        self._context = context
        self._limits = limits
        self._connections: set[_Connection] = set()
        self._per_address: Counter[str] = Counter()
        self._loop = LoopThread("sync-tls-front")
        self._loop.loop.set_exception_handler(_quiet_exception_handler)
        self._server = self._loop.run(self._loop.loop.create_server(self._protocol, host, port), timeout=30)

    @property
    def port(self) -> int:
        return int(self._server.sockets[0].getsockname()[1])

    def drain(self, timeout: float) -> int:
        """Stop listening and wait up to ``timeout`` seconds for the open connections to end (a
        graceful stop: requests in flight get their answers); returns how many are still open."""
        if not self._loop.loop.is_running():
            return 0
        return int(self._loop.run(self._drain(timeout), timeout + 5))

    async def _drain(self, timeout: float) -> int:
        self._server.close()
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        while self._connections and loop.time() < until:
            await asyncio.sleep(0.05)
        return len(self._connections)

    def close(self, timeout: float = 5.0) -> None:
        """Stop listening, drop the relays still open, and stop the loop. Idempotent."""
        if self._loop.loop.is_running():
            try:
                self._loop.run(self._close_all(), timeout)
            finally:
                self._loop.stop(timeout)

    async def _close_all(self) -> None:
        self._server.close()
        tasks = [c.task for c in self._connections if c.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _protocol(self) -> asyncio.Protocol:
        return _PausedUntilServed(asyncio.StreamReader(limit=CHUNK_BYTES), self._serve)

    # --- slots ---------------------------------------------------------------------------------
    def _admit(self, conn: _Connection) -> bool:
        """Take ``conn`` in if a slot is free or can be freed from the oldest connection still in
        its first head: of its own address when that address is at its cap, else of any."""
        if self._per_address[conn.address] >= self._limits.slots_per_address():
            own = [c for c in self._connections if c.heading and c.address == conn.address]
            if not own:
                return False
            self._evict(min(own, key=lambda c: c.since))
        heading = [c for c in self._connections if c.heading]
        full = len(self._connections) >= self._limits.max_connections
        if heading and (full or len(heading) >= self._limits.slots_for_heads()):
            self._evict(min(heading, key=lambda c: c.since))
        elif full:
            return False
        self._connections.add(conn)
        self._per_address[conn.address] += 1
        return True

    def _evict(self, conn: _Connection) -> None:
        self._release(conn)
        if conn.task is not None:
            conn.task.cancel()

    def _release(self, conn: _Connection) -> None:
        if conn in self._connections:
            self._connections.discard(conn)
            self._per_address[conn.address] -= 1
            if not self._per_address[conn.address]:
                del self._per_address[conn.address]

    # --- one connection -------------------------------------------------------------------------
    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        conn = _Connection(_peer_address(client_writer), loop.time(), asyncio.current_task())
        if not self._admit(conn):
            log.debug("sync front: connection refused (address at its cap or every slot busy)")
            client_writer.transport.abort()
            return
        try:
            await self._relay(conn, client_reader, client_writer, loop)
        except asyncio.CancelledError:
            client_writer.transport.abort()
            raise
        finally:
            self._release(conn)

    async def _relay(self, conn: _Connection, client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter, loop: asyncio.AbstractEventLoop) -> None:
        framer = RequestFramer(self._limits, conn.since)
        try:
            first = await asyncio.wait_for(self._first_head(client_reader, client_writer, framer, loop),
                                           self._limits.head_seconds)
        except (TimeoutError, OSError, ssl.SSLError, FramingError, ConnectionError):
            client_writer.transport.abort()         # too slow, not TLS, or not a request: no answer
            return
        conn.heading = False
        if self._peer_header is not None:
            first = self._peer_header.tag(first, conn.address or "unknown")
        for path in self._backends.order():
            try:
                backend_reader, backend_writer = await asyncio.open_unix_connection(path, limit=CHUNK_BYTES)
            except OSError:
                continue                            # that worker is down (restarting): the next one
            break
        else:
            client_writer.transport.abort()
            return
        self._backends.taken(path)
        try:
            backend_writer.write(first)
            await _pump_both(client_reader, client_writer, backend_reader, backend_writer, framer, loop)
        finally:
            self._backends.returned(path)

    async def _first_head(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, framer: RequestFramer,
                          loop: asyncio.AbstractEventLoop) -> bytes:
        """Handshake, then read until the first request head is complete; the bytes read."""
        if self._context is not None:
            await writer.start_tls(self._context, ssl_handshake_timeout=self._limits.head_seconds)
        elif isinstance(writer.transport, asyncio.ReadTransport):   # plain TCP: read from here on
            writer.transport.resume_reading()
        received = bytearray()
        while framer.in_first_head:
            data = await reader.read(CHUNK_BYTES)
            if not data:
                raise ConnectionError("closed before its request head ended")
            framer.feed(data, loop.time())
            received += data
        return bytes(received)


class _PausedUntilServed(asyncio.StreamReaderProtocol):
    """A stream protocol that reads nothing until its connection's task decides how to.

    Why: TLS starts inside the task (after the slot and the deadline are in place), and bytes the
    plain stream read before that (the client's first handshake message, sent at once) would be
    lost to the TLS layer, which then waits for a message it will never see. Reading is resumed by
    ``start_tls`` (TLS) or by the task itself (plain TCP)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.ReadTransport):       # always, for a TCP server
            transport.pause_reading()
        super().connection_made(transport)


def _peer_address(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


async def _pump_both(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter,
                     backend_reader: asyncio.StreamReader, backend_writer: asyncio.StreamWriter,
                     framer: RequestFramer, loop: asyncio.AbstractEventLoop) -> None:
    """Copy both ways until waitress ends the connection, the client breaks it, or the client
    misses a deadline of its framing.

    A client's clean end of input is passed on as a half-close (waitress still answers what it
    has); a broken client side, a missed deadline, or waitress closing, ends both.
    """
    upstream = asyncio.ensure_future(_copy_requests(client_reader, backend_writer, framer, loop))
    downstream = asyncio.ensure_future(_copy(backend_reader, client_writer, half_close=False))
    try:
        done, _ = await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
        if upstream in done and upstream.result():  # clean end of the client's input
            await downstream
    finally:
        for task in (upstream, downstream):
            task.cancel()
        for writer in (backend_writer, client_writer):
            writer.close()  # after what is already written (the end of an answer) is sent


async def _copy_requests(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, framer: RequestFramer,
                         loop: asyncio.AbstractEventLoop) -> bool:
    """Move the client's bytes to waitress while they keep to the framer's deadlines; True on a
    clean end of input, False when the client broke the connection, framed badly or was late."""
    try:
        while True:
            timeout = None if framer.deadline is None else framer.deadline - loop.time()
            if timeout is not None and timeout <= 0:
                return False
            data = await asyncio.wait_for(reader.read(CHUNK_BYTES), timeout)
            if not data:
                break
            framer.feed(data, loop.time())
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        return True
    except (TimeoutError, OSError, ssl.SSLError, asyncio.IncompleteReadError, FramingError):
        return False


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, half_close: bool) -> bool:
    """Move bytes until end of input; True on a clean end, False when either side broke."""
    try:
        while data := await reader.read(CHUNK_BYTES):
            writer.write(data)
            await writer.drain()  # backpressure: never buffer more than one chunk ahead
        if half_close and writer.can_write_eof():
            writer.write_eof()
        return True
    except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
        return False


def _quiet_exception_handler(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Failed handshakes and dropped connections are routine on a public port: log their kind
    only (asyncio's default handler would print tracebacks, with peer details, at ERROR)."""
    exc = context.get("exception")
    log.debug("sync TLS front: %s", type(exc).__name__ if exc else context.get("message", "event"))


__all__ = ["Backends", "FramingError", "FrontLimits", "PeerHeader", "RequestFramer", "TlsFront", "peer_of"]

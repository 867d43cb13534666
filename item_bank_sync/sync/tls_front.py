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
reach the plain side. The relay parses nothing and logs nothing of what it carries; size limits,
time-outs and HTTP parsing stay waitress's.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

from exam_core.aioloop import LoopThread

#: Bytes moved per read in each direction (the relay holds at most this much per direction).
CHUNK_BYTES = 64 * 1024
HANDSHAKE_SECONDS = 10.0

log = logging.getLogger(__name__)


class TlsFront:
    """Accept TLS on ``(host, port)`` and relay each connection to the Unix socket ``backend``.

    At most ``max_connections`` relays run at once (more are closed after their handshake);
    ``port`` is the bound port (pass 0 to let the OS choose). ``close()`` stops it.
    """

    def __init__(self, host: str, port: int, context: ssl.SSLContext, backend: str, *,
                 max_connections: int) -> None:
        self._backend = backend
        self._max_connections = max_connections
        self._relays: set[asyncio.Task] = set()
        self._loop = LoopThread("sync-tls-front")
        self._loop.loop.set_exception_handler(_quiet_exception_handler)
        self._server = self._loop.run(asyncio.start_server(
            self._relay, host, port, ssl=context, ssl_handshake_timeout=HANDSHAKE_SECONDS,
            limit=CHUNK_BYTES), timeout=30)

    @property
    def port(self) -> int:
        return int(self._server.sockets[0].getsockname()[1])

    def close(self, timeout: float = 5.0) -> None:
        """Stop listening, drop the relays still open, and stop the loop. Idempotent."""
        if self._loop.loop.is_running():
            try:
                self._loop.run(self._close_all(), timeout)
            finally:
                self._loop.stop(timeout)

    async def _close_all(self) -> None:
        self._server.close()
        for task in list(self._relays):
            task.cancel()
        await asyncio.gather(*self._relays, return_exceptions=True)

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if len(self._relays) >= self._max_connections:
            client_writer.transport.abort()
            return
        task = asyncio.current_task()
        self._relays.add(task)
        try:
            try:
                backend_reader, backend_writer = await asyncio.open_unix_connection(self._backend)
            except OSError:
                client_writer.transport.abort()
                return
            await _pump_both(client_reader, client_writer, backend_reader, backend_writer)
        finally:
            self._relays.discard(task)


async def _pump_both(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter,
                     backend_reader: asyncio.StreamReader, backend_writer: asyncio.StreamWriter) -> None:
    """Copy both ways until waitress ends the connection or the client breaks it.

    A client's clean end of input is passed on as a half-close (waitress still answers what it
    has); a broken client side, or waitress closing, ends both.
    """
    upstream = asyncio.ensure_future(_copy(client_reader, backend_writer, half_close=True))
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


__all__ = ["TlsFront"]

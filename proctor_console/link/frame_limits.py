"""Size limits on what a Socket.IO client may send, small until a kiosk has logged in.

Why this exists: a kiosk must be able to send a sealed envelope in one message (up to
``protocol.MAX_MESSAGE_BYTES``, about 43 MB), but engine.io's ``max_http_buffer_size`` is one
number for every connection, and under gevent-websocket it is checked only after the whole
message is in memory; gevent-websocket itself has no limit at all (a frame header may announce
2^63 bytes, and continuation frames grow a message without end). So anyone who can open a
socket, before any login, could make the console buffer as much as it likes.

Here every websocket carries a :class:`FrameBudget`: ``SMALL_MESSAGE_BYTES`` from the start, raised
to ``protocol.MAX_MESSAGE_BYTES`` by the ``/kiosk`` namespace once the kiosk's signed challenge
login has succeeded on that connection (``grant``), lowered again when it leaves (``restrict``).
Proctor browsers never need more than the small budget. :class:`BoundedWebSocket` checks each frame
header against the budget *before* reading its payload and closes the socket with 1009 (message
too big) when a message, with the binary attachments that follow it, would exceed it. Engine.io
long-polling is not used by kiosks (their link is websocket-only), so a polling POST body is always
held to the small budget (:class:`PollingBodyLimit`, 413 before the body is read).
"""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Callable
from typing import Any

from geventwebsocket.exceptions import ProtocolError, WebSocketError
from geventwebsocket.handler import WebSocketHandler
from geventwebsocket.websocket import Header, WebSocket

from proctor_console.link import malformed

log = logging.getLogger("proctor_console.frame_limits")

#: Largest message before a kiosk login, and ever for proctors: a kiosk's CONNECT auth is under
#: 2 KB, the largest dashboard action (an incident report of 10,000 characters) under 40 KB.
SMALL_MESSAGE_BYTES = 64 * 1024
ENVIRON_KEY = "invigil.frame_budget"
SOCKET_IO_PATH = "/socket.io"
MESSAGE_TOO_BIG = 1009  # RFC 6455 close code


class FrameBudget:
    """The largest message one connection may send now (changed while the connection is open)."""

    def __init__(self, limit: int = SMALL_MESSAGE_BYTES) -> None:
        self.limit = limit


def grant(environ: dict[str, Any], limit: int) -> bool:
    """Let the connection of ``environ`` send messages up to ``limit``; False when it has no budget
    (a connection that began as long-polling keeps the small limit on every transport)."""
    budget = environ.get(ENVIRON_KEY)
    if budget is None:
        return False
    budget.limit = limit
    return True


def restrict(environ: dict[str, Any]) -> None:
    """Back to the small limit (the kiosk logged out or was refused)."""
    grant(environ, SMALL_MESSAGE_BYTES)


class MessageTooBig(Exception):
    pass


class BoundedWebSocket(WebSocket):
    """gevent-websocket's WebSocket with a per-connection budget checked on every frame header."""

    # gevent-websocket's own attributes (the library has no types); close() lets go of them
    environ: dict[str, Any] | None
    stream: Any
    raw_read: Any
    raw_write: Any
    closed: bool

    def __init__(self, environ: dict[str, Any], stream: Any, handler: Any, budget: FrameBudget) -> None:
        super().__init__(environ, stream, handler)
        self.budget = budget
        self._message_bytes = 0
        self._malformed = 0

    def read_frame(self) -> tuple[Header, bytes]:
        header = Header.decode_header(self.stream)
        if header.flags:
            raise ProtocolError("reserved bits set")
        if header.opcode == self.OPCODE_TEXT:
            self._message_bytes = 0  # a Socket.IO packet starts; binary messages are its attachments
        if header.opcode in (self.OPCODE_TEXT, self.OPCODE_BINARY, self.OPCODE_CONTINUATION):
            self._message_bytes += header.length
            if self._message_bytes > self.budget.limit:
                raise MessageTooBig(f"{self._message_bytes} bytes announced, limit {self.budget.limit}")
        payload = self.raw_read(header.length) if header.length else b""
        if len(payload) != header.length:
            raise ProtocolError("unexpected end of the frame payload")
        return header, unmask(payload, header.mask) if header.mask else payload

    def receive(self) -> Any:
        """The next message that is an Engine.IO packet: text frames that are none are dropped
        (Engine.IO would parse them outside its error handling) and, after a few, the socket is
        closed (``malformed``)."""
        while True:
            try:
                message = super().receive()
            except MessageTooBig as exc:
                address = (self.environ or {}).get("REMOTE_ADDR", "?")
                log.warning("closing a socket from %s: message too big (%s)", address, exc)
                self.close(MESSAGE_TOO_BIG, b"message too big")
                return None
            refusal = None if message is None else malformed.engineio_frame_refusal(message)
            if refusal is None:
                return message
            if self._drop_malformed(refusal):
                return None

    def _drop_malformed(self, refusal: str) -> bool:
        """Count and report a malformed frame; True when the socket was closed for it."""
        self._malformed += 1
        address = (self.environ or {}).get("REMOTE_ADDR", "?")
        malformed.NETWORK_JUNK.warn("dropped a websocket frame from %s: %s", address, refusal)
        if self._malformed < malformed.MAX_MALFORMED_PER_CONNECTION:
            return False
        malformed.NETWORK_JUNK.warn("closing the socket from %s after %d malformed frames", address, self._malformed)
        self.close(malformed.PROTOCOL_ERROR, b"malformed packets")
        return True

    def close(self, code: int = 1000, message: bytes | str = b"") -> None:
        """Send an RFC 6455 close frame (gevent-websocket's own sends neither the code nor the reason
        correctly) and let go of the stream; the server closes the TCP connection afterwards."""
        if self.closed:
            return
        reason = message.encode() if isinstance(message, str) else bytes(message or b"")
        try:
            self.send_frame(struct.pack("!H", code) + reason[:123], self.OPCODE_CLOSE)
        except WebSocketError:
            pass  # the peer is gone already
        finally:
            self.closed = True
            self.stream = self.raw_write = self.raw_read = self.environ = None


def unmask(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the repeated 4-byte ``key`` as two big integers.

    gevent-websocket unmasks in a Python loop, one byte per iteration: seconds for an envelope,
    during which the event loop serves no other socket. This takes milliseconds."""
    size = len(payload)
    stream = (bytes(key) * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(size, "little")


class FrameLimitedHandler(WebSocketHandler):
    """The server's handler: each upgraded connection reads through a BoundedWebSocket, and a body
    refused as too large (413) is not read to its end."""

    def run_application(self) -> None:
        super().run_application()
        if abs(self.code or 0) == 413 and self.wsgi_input is not None:
            self.close_connection = True
            skip_refused_body(self.wsgi_input)

    def upgrade_connection(self) -> Any:
        result = super().upgrade_connection()
        plain = self.environ.get("wsgi.websocket")
        if plain is not None:
            budget = FrameBudget()
            bounded = BoundedWebSocket(self.environ, plain.stream, self, budget)
            # retire the plain object without a close frame (its finaliser would send one)
            plain.closed, plain.stream = True, None
            self.websocket = bounded
            self.environ.update({"wsgi.websocket": bounded, ENVIRON_KEY: budget})
        return result


#: What is read of a body refused as too large before the connection closes: enough for the
#: client to have sent it and read the 413 (closing on unread data resets the connection and
#: may swallow the answer), never the announced size.
REFUSED_BODY_DRAIN_BYTES = 1024 * 1024
REFUSED_BODY_DRAIN_SECONDS = 2.0


def skip_refused_body(body: Any) -> None:
    """Read at most ``REFUSED_BODY_DRAIN_BYTES`` for ``REFUSED_BODY_DRAIN_SECONDS`` of a refused
    body, then tell gevent's input it is finished: pywsgi would otherwise read the whole announced
    body (600 MiB, or for ever from a client that sends no more) after the answer."""
    import gevent
    left = REFUSED_BODY_DRAIN_BYTES
    try:
        with gevent.Timeout(REFUSED_BODY_DRAIN_SECONDS):
            while left > 0 and body.read(min(16384, left)):
                left -= 16384
    except (gevent.Timeout, OSError, ValueError):
        pass  # the client sends no more, or a broken body: the connection closes anyway
    body.content_length, body.chunked_input = body.position, False  # pywsgi's discard: nothing left


class PollingBodyLimit:
    """WSGI middleware: a long-polling POST to Socket.IO larger than the small budget gets 413, and
    one whose body is no Engine.IO payload 400 (``malformed``), before Engine.IO reads it."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        if environ.get("PATH_INFO", "").startswith(SOCKET_IO_PATH) and environ.get("REQUEST_METHOD") == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = SMALL_MESSAGE_BYTES + 1
            if length > SMALL_MESSAGE_BYTES:
                start_response("413 Payload Too Large", [("Content-Type", "text/plain"), ("Connection", "close")])
                return [b"message too large for this connection\n"]
            body = environ["wsgi.input"].read(length) if length > 0 else b""
            refusal = malformed.engineio_payload_refusal(body)
            if refusal is not None:
                malformed.NETWORK_JUNK.warn("refused a long-polling POST from %s: %s",
                                            environ.get("REMOTE_ADDR", "?"), refusal)
                start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Connection", "close")])
                return [b"malformed payload\n"]
            environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)

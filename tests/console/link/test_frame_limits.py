"""Message size limits on the console's Socket.IO endpoint: small before a kiosk login, envelope-sized after.

Against a real console process over TLS: a python-socketio client whose CONNECT carries megabytes, a
raw websocket announcing a 2 GiB frame (cut off from its header alone, before any payload arrives),
a logged-in proctor pushing a large action, a long-polling POST; and a logged-in simulated kiosk
sending an envelope-sized message, which the console reads and answers.
"""

from __future__ import annotations

import base64
import hashlib
import os
import ssl
import struct
import time

import pytest
import requests
import socketio
import websocket
from geventwebsocket.websocket import Header

from exam_core import limits, protocol
from proctor_console.link.frame_limits import MESSAGE_TOO_BIG, SMALL_MESSAGE_BYTES, unmask
from tests.support.console_world import PROCTOR, RunningConsole, wait_until

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 125, 65_537])
def test_fast_unmask_equals_gevent_websockets(size: int) -> None:
    payload, key = os.urandom(size), os.urandom(4)
    reference = Header(length=size)
    reference.mask = key
    assert unmask(payload, key) == bytes(reference.mask_payload(payload))


def _refusals(running: RunningConsole) -> int:
    return sum(1 for e in running_ctx(running).audit.entries() if e.action == "kiosk.refused")


def running_ctx(running: RunningConsole):
    from proctor_console.context import ConsoleContext
    return ConsoleContext(running.setup.data)


def _raw_socket(running: RunningConsole) -> websocket.WebSocket:
    """An engine.io websocket with no Socket.IO login (what anyone on the LAN can open)."""
    url = running.url.replace("https", "wss") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, sslopt={"cert_reqs": ssl.CERT_NONE}, timeout=10)
    opening = ws.recv()
    assert isinstance(opening, str) and opening.startswith("0{")  # engine.io OPEN
    return ws


def _close_code(ws: websocket.WebSocket) -> int:
    """Read frames until the server's close frame; its status code."""
    frame = ws.recv_frame()
    while frame.opcode != websocket.ABNF.OPCODE_CLOSE:
        frame = ws.recv_frame()
    ws.shutdown()
    return struct.unpack("!H", frame.data[:2])[0]


def test_a_client_before_login_cannot_send_a_large_connect(running_console: RunningConsole) -> None:
    before = _refusals(running_console)
    client = socketio.Client(ssl_verify=False, reconnection=False)
    auth = {"kiosk_id": "kiosk-big", "payload": "A" * (3 * 1024 * 1024), "signature": "x", "v": 1}
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(running_console.url, namespaces=[protocol.KIOSK_NAMESPACE], auth=auth,
                       transports=["websocket"], wait_timeout=10)
    assert _refusals(running_console) == before  # cut off before the auth was ever parsed
    # a kiosk-sized CONNECT on the same kind of connection is read and judged (refused: unknown kiosk)
    small = socketio.Client(ssl_verify=False, reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        small.connect(running_console.url, namespaces=[protocol.KIOSK_NAMESPACE],
                      auth={**auth, "payload": "A" * 1000}, transports=["websocket"], wait_timeout=10)
    wait_until(lambda: _refusals(running_console) == before + 1)


def test_a_frame_announcing_gigabytes_is_refused_from_its_header(running_console: RunningConsole) -> None:
    ws = _raw_socket(running_console)
    key = os.urandom(4)
    header = bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 2 * 1024 ** 3) + key  # FIN, text, masked, 2 GiB
    started = time.monotonic()
    ws.sock.sendall(header + unmask(b'40/kiosk,{"kiosk_id":"', key))  # and nothing more
    assert _close_code(ws) == MESSAGE_TOO_BIG
    assert time.monotonic() - started < 5  # it did not wait for 2 GiB to arrive


def test_binary_attachments_count_towards_the_limit(running_console: RunningConsole) -> None:
    ws = _raw_socket(running_console)
    ws.send('451-/kiosk,["hello",{"_placeholder":true,"num":0}]')  # a packet announcing one attachment
    chunk = b"\0" * (SMALL_MESSAGE_BYTES // 2)
    ws.send_binary(chunk)
    ws.send_binary(chunk)  # each binary message is small, the packet with its attachments is not
    assert _close_code(ws) == MESSAGE_TOO_BIG


def test_a_logged_in_proctor_cannot_push_a_large_action(running_console: RunningConsole) -> None:
    client, csrf, _ = running_console.proctor_socket(running_console.login(PROCTOR))
    ok = client.call("action", {"csrf": csrf, "type": "incident", "category": "other", "text": "x" * 9000},
                     namespace=protocol.PROCTOR_NAMESPACE, timeout=15)
    assert ok["ok"]  # the largest real action (an incident report) fits
    client.emit("action", {"csrf": csrf, "type": "incident", "category": "other", "text": "y" * (2 * 1024 * 1024)},
                namespace=protocol.PROCTOR_NAMESPACE)
    wait_until(lambda: not client.connected, timeout=10)
    texts = [r[0] for r in running_ctx(running_console).db.execute("SELECT text FROM incidents").fetchall()]
    assert not any(t.startswith("yyy") for t in texts)


def test_long_polling_posts_are_held_to_the_small_limit(running_console: RunningConsole) -> None:
    http = requests.Session()
    http.verify, http.trust_env = False, False
    url = running_console.url + "/socket.io/?EIO=4&transport=polling"
    opened = http.get(url)
    sid = __import__("json").loads(opened.text[1:])["sid"]
    reply = http.post(f"{url}&sid={sid}", data=b"4" + b"x" * (SMALL_MESSAGE_BYTES + 1))
    assert reply.status_code == 413


def test_a_logged_in_kiosk_sends_an_envelope_sized_message(running_console: RunningConsole) -> None:
    kiosk = running_console.kiosk("kiosk-envelope")
    envelope = os.urandom(limits.ENVELOPE_MAX_BYTES - 4096)  # not a real envelope: the size is the point
    encoded = base64.b64encode(envelope).decode()
    message = {"v": 1, "attempt_id": "attempt-0001", "envelope": encoded,
               "sha256": hashlib.sha256(envelope).hexdigest()}
    assert len(encoded) > 40 * 1024 * 1024
    ack = kiosk.call(protocol.ENVELOPE, message, timeout=120)
    assert ack["ok"] is False and ack["error"] == "invalid"  # read whole, parsed, answered by the console
    assert kiosk.connected and kiosk.heartbeat()["ok"]
    kiosk.disconnect()

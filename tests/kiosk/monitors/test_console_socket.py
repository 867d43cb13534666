"""Monitor events reach a real Socket.IO server on 127.0.0.1 and parse as exam_core Events there.

This is not the console: the real protocol (challenge auth, durable outbox, resend until acked)
belongs to the kiosk and console helpers. It shows that what the hub emits, numbered the way the
outbox will number it, crosses a real socket and is accepted by the wire model on the far side.
"""

from __future__ import annotations

import threading
import time

import pytest
import socketio
from werkzeug.serving import make_server

from exam_core.model import Event
from exam_core.protocol import parse_event
from kiosk.monitors.config import CameraSettings, MonitorConfig, WebcamThresholds
from kiosk.monitors.hub import MonitorHub


@pytest.fixture
def console(free_port):
    server = socketio.Server(async_mode="threading")
    received: list[Event] = []

    @server.on("event", namespace="/kiosk")
    def on_event(sid, data):
        event = parse_event(data)               # the console protocol's strict parser
        received.append(event)
        return {"ack": event.seq}

    http = make_server("127.0.0.1", free_port, socketio.WSGIApp(server), threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{free_port}", received
    http.shutdown()
    thread.join(5)


def test_webcam_and_page_events_arrive_at_a_real_socket(console, tmp_path):
    url, received = console
    client = socketio.Client()
    client.connect(url, namespaces=["/kiosk"], transports=["polling"])
    acks: list[int] = []
    seq = iter(range(1, 10_000))

    def send(event):
        ack = client.call("event", event.to_event("kiosk-07", next(seq)).to_dict(),
                          namespace="/kiosk", timeout=10)
        acks.append(ack["ack"])

    config = MonitorConfig(camera=CameraSettings(spec="synthetic:one=1,none=30", analysis_fps=10.0,
                                                 thumbnail_every_s=1e9),
                           webcam=WebcamThresholds(no_face_after_s=1.0), keyboard=False,
                           input_devices_root=str(tmp_path))
    hub = MonitorHub(config, send)
    hub.start()
    hub.set_attempt("att-42")
    hub.page.report("fullscreen_exit")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(e.type == "webcam.no_face" for e in received):
        time.sleep(0.1)
    hub.stop()
    client.disconnect()
    types = [e.type for e in received]
    assert "monitor.started" in types and "page.fullscreen_exit" in types and "webcam.no_face" in types
    no_face = next(e for e in received if e.type == "webcam.no_face")
    assert no_face.kiosk_id == "kiosk-07" and no_face.attempt_id == "att-42"
    assert no_face.thresholds["no_face_after_s"] == 1.0 and "snapshot_jpeg" in no_face.evidence
    assert acks == [e.seq for e in received]

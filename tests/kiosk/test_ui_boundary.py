"""The candidate UI's edges against the real UI server (waitress on 127.0.0.1, the kiosk runtime
behind it): nothing answers 500 before the exam opens (issue 13, item 14: ``/api/item/N`` did),
and the page that carries the token, and the exam's media, are served only to the kiosk user's own
processes (item 14: any local process could read the token).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.runtime import KioskRuntime
from kiosk.webapp import create_app, make_ui_server
from tests.support.kiosk_world import World, make_runtime, start_exam

ACTIONS = ("confirm_identity", "agreement", "begin", "answer", "flag", "navigate", "accommodation", "annotate",
           "receipt_done", "break/start", "break/end", "submit", "page_event")
ODD_BODIES: tuple[dict[str, Any], ...] = (
    {}, {"index": 10**30}, {"item_id": "Q01", "response_id": "R1", "value": [None, {"a": 1}]},
    {"kind": "x" * 1000, "detail": [1] * 5}, {"accepted": True, "monitoring_notice": {"x": 1}},
    {"confirm": True}, {"name": None, "value": 1.5e308})


class Page:
    """The candidate page's side of the UI server: one kept-alive connection and the page token."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.conn.request("GET", "/")
        page = self.conn.getresponse().read().decode()
        self.token = re.search(r'name="kiosk-token" content="([^"]+)"', page).group(1)

    def get(self, path: str) -> tuple[int, Any]:
        self.conn.request("GET", path, headers={"X-Kiosk-Token": self.token})
        reply = self.conn.getresponse()
        return reply.status, reply.read()

    def post(self, action: str, body: Any) -> tuple[int, Any]:
        self.conn.request("POST", f"/api/{action}", json.dumps(body),
                          {"Content-Type": "application/json", "X-Kiosk-Token": self.token})
        reply = self.conn.getresponse()
        return reply.status, reply.read()


@pytest.fixture
def ui(tmp_path) -> Iterator[tuple[World, KioskRuntime, int]]:
    world = World(tmp_path)
    runtime = make_runtime(world, tmp_path)
    server = make_ui_server(create_app(runtime), 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield world, runtime, server.server_port
    server.shutdown()
    runtime.db.conn.close()


def _answers_without_500(page: Page, stage: str) -> None:
    for path in ("/api/item/0", "/api/item/7", "/api/item/99999999999999999999", "/api/speech/0",
                 "/api/scratch", "/api/state"):
        status, body = page.get(path)
        assert status < 500, (stage, path, status, body)
        if path.startswith(("/api/item", "/api/speech")):
            assert status in (404, 409) and json.loads(body)["ok"] is False, (stage, path, status)
    for action in ACTIONS:
        for body in ODD_BODIES:
            status, reply = page.post(action, body)
            assert status < 500, (stage, action, body, status, reply)


def test_nothing_answers_500_before_the_exam_opens(ui) -> None:
    world, runtime, port = ui
    page = Page(port)
    _answers_without_500(page, "no candidate")
    assert runtime.handle_command(world.admit()).ok
    _answers_without_500(page, "admitted, package not there")
    runtime.store_package("P1", world.package_bytes)
    runtime.confirm_identity()
    assert runtime.handle_command(world.release()).ok
    _answers_without_500(page, "content open, agreement not accepted")


def _as_another_user(url: str) -> tuple[int, str]:
    """``curl`` run as ``nobody`` (uid 65534): another local user's process on the kiosk."""
    result = subprocess.run([shutil.which("curl") or "curl", "-s", "-o", "-", "-w", "\n%{http_code}", url],
                            capture_output=True, text=True, timeout=20, user=65534, group=65534, extra_groups=[])
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


@pytest.mark.skipif(os.getuid() != 0, reason="starting a process as another user needs root")
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_page_token_and_media_only_for_the_kiosk_users_processes(ui) -> None:
    world, runtime, port = ui
    start_exam(runtime, world)
    mine = Page(port)  # this process: the kiosk's user, as its browser is
    figure = next(iter(runtime.require_session().bundle.media))  # an exam image, by its SHA-256
    assert mine.get(f"/media/{figure}")[0] == 200
    for path in ("/", f"/media/{figure}"):
        status, body = _as_another_user(f"http://127.0.0.1:{port}{path}")
        assert status == 403 and '"field":"peer"' in body and mine.token not in body, (path, status)
    # the same request from a process of the kiosk's own user is served
    assert "kiosk-token" in subprocess.run(["curl", "-s", f"http://127.0.0.1:{port}/"], capture_output=True,
                                           text=True, timeout=20).stdout

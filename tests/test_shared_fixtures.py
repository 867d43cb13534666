"""The shared fixtures of tests/conftest.py do what their docstrings promise, with real tools."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.tools import REPO_ROOT
from tests.support.ports import find_free_port

NODE_MODULES = REPO_ROOT / "node_modules"


def test_free_port_can_be_bound(free_port: int) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", free_port))
    assert find_free_port() > 0


@pytest.mark.xinput
def test_xvfb_display_accepts_x_clients(xvfb_display: str) -> None:
    assert os.environ["DISPLAY"] == xvfb_display
    geometry = subprocess.run(["xdotool", "getdisplaygeometry"], capture_output=True, text=True, timeout=10)
    assert geometry.returncode == 0, geometry.stderr
    assert geometry.stdout.split() == ["1280", "1024"]


def test_live_server_serves_and_is_killed_with_its_group(live_server, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>hello</h1>")
    server = live_server("http.server", "{port}", "--bind", "127.0.0.1", "--directory", str(tmp_path))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
        assert b"<h1>hello</h1>" in conn.makefile("rb").read()
    server.kill()
    assert server.process.returncode == -9
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
    server.restart()
    socket.create_connection(("127.0.0.1", server.port), timeout=5).close()


def test_live_server_reports_a_server_that_dies_at_start(live_server) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"(?s)did not start.*exited with 2.*No such command"):
        live_server("exam_core", "no-such-command")


@pytest.mark.browser
def test_page_runs_local_front_end_dependencies(page, live_server) -> None:
    """The npm packages (served locally, never from a CDN) load in the headless Chromium."""
    if not (NODE_MODULES / "axe-core" / "axe.min.js").exists():
        pytest.fail("node_modules missing: run scripts/test (it runs npm ci)", pytrace=False)
    server = live_server("http.server", "{port}", "--bind", "127.0.0.1", "--directory", str(REPO_ROOT))
    page.goto(f"{server.url}/package.json")
    page.set_content('<html lang="en"><head><title>t</title></head><body><main><h1>Exam</h1>'
                     '<button>Next question</button></main></body></html>')
    page.add_script_tag(url=f"{server.url}/node_modules/axe-core/axe.min.js")
    page.add_script_tag(url=f"{server.url}/node_modules/socket.io-client/dist/socket.io.min.js")
    assert page.evaluate("typeof io") == "function"
    violations = page.evaluate("axe.run().then(r => r.violations.map(v => v.id))")
    assert violations == []
    page.set_content("<html><body><img src='x.png'><button></button></body></html>")
    page.add_script_tag(path=str(NODE_MODULES / "axe-core" / "axe.min.js"))
    violations = page.evaluate("axe.run().then(r => r.violations.map(v => v.id))")
    assert {"image-alt", "button-name"} <= set(violations)


@pytest.mark.browser
def test_browser_is_shared_and_relaunched_after_a_crash(_chromium) -> None:
    first = _chromium.get()
    assert _chromium.get() is first
    launches = _chromium.launches
    first.close()  # as if Chromium had died under an earlier test
    second = _chromium.get()
    assert second is not first and second.is_connected()
    assert _chromium.launches == launches + 1
    page = second.new_page()
    page.set_content("<p>alive</p>")
    assert page.text_content("p") == "alive"
    page.close()

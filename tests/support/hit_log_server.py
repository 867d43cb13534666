"""Tiny real HTTP servers on 127.0.0.1 that log every path they are asked for."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; its final value."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(interval)
    return condition()


class HitLogServer:
    """Serves ``page`` for every GET and remembers the paths, so a test can prove a fetch happened
    (or never happened)."""

    def __init__(self, port: int, page: str = "<html><body>ok</body></html>") -> None:
        self.hits: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # http.server's naming
                owner.hits.append(self.path)
                body = owner.page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.page = page
        self.port = port
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def wait_for(self, path: str, timeout: float) -> bool:
        return wait_until(lambda: path in self.hits, timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def escaping_page(other_url: str) -> str:
    """A kiosk page that proves it ran (``/beacon``) and then tries to navigate off the allowlist."""
    return ("<html><body><h1>exam</h1><script>"
            "fetch('/beacon').finally(() => setTimeout(() => {"
            f"location.href = '{other_url}secret';"
            "}, 300));</script></body></html>")

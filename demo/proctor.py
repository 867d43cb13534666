"""A scripted proctor: logs in to the console like a browser and acts over the /proctor socket.

It uses the dashboard's own paths (login form with its CSRF token, the Socket.IO namespace with
the session cookie), so the demo exercises exactly what a proctor's browser does. The console's
TLS certificate is pinned by fingerprint, as a kiosk pins it, rather than trusted blindly.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import ssl
import uuid
import warnings
from typing import Any

import requests
import socketio
import urllib3

from exam_core import protocol

from demo.processes import DemoError
from simulators.proctor import ProctorSocket


def tls_fingerprint(host: str, port: int) -> str:
    """SHA-256 of the certificate the server presents (compared with the one `init` printed)."""
    pem = ssl.get_server_certificate((host, port))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


class Proctor:
    def __init__(self, url: str, name: str, password: str) -> None:
        self.url, self.name = url, name
        self.http = requests.Session()
        self.http.trust_env = False
        # Self-signed console certificate: the demo checked its fingerprint before logging in.
        self.http.verify = False
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        self._login(password)
        self.received: list[tuple[str, Any]] = []
        self.socket, self.csrf = self._connect()

    def _login(self, password: str) -> None:
        page = self.http.get(self.url + "/login", timeout=10)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if token is None:
            raise DemoError(f"{self.url}/login has no CSRF field (status {page.status_code})")
        reply = self.http.post(self.url + "/login", data={"csrf": token.group(1), "name": self.name,
                                                          "password": password},
                               allow_redirects=False, timeout=30)
        if reply.status_code != 302:
            raise DemoError(f"proctor login as {self.name} failed: HTTP {reply.status_code}")

    def _connect(self) -> tuple[ProctorSocket, str]:
        page = self.http.get(self.url + "/dashboard", timeout=10)
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        if csrf is None:
            raise DemoError("the dashboard page carries no csrf-token")
        client = ProctorSocket(reconnection=True)  # the asyncio client: the threaded one loses frames over TLS
        client.on("*", lambda event, data: self.received.append((event, data)), namespace=protocol.PROCTOR_NAMESPACE)
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        client.connect(self.url, namespaces=[protocol.PROCTOR_NAMESPACE], headers={"Cookie": cookie},
                       auth={"csrf": csrf.group(1)}, transports=["websocket"], wait_timeout=15)
        return client, csrf.group(1)

    def act(self, kind: str, **payload: Any) -> dict[str, Any]:
        """One dashboard action (admit, start, approve_resume, ...); DemoError when refused."""
        body = {"csrf": self.csrf, "type": kind, "request_id": uuid.uuid4().hex, **payload}
        for attempt in range(3):
            try:
                reply = self.socket.call("action", body, namespace=protocol.PROCTOR_NAMESPACE, timeout=30)
                break
            except socketio.exceptions.TimeoutError as exc:
                # The console applies a request_id once, so asking again with the same body is safe:
                # a reply lost on a loaded machine must not end the candidate's sitting.
                if attempt == 2:
                    raise DemoError(f"proctor action {kind} on {payload.get('kiosk_id')}: no reply in 90 s") from exc
        if not isinstance(reply, dict) or not reply.get("ok"):
            raise DemoError(f"proctor action {kind} on {payload.get('kiosk_id')} refused: {reply}")
        return reply

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing at exit; the console may already be gone
            self.socket.disconnect()

"""Policy loading and the clock-skew measurement against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import threading
import time
from email.utils import formatdate

import pytest

from hardening import checks
from hardening.clock import measure_offset
from hardening.errors import PolicyError
from hardening.policy import load_policy


def test_site_policy_overrides_one_key_and_inherits_the_rest(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text("version: 1\nblocking: [displays]\ndisplays:\n  max: 2\n")
    policy = load_policy(site)
    assert policy["displays"] == {"max": 2, "none_found": "warn"}
    assert policy["user"]["root"] == "fail"
    assert policy.blocking == {"displays"}
    assert policy.source_bytes == site.read_bytes()


@pytest.mark.parametrize("text, field", [
    ("version: 2\n", "version"),
    ("version: 1\ndisplay: {max: 1}\n", "display"),
    ("version: 1\ndisplays: {maximum: 1}\n", "displays.maximum"),
    ("version: 1\ndisplays: {max: -1}\n", "displays.max"),
    ("version: 1\nuser: {root: allow}\n", "user.root"),
    ("version: 1\nblocking: [dispalys]\n", "blocking"),
    ("version: 1\nprocesses: {sha256: {ABC: x}}\n", "processes.sha256.ABC"),
    ("version: 1\nclock_skew: {warn_seconds: 60}\n", "clock_skew.warn_seconds"),
    ("- just a list\n", None),
    ("version: 1\n  bad: [indent\n", None),
])
def test_bad_policies_are_refused_naming_the_field(tmp_path, text, field):
    site = tmp_path / "site.yaml"
    site.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(site)
    if field:
        assert info.value.field == field


def test_oversized_and_missing_policy_files_are_refused(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"version: 1\n" + b"#" * 300_000)
    with pytest.raises(PolicyError, match="exceeds"):
        load_policy(big)
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.yaml")


class _TimeHandler(http.server.BaseHTTPRequestHandler):
    offset = 0.0
    json_time = True

    def do_GET(self):  # http.server's naming
        now = time.time() + self.offset
        if self.json_time:
            body = json.dumps({"unix": now}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        else:
            body = b"<html>console</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def date_time_string(self, timestamp=None):
        return formatdate(time.time() + self.offset, usegmt=True)

    def log_message(self, *args):
        pass


@pytest.fixture
def time_server():
    servers = []

    def start(offset: float, json_time: bool) -> str:
        handler = type("Handler", (_TimeHandler,), {"offset": offset, "json_time": json_time})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/time"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_json_time_endpoint_measures_offset_precisely(time_server):
    sample = measure_offset(time_server(7.25, True))
    assert sample.source == "json"
    assert abs(sample.offset_seconds - 7.25) < 0.05
    assert 0 < sample.rtt_seconds < 1


def test_date_header_fallback_has_one_second_resolution(time_server):
    sample = measure_offset(time_server(-100.0, False))
    assert sample.source == "date-header" and sample.resolution_seconds == 1.0
    assert abs(sample.offset_seconds + 100.0) <= 1.0


@pytest.mark.parametrize("offset, status", [(0.0, "pass"), (5.0, "warn"), (-120.0, "fail")])
def test_clock_skew_check_thresholds(time_server, offset, status):
    result = checks.check_clock_skew(None, load_policy(), console=time_server(offset, True))
    assert result.status == status
    assert result.evidence["measured"] is True


def test_unreachable_console_is_unmeasured_not_passed(free_port):
    result = checks.check_clock_skew(None, load_policy(), console=f"http://127.0.0.1:{free_port}/time")
    assert result.status == "warn" and result.evidence["measured"] is False
    assert "not measured" in result.evidence["summary"]


def _self_signed(tmp_path):
    """A throw-away certificate for 127.0.0.1, like the console's own TLS certificate."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "console")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "console.pem", tmp_path / "console.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_console_is_measured_only_with_its_pinned_certificate(tmp_path):
    import ssl

    cert, key = _self_signed(tmp_path)
    handler = type("Handler", (_TimeHandler,), {"offset": 3.0, "json_time": True})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/time"
    try:
        assert abs(measure_offset(url, cafile=str(cert)).offset_seconds - 3.0) < 0.1
        result = checks.check_clock_skew(None, load_policy(), console=url)  # no pin: not trusted
        assert result.evidence["measured"] is False and "CERTIFICATE_VERIFY_FAILED" in result.evidence["summary"]
    finally:
        server.shutdown()
        server.server_close()

"""exam_core.tls: the self-signed certificate serves real TLS and its pin is what a client sees."""

import hashlib
import os
import socket
import ssl
import stat
import threading

from cryptography import x509

from exam_core.tls import certificate_fingerprint, make_self_signed


def test_certificate_files_and_names(tmp_path):
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    fingerprint = make_self_signed(cert, key, "invigil-test")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert certificate_fingerprint(cert) == fingerprint and len(fingerprint) == 64
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert make_self_signed(cert, key, "invigil-test") != fingerprint  # a new key every time


def test_served_certificate_matches_the_pin(tmp_path):
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    fingerprint = make_self_signed(cert, key, "invigil-test")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            tls.sendall(tls.recv(5))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_ctx = ssl.create_default_context()
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            client_ctx.wrap_socket(raw) as tls:
        assert hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest() == fingerprint
        tls.sendall(b"hello")
        assert tls.recv(5) == b"hello"
    thread.join(5)
    listener.close()

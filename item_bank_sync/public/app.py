"""The public site's Flask app: security headers, per-address rate limits (in the database, shared
by every process serving the site: :mod:`item_bank_sync.public.limits`), errors, blueprints.

Every response carries a strict Content-Security-Policy (no script at all: the pages are plain
forms and text), no framing, no referrer (a verification URL names a certificate), and
``Cache-Control: no-store`` for anything naming a holder; the status lists and the key set set
their own short caching (see :mod:`item_bank_sync.public.wellknown`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request

from exam_core.websec.headers import security_headers
from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.context import CentralContext
from item_bank_sync.public.limits import SharedRateLimiter
from item_bank_sync.public.verify import verify_blueprint
from item_bank_sync.public.wellknown import wellknown_blueprint
from item_bank_sync.sync.tls_front import peer_of

#: Header the HTTPS listener puts in each connection's request: its secret, then the client's
#: address (:mod:`item_bank_sync.public.server`); trusted only with the secret the app was given.
PEER_HEADER = "X-Invigil-Peer"
#: Stricter than the staff faces' CSP (exam_core.websec.headers): the public pages run no script and
#: load nothing but their style sheet.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
#: Lookups (pages and API) per address per minute; searches by name are stricter; the key set and
#: status lists (what verifying software fetches, often in bursts) more generous.
LOOKUPS_PER_MINUTE = 60
SEARCHES_PER_MINUTE = 10
FEEDS_PER_MINUTE = 600


def create_public_app(ctx: CentralContext, *, peer_secret: str | None = None,
                      lookups_per_minute: int = LOOKUPS_PER_MINUTE,
                      searches_per_minute: int = SEARCHES_PER_MINUTE) -> Flask:
    """The public site over one central body's data directory. With ``peer_secret`` (behind the
    listener of :mod:`item_bank_sync.public.server`) the client's address comes from the peer
    header carrying that secret; without it, from the socket (tests, a development server)."""
    app = Flask("item_bank_sync.public", template_folder="templates", static_folder="static")
    app.config.update(MAX_CONTENT_LENGTH=4096, PEER_SECRET=peer_secret)
    app.extensions["invigil_certificates"] = CertificateRegistry(ctx)
    bank = ctx.open_bank_db()   # the counts are shared by every process serving the site
    app.extensions["invigil_limits"] = {"lookup": SharedRateLimiter(bank, "lookup", lookups_per_minute, 60),
                                        "search": SharedRateLimiter(bank, "search", searches_per_minute, 60),
                                        "feed": SharedRateLimiter(bank, "feed", FEEDS_PER_MINUTE, 60)}
    app.register_blueprint(wellknown_blueprint())
    app.register_blueprint(verify_blueprint())
    app.before_request(_client_address)
    app.after_request(_headers)
    _error_pages(app)
    return app


def _client_address() -> Any:
    """``g.client``: from the listener's peer header (refused without its secret), else the socket's."""
    secret = current_app.config["PEER_SECRET"]
    if secret is None:
        g.client = request.remote_addr or "unknown"
        return None
    peer = peer_of(request.headers.get(PEER_HEADER, ""), secret)
    if peer is None:
        return jsonify(error="one request per connection"), 400
    g.client = peer
    return None


def _headers(response: Response) -> Response:
    """The shared security headers (HSTS over HTTPS, no-store for pages and JSON) with this CSP."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    return security_headers(response)


def _error_pages(app: Flask) -> None:
    def page(code: int, title: str) -> Any:
        if request.path.startswith("/api/") or request.path.startswith("/status/"):
            return jsonify(error=title), code
        return render_template("error.html", title=title, code=code), code

    app.register_error_handler(404, lambda _e: page(404, "Not found"))
    app.register_error_handler(405, lambda _e: page(405, "Method not allowed"))
    app.register_error_handler(413, lambda _e: page(413, "Request too large"))
    app.register_error_handler(429, lambda _e: page(429, "Too many requests: please wait a minute"))

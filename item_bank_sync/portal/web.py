"""The candidate portal's pages, registered inside the public site's app (:func:`install`).

Why inside the public site and not a third app: it is the body's public face on the same HTTPS
listener, with the same TLS front (deadlines, per-address caps, the client's address), per-address
rate limits, strict CSP and error pages; and it stays separate from the staff application, which
is a different listener, cookie and set of accounts. The portal adds what the verification pages
never needed: a session cookie (``invigil_portal``: HttpOnly, Secure, SameSite=Strict, holding a
random token of a server-side session row), a CSRF token on every POST, and a body limit by
sender (a stranger may send a form's worth; a signed-in person an evidence document).

Every action calls the registry or sittings function the CLI calls, with the candidate actor
(:func:`item_bank_sync.registry.actors.candidate`): the same checks, refusals and audit entries.
A record of another person is answered 404, exactly as one that does not exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import (Blueprint, Flask, Response, abort, current_app, g, redirect, render_template, request, session,
                   url_for)
from markupsafe import Markup

from exam_core.errors import InvigilError
from exam_core.presentation import clean
from exam_core.timestamps import parse_time
from exam_core.websec.bodylimit import limit_body
from exam_core.websec.csrf import csrf_token, new_csrf_token, request_csrf_valid
from item_bank_sync.certificates.settings import load_settings as issuer_settings
from item_bank_sync.context import CentralContext
from item_bank_sync.forms.schemes import EDUCATION_LEVELS
from item_bank_sync.mail import MailError, load_settings
from item_bank_sync.mail.outbox import OutboxSender
from item_bank_sync.portal import accounts, export, results
from item_bank_sync.portal.accounts import Account
from item_bank_sync.public.limits import SharedBackoff, SharedRateLimiter
from item_bank_sync.registry import accommodations, actors, applications, evidence
from item_bank_sync.registry.actors import Actor
from item_bank_sync.registry.errors import Forbidden, NotFound, Refused
from item_bank_sync.sittings import bookings, sessions
from item_bank_sync.trust.identity import rules_version

EXTENSION = "invigil_portal"
COOKIE = "invigil_portal"
FORM_BYTES = 16 * 1024
UPLOAD_BYTES = evidence.MAX_BYTES + 64 * 1024
UPLOAD_ENDPOINTS = ("portal.upload", results.UPLOAD_ENDPOINT)
PAGES_PER_MINUTE = 120
ATTEMPTS_PER_MINUTE = 10
ADJUSTMENTS = (("extra_time_percent", "Extra time (percent)", "number"), ("large_text", "Large text", "check"),
               ("high_contrast", "High contrast", "check"), ("zoom_percent", "Zoom (percent)", "number"),
               ("rest_breaks", "Rest breaks (count)", "number"), ("rest_break_minutes", "Minutes per break", "number"),
               ("text_to_speech", "Questions read aloud", "check"), ("screen_reader", "Screen reader", "check"))
QR_PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
               "frame-ancestors 'none'")


class PortalState:
    """What the portal's views share: the body, the process's outbox sender (woken when a view wrote
    mail), and the limits, held in the database so every listener process shares them."""

    def __init__(self, ctx: CentralContext, sender: OutboxSender | None) -> None:
        self.ctx, self.sender = ctx, sender
        bank = ctx.open_bank_db()
        self.pages = SharedRateLimiter(bank, "portal.pages", PAGES_PER_MINUTE, 60)
        self.attempts = SharedRateLimiter(bank, "portal.attempts", ATTEMPTS_PER_MINUTE, 60)
        self.backoff = SharedBackoff(bank, "portal.backoff")

    @property
    def mail_ready(self) -> bool:
        """Whether the body has set up its mail (else registration and resets are refused)."""
        return load_settings(self.ctx.data_dir) is not None

    def mail_written(self) -> None:
        """A view wrote to the outbox: send now rather than at the sender's next look."""
        if self.sender is not None:
            self.sender.wake()


def install(app: Flask, ctx: CentralContext, *, sender: OutboxSender | None = None,
            secure_cookies: bool = True) -> int:
    """Add the portal to the public site's ``app`` (its cookie key derived from the body's key);
    returns the largest request body it takes (an evidence upload), for the listener's limits.
    ``sender``: the process's outbox sender, woken when a page wrote mail."""
    app.config.update(SECRET_KEY=accounts.derived_key(ctx, b"cookie v1"), SESSION_COOKIE_NAME=COOKIE,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SECURE=secure_cookies,
                      SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_PATH="/portal")
    app.extensions[EXTENSION] = PortalState(ctx, sender)
    app.register_blueprint(blueprint())
    return UPLOAD_BYTES


def public_url(ctx: CentralContext) -> str:
    """The site's configured public address: mailed links never come from the request's Host header
    (a forged Host would otherwise send a victim's link to the forger's site)."""
    return issuer_settings(ctx).public_url


def shown_time(value: object) -> str:
    """A stored UTC time (or date) as a person reads it: "17 December 2026, 09:00 UTC"."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = parse_time(value)
    except InvigilError:
        return value
    return moment.strftime("%-d %B %Y, %H:%M UTC") if "T" in value else moment.strftime("%-d %B %Y")


def _state() -> PortalState:
    found: PortalState = current_app.extensions[EXTENSION]
    return found


def _gate() -> Any:
    """Rate limit, the session, the body limit by sender, CSRF on every change."""
    state = _state()
    if state.pages.hit(g.client):
        abort(429)
    found = accounts.session_of(state.ctx, session.get("token"))
    g.portal_account, g.portal_complete = (found[0], found[1]) if found else (None, False)
    signed_in = g.portal_account is not None and g.portal_complete
    refused = limit_body(UPLOAD_BYTES if signed_in and request.endpoint in UPLOAD_ENDPOINTS else FORM_BYTES,
                         close=False)
    if refused is not None:
        return refused
    if request.method == "POST" and not request_csrf_valid():
        abort(400)
    return None


def _me() -> Account:
    account: Account | None = g.get("portal_account")
    if account is None or not g.get("portal_complete"):
        abort(403)
    return account


def _actor() -> Actor:
    return actors.candidate(_me().person_id)


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Signed out (or the second factor still to do) goes to the sign-in page."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("portal_account") is None or not g.get("portal_complete"):
            return redirect(url_for("portal.signin"))
        try:
            return view(*args, **kwargs)
        except (NotFound, Forbidden):
            abort(404)          # another person's record is answered as one that does not exist
    return wrapper


def _form(name: str, max_len: int = 5000) -> str:
    return request.form.get(name, "")[:max_len]


def _globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "me": g.get("portal_account") if g.get("portal_complete") else None}


def _start_session(account: Account) -> None:
    session.clear()
    session["token"] = accounts.open_session(_state().ctx, account)
    new_csrf_token()


def _attempt_allowed() -> bool:
    return not _state().attempts.hit(g.client)


def blueprint() -> Blueprint:
    bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates", static_folder="static",
                   static_url_path="/static")
    bp.before_request(_gate)
    bp.app_context_processor(lambda: {"portal_globals": _globals()})
    bp.app_template_filter("shown")(shown_time)
    _account_views(bp)
    _own_account_views(bp)
    _candidate_views(bp)
    results.add_views(bp, results.Hooks(signed_in, lambda: _state().ctx, _actor, lambda: _me().person_id))
    return bp


def _account_views(bp: Blueprint) -> None:
    @bp.route("/register", methods=["GET", "POST"])
    def register() -> Any:
        if request.method == "GET":
            return render_template("portal/register.html", error=None, form={})
        if not _attempt_allowed():
            abort(429)
        state = _state()
        if not state.mail_ready:
            return render_template("portal/register.html", error="Registration is closed: the body has not set up "
                                   "its mail.", form=request.form), 503
        try:
            accounts.start_registration(state.ctx, email=_form("email", 254),
                                        given_name=_form("given_name", 200), family_name=_form("family_name", 200),
                                        date_of_birth=_form("date_of_birth", 10), password=_form("password", 1024),
                                        base_url=public_url(state.ctx))
        except Refused as exc:
            form = {k: v for k, v in request.form.items() if k != "password"}
            return render_template("portal/register.html", error=str(exc), form=form), 422
        except MailError:
            return render_template("portal/notice.html", title="Please try again later",
                                   text="The mail could not be sent just now."), 503
        state.mail_written()
        return render_template("portal/notice.html", title="Check your e-mail",
                               text="We have sent a message to the address you gave. Follow it to continue.")

    @bp.route("/confirm/<token>", methods=["GET", "POST"])
    def confirm(token: str) -> Any:
        if request.method == "GET":   # a mail scanner's GET must not use the link up
            return render_template("portal/confirm.html", token=token[:400])
        if not _attempt_allowed():
            abort(429)
        try:
            account = accounts.complete_registration(_state().ctx, token[:400])
        except Refused as exc:
            return render_template("portal/notice.html", title="Link not valid", text=str(exc)), 400
        _start_session(account)
        return redirect(url_for("portal.home"))

    @bp.route("/reset", methods=["GET", "POST"])
    def reset() -> Any:
        """Ask for a password-reset link: the same answer whether or not the address has an account."""
        if request.method == "GET":
            return render_template("portal/reset.html", error=None)
        if not _attempt_allowed():
            abort(429)
        state = _state()
        if not state.mail_ready:
            return render_template("portal/notice.html", title="Please try again later",
                                   text="The body has not set up its mail."), 503
        try:
            accounts.start_reset(state.ctx, email=_form("email", 254), base_url=public_url(state.ctx))
        except MailError:
            return render_template("portal/notice.html", title="Please try again later",
                                   text="The mail could not be sent just now."), 503
        state.mail_written()
        return render_template("portal/notice.html", title="Check your e-mail",
                               text="If the address has an account, a link to choose a new password is on its way.")

    @bp.route("/reset/<token>", methods=["GET", "POST"])
    def reset_link(token: str) -> Any:
        if request.method == "GET":
            return render_template("portal/new_password.html", token=token[:400], error=None)
        if not _attempt_allowed():
            abort(429)
        try:
            accounts.complete_reset(_state().ctx, token[:400], _form("password", 1024))
        except Refused as exc:
            return render_template("portal/new_password.html", token=token[:400], error=str(exc)), 400
        session.clear()
        return render_template("portal/notice.html", title="Password changed",
                               text="Sign in with your new password. Every other signed-in browser is signed out.")

    @bp.route("/signin", methods=["GET", "POST"])
    def signin() -> Any:
        if request.method == "GET":
            return render_template("portal/signin.html", error=None)
        return _signin_post()

    @bp.route("/signin/code", methods=["GET", "POST"])
    def code() -> Any:
        account = g.get("portal_account")
        if account is None:
            return redirect(url_for("portal.signin"))
        if request.method == "GET":
            return render_template("portal/code.html", error=None)
        key = ("code", account.account_id)
        state = _state()
        if state.backoff.wait(key) or not accounts.check_second_factor(state.ctx, account, _form("code", 20)):
            state.backoff.failed(key)
            return render_template("portal/code.html", error="That code was not accepted."), 401
        state.backoff.succeeded(key)
        accounts.second_factor_done(state.ctx, session["token"])
        new_csrf_token()
        return redirect(url_for("portal.home"))

    @bp.post("/signout")
    def signout() -> Any:
        accounts.end_session(_state().ctx, session.get("token"))
        session.clear()
        return redirect(url_for("portal.signin"))

    @bp.route("/security", methods=["GET", "POST"])
    @signed_in
    def security() -> Any:
        return _security()


def _own_account_views(bp: Blueprint) -> None:
    """My account: change the e-mail address (confirmed from the new one), close the account."""
    @bp.get("/account")
    @signed_in
    def my_account() -> Any:
        return _account_page()

    @bp.post("/account/email")
    @signed_in
    def change_email() -> Any:
        if not _attempt_allowed():
            abort(429)
        state = _state()
        try:
            accounts.start_email_change(state.ctx, _me(), password=_form("password", 1024),
                                        new_email=_form("new_email", 254), base_url=public_url(state.ctx))
        except Refused as exc:
            return _account_page(email_error=str(exc), new_email=_form("new_email", 254)), 422
        state.mail_written()
        return render_template("portal/notice.html", title="Check the new address",
                               text="We have sent a link to the new address: your address changes when it is "
                                    "used. Your current address has been told.")

    @bp.post("/account/close")
    @signed_in
    def close() -> Any:
        if not _attempt_allowed():
            abort(429)
        state = _state()
        try:
            accounts.close_account(state.ctx, _me(), password=_form("close_password", 1024),
                                   confirmed=request.form.get("confirm") == "yes")
        except Refused as exc:
            return _account_page(close_error=str(exc)), 422
        state.mail_written()
        session.clear()
        return render_template("portal/notice.html", title="Account closed", text=accounts.KEPT_ON_CLOSURE)

    @bp.route("/email/<token>", methods=["GET", "POST"])
    def email_link(token: str) -> Any:
        if request.method == "GET":   # a mail scanner's GET must not use the link up
            return render_template("portal/confirm_email.html", token=token[:400])
        if not _attempt_allowed():
            abort(429)
        try:
            accounts.complete_email_change(_state().ctx, token[:400])
        except Refused as exc:
            return render_template("portal/notice.html", title="Link not valid", text=str(exc)), 400
        _state().mail_written()
        return render_template("portal/notice.html", title="Address changed",
                               text="Your candidate account uses the new address from now on.")


def _account_page(*, email_error: str | None = None, close_error: str | None = None, new_email: str = "") -> str:
    """The page, with a refusal shown next to the field it names (``password: ...`` by the password)."""
    email_field = (email_error or "").partition(":")[0]
    return render_template("portal/account.html", email_error=email_error, close_error=close_error,
                           email_error_at="password" if email_field == "password" else "new_email",
                           new_email=new_email, kept=accounts.KEPT_ON_CLOSURE)


SIGNIN_FAILED = "The e-mail address or password is not right, or the account is not confirmed yet."


def _signin_post() -> Any:
    if not _attempt_allowed():
        abort(429)
    state = _state()
    email = _form("email", 254).strip().lower()
    key = ("signin", email, g.client)
    if state.backoff.wait(key):
        return render_template("portal/signin.html", error="Too many tries: wait a few minutes."), 429
    account = accounts.authenticate(state.ctx, email, _form("password", 1024))
    if account is None:
        state.backoff.failed(key)
        return render_template("portal/signin.html", error=SIGNIN_FAILED), 401
    state.backoff.succeeded(key)
    _start_session(account)
    return redirect(url_for("portal.code" if account.has_second_factor else "portal.home"))


def _security() -> Any:
    from exam_core.websec import totp
    state, me = _state(), _me()
    if request.method == "POST" and not me.has_second_factor:
        secret = session.get("totp_pending", "")
        if secret and accounts.enrol_second_factor(state.ctx, me, secret, _form("code", 20)):
            session.pop("totp_pending", None)
            return render_template("portal/notice.html", title="Second factor on",
                                   text="From now on, sign-in asks for a code from your authenticator app.")
        error = "That code was not accepted: type the code your app shows now."
    else:
        error = None
    if me.has_second_factor:
        return render_template("portal/security.html", enabled=True, qr=None, secret=None, error=None)
    secret = session.get("totp_pending") or totp.new_secret()
    session["totp_pending"] = secret
    qr = totp.qr_svg_data_uri(totp.provisioning_uri(secret, me.email, "Invigil candidate portal"))
    response = Response(render_template("portal/security.html", enabled=False, qr=qr, secret=secret, error=error),
                        422 if error else 200, mimetype="text/html")
    # the QR code is an SVG data: image; this page alone allows one (still no script anywhere)
    response.headers["Content-Security-Policy"] = QR_PAGE_CSP
    return response


def _candidate_views(bp: Blueprint) -> None:
    @bp.get("/")
    @signed_in
    def home() -> Any:
        return render_template("portal/home.html", **export.overview(_state().ctx, _actor()))

    @bp.route("/apply", methods=["GET"])
    @signed_in
    def apply_list() -> Any:
        return render_template("portal/apply_list.html", schemes=export.schemes(_state().ctx))

    @bp.route("/apply/<scheme_id>/<int:version>", methods=["GET", "POST"])
    @signed_in
    def apply(scheme_id: str, version: int) -> Any:
        return _apply(scheme_id, version)

    @bp.post("/<kind>/<subject_id>/evidence")
    @signed_in
    def upload(kind: str, subject_id: str) -> Any:
        return _upload(kind, subject_id)

    @bp.post("/applications/<application_id>/appeal")
    @signed_in
    def appeal(application_id: str) -> Any:
        """``applications appeal ID --note``: record that the person appeals a refusal."""
        try:
            applications.lodge_appeal(_state().ctx, _actor(), application_id[:40], note=_form("note", 2000))
        except Refused as exc:
            return render_template("portal/notice.html", title="Appeal not recorded", text=str(exc)), 422
        _tell("Appeal received", f"Your appeal against the refusal of application {application_id[:40]} is recorded; "
              "the body will write to you about it.")
        return render_template("portal/notice.html", title="Appeal recorded", text="The body will contact you.")

    @bp.route("/accommodations", methods=["GET", "POST"])
    @signed_in
    def accommodation() -> Any:
        return _accommodation()

    @bp.get("/sessions")
    @signed_in
    def session_list() -> Any:
        return render_template("portal/sessions.html", **export.bookable(_state().ctx, _actor()), error=None)

    @bp.post("/sessions/<session_id>/book")
    @signed_in
    def book(session_id: str) -> Any:
        return _change(lambda: bookings.book(_state().ctx, _actor(), session_id[:40], _me().person_id),
                       "Your booking is made.")

    @bp.post("/bookings/<booking_id>/cancel")
    @signed_in
    def cancel(booking_id: str) -> Any:
        _own_booking(booking_id)
        return _change(lambda: bookings.cancel(_state().ctx, _actor(), booking_id, reason=_form("reason", 1000)
                                               or "cancelled by the candidate"), "Your booking is cancelled.")

    @bp.post("/bookings/<booking_id>/move")
    @signed_in
    def move(booking_id: str) -> Any:
        _own_booking(booking_id)
        return _change(lambda: bookings.move(_state().ctx, _actor(), booking_id, _form("to_session", 40),
                                             reason=_form("reason", 1000) or "moved by the candidate"),
                       "Your booking is moved.")

    @bp.get("/export")
    @signed_in
    def download() -> Any:
        data = export.data_subject_zip(_state().ctx, _actor(), _me())
        response = Response(data, mimetype="application/zip")
        response.headers["Content-Disposition"] = 'attachment; filename="my-data.zip"'
        return response


def _own_booking(booking_id: str) -> None:
    """The booking must be the signed-in person's (404 otherwise, as for one that does not exist)."""
    bookings.show(_state().ctx, _actor(), booking_id[:40])


def _change(action: Callable[[], Any], done: str) -> Any:
    try:
        made = action()
    except Refused as exc:
        return render_template("portal/sessions.html", **export.bookable(_state().ctx, _actor()), error=str(exc)), 422
    session_ = sessions.get(_state().ctx, made.session_id)
    where = f"the session of {shown_time(session_.starts_at)} at {session_.centre_id}"
    seat = f", seat {made.seat}" if made.seat else (" (waiting list)" if made.status == bookings.WAITING else "")
    _tell(done, f"{done} {where}: {made.status}{seat}.")
    return render_template("portal/notice.html", title=done, text="Your page shows your bookings.")


def _tell(subject: str, body: str) -> None:
    """A message on the person's page, mailed to them too."""
    accounts.tell(_state().ctx, _me().person_id, subject, body)
    _state().mail_written()


def _rules(ctx: CentralContext) -> dict[str, Any]:
    """The body's rules version to accept now (its settings, ``body rules-version``) and the one the
    person accepted with their latest application when that was another (they are asked again)."""
    current = rules_version(ctx.body())
    earlier = applications.list_applications(ctx, _actor(), person_id=_me().person_id)
    accepted = str(earlier[-1].agreement.get("body_rules_version", "")) if earlier else ""
    return {"rules_version": current, "rules_accepted": accepted if accepted and accepted != current else None}


def _apply(scheme_id: str, version: int) -> Any:
    ctx = _state().ctx
    scheme = export.scheme(ctx, scheme_id[:100], version)
    agreement = Markup(clean(scheme.agreement))  # noqa: S704 - sanitised: the model's tags only
    rules = _rules(ctx)
    if request.method == "GET":
        return render_template("portal/apply.html", scheme=scheme, agreement=agreement, error=None, form={},
                               levels=EDUCATION_LEVELS, **rules)
    answers: dict[str, Any] = {"statement": _form("statement", 5000)}
    if _form("education_level", 40):
        answers["education_level"] = _form("education_level", 40)
    months = _form("experience_months", 5).strip()
    try:
        if months:
            answers["experience_months"] = int(months)
        held = [s.strip() for s in _form("certifications_held", 2000).split(",") if s.strip()]
        answers["certifications_held"] = held
        found = applications.submit(ctx, _actor(), person_id=_me().person_id, scheme_id=scheme.scheme_id,
                                    scheme_version=scheme.version, answers=answers,
                                    accept_code_of_conduct=request.form.get("accept") == "yes",
                                    body_rules_version=rules["rules_version"])
    except (Refused, ValueError) as exc:
        return render_template("portal/apply.html", scheme=scheme, agreement=agreement, error=str(exc),
                               form=request.form, levels=EDUCATION_LEVELS, **rules), 422
    _tell("Application received", f"Your application {found.application_id} for {scheme.title} is with the "
          "registrar.")
    return render_template("portal/notice.html", title="Application sent",
                           text=f"Your application {found.application_id} is with the registrar. "
                                "You can add evidence documents from your page.")


def _upload(kind: str, subject_id: str) -> Any:
    if kind not in ("applications", "accommodations"):
        abort(404)
    subject = evidence.APPLICATION if kind == "applications" else evidence.ACCOMMODATION
    upload = request.files.get("document")
    if upload is None or not upload.filename:
        return render_template("portal/notice.html", title="No document", text="Choose a file to upload."), 422
    data = upload.read(evidence.MAX_BYTES + 1)
    try:
        evidence.add(_state().ctx, _actor(), subject, subject_id[:40], upload.filename[:200], data)
    except Refused as exc:
        return render_template("portal/notice.html", title="Document refused", text=str(exc)), 422
    return render_template("portal/notice.html", title="Document added",
                           text="The registrar will see it with your request.")


def _accommodation() -> Any:
    ctx = _state().ctx
    choices = export.schemes(ctx)
    if request.method == "GET":
        return render_template("portal/accommodations.html", schemes=choices, adjustments=ADJUSTMENTS, error=None,
                               form={})
    requested: dict[str, Any] = {}
    try:
        for name, _label, kind in ADJUSTMENTS:
            if kind == "check" and request.form.get(name) == "yes":
                requested[name] = True
            elif kind == "number" and _form(name, 5).strip():
                requested[name] = int(_form(name, 5))
        scheme_id, _, version = _form("scheme", 120).rpartition("/")
        found = accommodations.request(ctx, _actor(), person_id=_me().person_id, scheme_id=scheme_id,
                                       scheme_version=int(version or 0), requested=requested,
                                       reason=_form("reason", 5000))
    except (Refused, ValueError) as exc:
        return render_template("portal/accommodations.html", schemes=choices, adjustments=ADJUSTMENTS,
                               error=str(exc), form=request.form), 422
    return render_template("portal/notice.html", title="Request sent",
                           text=f"Your request {found.request_id} is with the registrar. You can add evidence "
                                "documents from your page.")

"""The kiosk at run time: the current attempt, the console's commands, and what the page may do.

One ``KioskRuntime`` per process. It owns the database, the outbox and (once the console released
the key) the live :class:`~kiosk.session.ExamSession`. The console link calls
:meth:`handle_command`; the candidate page calls the ``candidate_*`` methods through
:mod:`kiosk.webapp`; a ticker thread calls :meth:`tick`. Everything is serialised by one lock.

What survives a restart: the attempt's metadata (``kiosk_state``), the encrypted package
(``DIR/packages``), the journal and the outbox. What does not: the content key and everything
decrypted. After a restart mid-attempt the kiosk says ``needs_resume_approval`` in its hello and
shows the candidate a waiting screen until a proctor confirms (``resume_approved`` re-releases the
key); then the journal is verified and replayed and the candidate is back where they were.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Callable

from exam_core import formcontent, protocol
from exam_core.errors import InvigilError, ValidationError
from exam_core.files import write_atomic
from exam_core.jsonio import b64d, b64e, loads_strict
from exam_core.model import Attempt, FormContent
from exam_core.protocol import Command, CommandAck
from exam_core.result import AttemptResult
from exam_core.timestamps import utc_text_ms

from kiosk import __version__, storage
from kiosk.content import FormBundle
from kiosk.journal import Journal, JournalHead, JournalTamperedError, contains_head, read_head
from kiosk.outbox import Outbox
from kiosk.session import ExamSession, Sealed, Sealer, SessionStateError, journal_key_for, receipt_code

TICK_SECONDS = 0.25


class PackageUnavailable(InvigilError):
    """The encrypted package is not (yet) cached, or its bytes do not match the admitted hash."""


@dataclass
class KeyOpener:
    """Turns a key release into the decrypted form, in memory.

    ``unwrap(wrapped, package_id, attempt_id) -> content_key`` opens the HPKE-wrapped key with the
    kiosk's private key; ``decrypt(package_bytes, content_key) -> content bytes`` checks the
    manifest signature against the central body's key and decrypts. Both come from
    :mod:`kiosk.device` in production.
    """

    unwrap: Callable[[bytes, str, str], bytes]
    decrypt: Callable[[bytes, bytes], bytes]


class KioskRuntime:
    """See the module docstring. ``sealer`` (the device) seals the attempt result a session builds."""

    def __init__(self, data_dir: str | Path, kiosk_id: str, opener: KeyOpener, sealer: Sealer, *,
                 attester: Callable[[bytes], bytes] = lambda nonce: b"",
                 notify_link: Callable[[], None] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.kiosk_id = kiosk_id
        self.opener = opener
        self._sealer = sealer
        self._attester = attester
        self.attestation = b""  # the latest signed attestation (hello, envelopes); see ``attest``
        self.lock = threading.RLock()
        self.db = storage.open_kiosk_db(self.data_dir)
        self.outbox = Outbox(self.db, kiosk_id, on_added=notify_link)
        self.packages = self.data_dir / "packages"
        self.packages.mkdir(mode=0o700, exist_ok=True)
        stored = storage.get_state(self.db, "attempt")
        self.attempt: Attempt | None = Attempt.from_dict(stored) if stored else None
        self.admission: dict[str, Any] = storage.get_state(self.db, "admission", {}) or {}
        self.session: ExamSession | None = None
        self.console_connected = False
        self.messages: list[dict[str, str]] = []
        self.fault: str | None = None
        self.thumbnail_b64: str | None = None  # latest webcam thumbnail, sent once with a heartbeat
        self.on_attempt_change: Callable[[str | None], None] = lambda attempt_id: None
        self._stop = threading.Event()

    # --- state for the console ------------------------------------------------------------------

    @property
    def keys_released(self) -> bool:
        return bool(self.admission.get("keys_released"))

    def wire_state(self) -> str:
        """``idle`` or the attempt's state, as ``hello`` and ``heartbeat`` report it."""
        with self.lock:
            if self.attempt is None:
                return "idle"
            if self.session is not None:
                return self.session.wire_state()
            if self.admission.get("receipt"):
                return "submitted"
            return "in_progress" if self.keys_released else "admitted"

    def needs_resume_approval(self) -> bool:
        with self.lock:
            return (self.attempt is not None and self.session is None and self.keys_released
                    and not self.admission.get("receipt"))

    def attest(self, nonce: bytes) -> bytes:
        """Sign the release measurement over ``nonce`` (the login challenge of a new console
        connection) and keep it for this connection's hellos: the console refuses an attestation
        made for any other connection, so a recorded one cannot be replayed."""
        self.attestation = self._attester(nonce)
        return self.attestation

    def hello(self) -> protocol.Hello:
        with self.lock:
            next_seq = int((self.db.execute("SELECT value FROM counters WHERE name = 'event'").fetchone()
                            or (0,))[0]) + 1
            return protocol.Hello(
                kiosk_id=self.kiosk_id, state=self.wire_state(), software_version=__version__,
                attempt_id=self.attempt.attempt_id if self.attempt else None,
                attestation=b64e(self.attestation) if self.attestation else None,
                needs_resume_approval=self.needs_resume_approval(), next_seq=next_seq)

    def heartbeat(self, camera_fps: float | None = None) -> protocol.Heartbeat:
        with self.lock:
            session = self.session
            progress = protocol.Progress()
            remaining = None
            if session is not None:
                progress = protocol.Progress(session.answered_count(), len(session.bundle.items))
                remaining = session.remaining_ms() // 1000
            thumbnail, self.thumbnail_b64 = self.thumbnail_b64, None
            return protocol.Heartbeat(state=self.wire_state(), wall_time=utc_text_ms(),
                                      attempt_id=self.attempt.attempt_id if self.attempt else None,
                                      progress=progress, remaining_seconds=remaining, camera_fps=camera_fps,
                                      thumbnail_jpeg=thumbnail, journal_head=self.journal_head())

    def journal_head(self) -> protocol.JournalHeadInfo | None:
        """The head the console should remember for this attempt (None before the first row).

        Once the envelope is sealed it is the sealed head: the journal then gains one more row
        (``submit``, naming the envelope), which the envelope cannot contain, and the central body
        checks every head the console saw against the sealed chain. Before that it is the journal's
        head as stored, read without the key when the attempt awaits resume approval: a journal
        cut off on disk is then reported as it is, and the console sees the head go back.
        """
        if self.attempt is None:
            return None
        sealed = self.admission.get("sealed_head")
        if sealed:
            head = JournalHead(sealed["seq"], sealed["hash"])
        elif self.session is not None:
            head = self.session.journal.head
        else:
            head = read_head(self.db, self.attempt.attempt_id)
        return protocol.JournalHeadInfo(head.seq, head.hash) if head.seq > 0 else None

    def check_console_head(self, head: protocol.ConsoleJournalHead | None) -> None:
        """Take the journal head the console stored for this attempt (from the ``hello`` ack).

        Kept in the admission (the highest one seen), so a resume verifies the journal against it
        (``Journal.rows(expected_head)``), and checked now without the key: a journal that lacks
        that row, cut off or rewritten while the kiosk was down, is a fault shown on the kiosk and
        sent to the console as ``journal.tampered`` at once, before any proctor approves a
        resume; the resume is then refused. Nothing is deleted. A head for another attempt (a
        late ack) is ignored.
        """
        with self.lock:
            if head is None or self.attempt is None or head.attempt_id != self.attempt.attempt_id:
                return
            held = self.admission.get("console_head")
            seen = {"seq": head.seq, "hash": head.hash}
            if held != seen and (not held or head.seq >= held["seq"]):  # a durable write only when it moves
                self.admission["console_head"] = seen
                storage.set_state(self.db, "admission", self.admission)
            problem = contains_head(self.db, self.attempt.attempt_id, JournalHead(head.seq, head.hash))
            if problem is not None and self.fault != f"journal check failed: {problem}":
                self._fault(f"journal check failed: {problem}")

    # --- commands --------------------------------------------------------------------------------

    def handle_command(self, command: Command) -> CommandAck:
        """Apply a command at most once (by id) and answer every delivery of it."""
        with self.lock:
            if storage.command_applied(self.db, command.command_id):
                return CommandAck(ok=True, command_id=command.command_id, state=self.wire_state())
            try:
                getattr(self, f"_cmd_{command.type}")(command)
            except PackageUnavailable as exc:
                return self._refuse(command, "retry", str(exc))
            except JournalTamperedError as exc:
                self._fault(f"journal check failed: {exc}")
                return self._refuse(command, "conflict", str(exc))
            except (SessionStateError, ValidationError, InvigilError) as exc:
                return self._refuse(command, "conflict", str(exc))
            if command.type != "message":
                storage.mark_command(self.db, command.command_id, command.type, utc_text_ms())
            return CommandAck(ok=True, command_id=command.command_id, state=self.wire_state())

    def _refuse(self, command: Command, code: str, reason: str) -> CommandAck:
        return CommandAck(ok=False, command_id=command.command_id, state=self.wire_state(),
                          error=code, reason=reason[:500])

    def _same_attempt(self, command: Command) -> None:
        if self.attempt is None or command.attempt_id != self.attempt.attempt_id:
            raise SessionStateError(f"attempt {command.attempt_id} is not the one on this kiosk")

    def _live(self, command: Command) -> ExamSession:
        self._same_attempt(command)
        if self.session is None:
            raise SessionStateError("the attempt has not been started (or awaits resume approval)")
        return self.session

    def _cmd_admit(self, command: Command) -> None:
        args: protocol.AdmitArgs = command.args
        current = self.attempt
        if current is not None and current.attempt_id != args.attempt.attempt_id and \
                self.keys_released and not self.admission.get("receipt"):
            raise SessionStateError(f"attempt {current.attempt_id} is still in progress on this kiosk")
        if args.attempt.kiosk_id != self.kiosk_id:
            raise ValidationError("args.attempt.kiosk_id", "is not this kiosk")
        self.session = None
        self.attempt = args.attempt
        self.admission = {"package_sha256": args.package_sha256, "package_size": args.package_size,
                          "identity_checked_by": args.identity_checked_by, "admitted_at": utc_text_ms(),
                          "identity_confirmed": False, "keys_released": False, "receipt": None}
        self.fault = None
        storage.set_state(self.db, "attempt", args.attempt.to_dict())
        storage.set_state(self.db, "admission", self.admission)
        self.outbox.add_event("attempt.admitted", attempt_id=args.attempt.attempt_id,
                              data={"seat": args.attempt.seat})
        self.on_attempt_change(args.attempt.attempt_id)

    def _cmd_start(self, command: Command) -> None:
        self._same_attempt(command)
        if self.session is not None:
            return
        self._open_session(command.args)

    def _cmd_resume_approved(self, command: Command) -> None:
        self._same_attempt(command)
        if self.session is None:
            self._open_session(command.args)

    def _cmd_pause(self, command: Command) -> None:
        self._live(command).pause(command.args.reason, command.command_id)

    def _cmd_resume(self, command: Command) -> None:
        self._live(command).resume(command.command_id)

    def _cmd_extend(self, command: Command) -> None:
        self._live(command).extend(command.args.seconds, command.args.reason, command.command_id)

    def _cmd_end(self, command: Command) -> None:
        self._live(command).end(command.args.reason, command.command_id)

    def _cmd_cancel_admission(self, command: Command) -> None:
        """Undo an admission whose exam never started (wrong seat, candidate left before the start).

        Refused once the key was released (the exam started: ``end`` seals what was answered) or
        after sealing. Otherwise nothing exists to seal: no key, no journal, only the admission, so
        the kiosk forgets the attempt and shows the waiting screen; the cached package stays (it is
        encrypted and may serve the next admission). The event tells the console it was done.
        """
        self._same_attempt(command)
        if self.session is not None or self.keys_released or self.admission.get("receipt"):
            raise SessionStateError("the exam has started on this kiosk: end it instead of cancelling the admission")
        attempt_id = command.attempt_id
        self.attempt, self.admission, self.session, self.fault = None, {}, None, None
        self.messages.clear()
        storage.set_state(self.db, "attempt", None)
        storage.set_state(self.db, "admission", {})
        self.outbox.add_event("attempt.admission_cancelled", attempt_id=attempt_id)
        self.on_attempt_change(None)

    def _cmd_message(self, command: Command) -> None:
        self.messages.append({"text": command.args.text, "at": utc_text_ms(), "id": command.command_id})
        del self.messages[:-5]

    # --- opening the attempt ---------------------------------------------------------------------

    def package_path(self, package_id: str) -> Path:
        return self.packages / f"{package_id}.pkg"

    def package_wanted(self) -> tuple[str, str, int] | None:
        """(package_id, sha256, size) of the admitted attempt's package if it is not cached yet."""
        with self.lock:
            if self.attempt is None or not self.admission.get("package_sha256"):
                return None
            path = self.package_path(self.attempt.package_id)
            if path.exists() and path.stat().st_size == self.admission["package_size"]:
                return None
            return self.attempt.package_id, self.admission["package_sha256"], self.admission["package_size"]

    def store_package(self, package_id: str, data: bytes) -> None:
        """Cache the (encrypted) package after checking it is the one the console admitted."""
        expected = self.admission.get("package_sha256")
        if hashlib.sha256(data).hexdigest() != expected:
            raise PackageUnavailable(f"package {package_id} does not match the admitted SHA-256")
        path = self.package_path(package_id)
        write_atomic(path, data)

    def _read_package(self, args: protocol.KeyReleaseArgs) -> bytes:
        if self.attempt is None or args.package_id != self.attempt.package_id:
            raise ValidationError("args.package_id", "is not the admitted attempt's package")
        path = self.package_path(args.package_id)
        if not path.exists():
            raise PackageUnavailable(f"package {args.package_id} is not cached yet")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != args.package_sha256:
            raise PackageUnavailable(f"cached package {args.package_id} does not match the released SHA-256")
        return data

    def _open_session(self, args: protocol.KeyReleaseArgs) -> None:
        if self.attempt is None:
            raise RuntimeError("a key release with no attempt admitted")
        data = self._read_package(args)
        content_key = self.opener.unwrap(b64d(args.wrapped_key, "wrapped_key"), args.package_id,
                                         self.attempt.attempt_id)
        bundle = self.open_bundle(self.opener.decrypt(data, content_key))
        key = journal_key_for(content_key, self.attempt.attempt_id, self.kiosk_id)
        session = ExamSession(Journal(self.db, self.attempt.attempt_id, key), self.attempt, bundle,
                              self._sealer, self._deliver, notify=self._notify, attestation=lambda: self.attestation)
        expected = self.admission.get("console_head")
        session.open(JournalHead(expected["seq"], expected["hash"]) if expected else None)
        self.session = session
        if not self.keys_released:
            self.admission["keys_released"] = True
            storage.set_state(self.db, "admission", self.admission)
        self.outbox.add_event("attempt.keys_opened", attempt_id=self.attempt.attempt_id,
                              data={"journal_rows": session.journal.head.seq})

    @staticmethod
    def open_bundle(content: bytes) -> FormBundle:
        form, media = formcontent.decode(content)
        return FormBundle(FormContent.from_dict(form), media)

    def _deliver(self, result: AttemptResult, sealed: Sealed) -> Sealed:
        """Queue the envelope in the outbox (the first one, if a crash made the session seal twice)
        and remember the receipt and the sealed journal head: heartbeats report that head from now on."""
        attempt_id = result.attempt.attempt_id
        message = protocol.EnvelopeMessage(attempt_id=attempt_id, envelope=b64e(sealed.envelope),
                                           sha256=sealed.sha256)
        entry = self.outbox.add_envelope(attempt_id, message.to_dict())
        queued = protocol.EnvelopeMessage.from_dict(loads_strict(entry.body, max_bytes=protocol.MAX_MESSAGE_BYTES))
        envelope = b64d(queued.envelope, "envelope")
        if queued.sha256 != sealed.sha256:
            sealed = Sealed(envelope, queued.sha256, receipt_code(queued.sha256))
        self.admission["sealed_head"] = result.journal_head.to_dict()
        self.admission["receipt"] = {"envelope_sha256": sealed.sha256, "receipt_code": sealed.receipt_code,
                                     "at": utc_text_ms()}
        storage.set_state(self.db, "admission", self.admission)
        return sealed

    def _notify(self, type_: str, severity: str = "info", **fields: Any) -> None:
        attempt_id = self.attempt.attempt_id if self.attempt else None
        self.outbox.add_event(type_, severity, attempt_id=attempt_id, **fields)

    def _fault(self, reason: str) -> None:
        self.fault = reason
        self.outbox.add_event("journal.tampered", "critical",
                              attempt_id=self.attempt.attempt_id if self.attempt else None,
                              rule="journal_verification", data={"reason": reason[:500]})

    # --- candidate -------------------------------------------------------------------------------

    def confirm_identity(self) -> None:
        with self.lock:
            if self.attempt is None:
                raise SessionStateError("no candidate admitted")
            if not self.admission.get("identity_confirmed"):
                self.admission["identity_confirmed"] = True
                self.admission["identity_confirmed_at"] = utc_text_ms()
                storage.set_state(self.db, "admission", self.admission)
                self.outbox.add_event("attempt.identity_confirmed", attempt_id=self.attempt.attempt_id)

    def require_session(self) -> ExamSession:
        with self.lock:
            if self.session is None:
                raise SessionStateError("the exam is not open on this kiosk")
            return self.session

    # --- time ------------------------------------------------------------------------------------

    def tick(self) -> None:
        session = self.session
        if session is not None:
            session.tick()

    def run_ticker(self) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(TICK_SECONDS):
                try:
                    self.tick()
                except Exception as exc:  # noqa: BLE001 - keep ticking; the fault is shown and sent
                    self.fault = f"timer: {exc}"
        thread = threading.Thread(target=loop, name="kiosk-ticker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

"""One candidate's attempt, live: the state machine, the clock, answers, and their journal.

Why everything goes through :meth:`ExamSession.record`: the attempt's state is *only* the replay
of its journal. A fact is first committed to the journal (encrypted, hash-chained, FULL), then
applied to memory by the same :func:`apply_row` that replays the journal after a crash. So what
the candidate saw as saved is exactly what comes back, and there is no second copy of the truth
that could disagree with the first.

Phases follow ``exam_core.model.ATTEMPT_STATES``: ``agreement`` (keys released, agreement shown)
-> ``instructions`` -> ``in_progress`` (clock runs unless paused or on a rest break) ->
``submitted``. ``paused`` is a flag over ``in_progress`` (the wire state reports it as ``paused``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from collections.abc import Callable

from exam_core.errors import InvigilError, ValidationError
from exam_core.jsonio import b64e, canonical_dumps
from exam_core.model import Attempt, Response
from exam_core.result import (MAX_RESPONSES, AccommodationsReport, AccommodationUse, AttemptResult, EndedBy,
                              Extension, MonitoringAcknowledgement, Pause, Presentation, Restart, RestBreak,
                              SealedJournalHead, SealStamp, Slot, Submission, Timings, Unanswered)
from exam_core.timestamps import utc_text_ms

from kiosk.answers import check_answer
from kiosk.tools.settings import annotation_tool, check_annotation, check_setting
from kiosk.content import FormBundle
from kiosk.journal import Journal, JournalHead
from exam_core.presentation import presented_orders
from kiosk.timer import ExamClock, allowed_ms, due_warnings

CHECKPOINT_SECONDS = 1.0
#: Answer history one result carries at most, in canonical JSON bytes (of the 16 MiB sealed payload).
HISTORY_MAX_BYTES = 4 * 1024 * 1024


class SessionStateError(InvigilError):
    """The action is not allowed in the attempt's current phase (e.g. answering while paused)."""


@dataclass
class AttemptState:
    """Everything the journal says about an attempt; built only by :func:`apply_row`."""

    attempt: dict[str, Any] | None = None
    phase: str = "agreement"
    elapsed_ms: int = 0
    extension_seconds: int = 0
    paused: bool = False
    pause_reason: str = ""
    on_break: bool = False
    breaks_taken: int = 0
    current: int = 0
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    answer_meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    agreement_at: str | None = None
    began_at: str | None = None
    accommodations_used: dict[str, dict[str, Any]] = field(default_factory=dict)
    accommodations_active: dict[str, Any] = field(default_factory=dict)
    warnings: set[int] = field(default_factory=set)
    item_time_ms: dict[int, int] = field(default_factory=dict)
    last_nav_elapsed: int = 0
    answer_changes: int = 0
    pauses: list[dict[str, Any]] = field(default_factory=list)
    breaks: list[dict[str, Any]] = field(default_factory=list)
    resumes: list[dict[str, Any]] = field(default_factory=list)
    extensions: list[dict[str, Any]] = field(default_factory=list)
    ended_by: dict[str, Any] | None = None
    submitted: dict[str, Any] | None = None
    submitting: dict[str, Any] | None = None
    annotations: dict[str, dict[str, Any]] = field(default_factory=dict)  # item_id ("" = attempt) -> kind -> value
    monitoring_notice: dict[str, Any] | None = None


def _charge_current_item(state: AttemptState, elapsed: int) -> None:
    """Time on items is the exam clock's time between navigations (pauses are never charged)."""
    if state.phase == "in_progress":
        delta = max(0, elapsed - state.last_nav_elapsed)
        state.item_time_ms[state.current] = state.item_time_ms.get(state.current, 0) + delta
    state.last_nav_elapsed = elapsed


def apply_row(state: AttemptState, seq: int, row: dict[str, Any]) -> None:
    """Apply one journal row to the state. Used live and on replay, so both agree by construction."""
    kind = row["t"]
    elapsed = int(row.get("elapsed_ms", state.elapsed_ms))
    wall = row.get("wall_time")
    if kind in ("nav", "submitting", "pause", "break_start"):
        _charge_current_item(state, elapsed)
    state.elapsed_ms = max(state.elapsed_ms, elapsed)
    if kind == "tick":
        return  # a checkpoint carries only the elapsed time, applied above
    if kind == "open":
        state.attempt = row["attempt"]
    elif kind == "agreement":
        state.agreement_at, state.phase = wall, "instructions"
        if row.get("monitoring_notice"):
            state.monitoring_notice = {**row["monitoring_notice"], "acknowledged_at": wall}
    elif kind == "begin":
        state.began_at, state.phase = wall, "in_progress"
        state.last_nav_elapsed = elapsed
    elif kind == "answer":
        state.answers.setdefault(row["item_id"], {})[row["response_id"]] = row["value"]
        state.answer_meta.setdefault(row["item_id"], {})[row["response_id"]] = {
            "seq": seq, "wall_time": wall, "elapsed_ms": elapsed}
        state.answer_changes += 1
    elif kind == "flag":
        (state.flags.add if row["flagged"] else state.flags.discard)(row["item_id"])
    elif kind == "nav":
        state.current = int(row["index"])
    elif kind == "pause":
        state.paused, state.pause_reason = True, row.get("reason", "")
        state.pauses.append({"start": wall, "elapsed_ms": elapsed, "reason": state.pause_reason})
    elif kind == "resume":
        state.paused, state.pause_reason = False, ""
        state.last_nav_elapsed = elapsed
        if state.pauses:
            state.pauses[-1]["end"] = wall
    elif kind == "extend":
        state.extension_seconds += int(row["seconds"])
        state.extensions.append({"seconds": row["seconds"], "reason": row.get("reason", ""), "at": wall})
    elif kind == "break_start":
        state.on_break = True
        state.breaks_taken += 1
        state.breaks.append({"start": wall, "elapsed_ms": elapsed})
        _use(state, "rest_breaks", wall, state.breaks_taken)
    elif kind == "break_end":
        state.on_break = False
        state.last_nav_elapsed = elapsed
        if state.breaks:
            state.breaks[-1].update(end=wall, reason=row.get("reason", "candidate"))
    elif kind == "accommodation":
        state.accommodations_active[row["name"]] = row["value"]
        if row["value"] not in (False, 100, None):
            _use(state, row["name"], wall, row["value"])
    elif kind == "warning":
        state.warnings.add(int(row["minutes"]))
    elif kind == "annotation":
        state.annotations.setdefault(row.get("item_id") or "", {})[row["annotation"]] = row["value"]
        _use(state, annotation_tool(row["annotation"]), wall, 1)
    elif kind == "resumed":
        state.resumes.append({"at": wall, "elapsed_ms": elapsed, "seq": seq})
        state.last_nav_elapsed = elapsed
    elif kind == "end":
        state.ended_by = {"reason": row.get("reason", ""), "at": wall}
    elif kind == "submitting":
        state.submitting = {"reason": row["reason"], "at": wall}
    elif kind == "submit":
        state.phase = "submitted"
        state.submitted = {k: row[k] for k in ("reason", "envelope_sha256", "receipt_code")}
        state.submitted["at"] = wall
    else:
        raise ValidationError(f"journal[{seq}].t", f"unknown row type {kind!r}")


def _use(state: AttemptState, name: str, wall: str | None, value: Any) -> None:
    used = state.accommodations_used.setdefault(name, {"first_used": wall, "uses": 0})
    used["uses"] += 1
    used["last_value"] = value


def journal_key_for(content_key: bytes, attempt_id: str, kiosk_id: str) -> bytes:
    """The per-attempt journal key, derived from the content key the console released.

    Why derived: the protocol's key release carries one key (the package's content key, wrapped to
    this kiosk). HKDF binds the attempt and the kiosk, so each attempt has its own key, which exists
    only in memory and comes back only when the console releases the content key again.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from exam_core import purposes
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=purposes.bind("kiosk-journal-key", f"{attempt_id}\x00{kiosk_id}".encode())
                ).derive(bytes(content_key))


@dataclass(frozen=True)
class Sealed:
    """What sealing a submission produced: the envelope bytes and the code shown to the candidate."""

    envelope: bytes
    sha256: str
    receipt_code: str


def receipt_code(envelope_sha256: str) -> str:
    """A short, readable code from the envelope hash: 10 Crockford base32 characters, XXXXX-XXXXX.

    50 bits of the hash: enough for a candidate to quote and a console to look up unambiguously.
    """
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    number = int(envelope_sha256[:13], 16) >> 2  # 52 bits -> 50
    chars = "".join(alphabet[(number >> (5 * i)) & 31] for i in reversed(range(10)))
    return f"{chars[:5]}-{chars[5:]}"


def _base64_or_none(data: bytes) -> str | None:
    return b64e(data) if data else None


class Sealer(Protocol):
    """What sealing needs from the kiosk's device (:class:`kiosk.device.Device`): the moment of
    sealing, then the result's bytes sealed into an envelope for the attempt (kiosk key, central
    results key). The device never looks inside the result."""

    def stamp(self) -> SealStamp: ...

    def seal(self, attempt: Attempt, result: bytes, stamp: SealStamp) -> Sealed: ...


class ExamSession:
    """A live attempt with its keys in memory. All public methods are thread-safe.

    At submission the session builds the whole :class:`~exam_core.result.AttemptResult` (with the
    journal chain, ``attestation()``, the kiosk's latest release attestation, and the sealer's
    stamp) and ``sealer`` seals its bytes; ``deliver(result, sealed)`` queues the envelope in the
    outbox and returns the envelope actually queued (the first one, if a crash made us seal
    twice); ``notify`` receives lifecycle events (warnings, rest breaks) for the console.
    ``monotonic`` is the clock of exam time (``time.monotonic``; tests inject their own).
    """

    def __init__(self, journal: Journal, attempt: Attempt, bundle: FormBundle, sealer: Sealer,
                 deliver: Callable[[AttemptResult, Sealed], Sealed],
                 notify: Callable[..., Any] = lambda *a, **k: None,
                 checkpoint_seconds: float = CHECKPOINT_SECONDS, *,
                 attestation: Callable[[], bytes] = lambda: b"",
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.journal = journal
        self.attempt = attempt
        self.bundle = bundle
        self._sealer = sealer
        self._deliver = deliver
        self._notify = notify
        self._attestation = attestation
        self._monotonic = monotonic
        self.checkpoint_seconds = checkpoint_seconds
        self.lock = threading.RLock()
        self.state = AttemptState()
        self.clock = ExamClock(monotonic=monotonic)
        self._last_checkpoint = 0.0
        self._break_started_mono: float | None = None

    # --- opening --------------------------------------------------------------------------------

    def open(self, expected_head: JournalHead | None = None) -> bool:
        """Replay the journal (verifying it), or start it. Returns True if this was a resume."""
        with self.lock:
            resumed = False
            for row in self.journal.rows(expected_head):
                apply_row(self.state, row.seq, row.payload)
                resumed = True
            if not resumed:
                self._append("open", attempt=self.attempt.to_dict())
            elif self.state.attempt != self.attempt.to_dict():
                bound = (self.state.attempt or {}).get("attempt_id")
                if bound != self.attempt.attempt_id:
                    raise SessionStateError(f"journal belongs to attempt {bound}")
            self.clock = ExamClock(self.state.elapsed_ms, self._monotonic)
            if resumed and self.state.phase not in ("submitted",):
                self._append("resumed", head_seq=self.journal.head.seq)
            if self.state.submitting and self.state.phase != "submitted":
                self._finish_submission(self.state.submitting["reason"])
            self._sync_clock()
            return resumed

    # --- derived values -------------------------------------------------------------------------

    @property
    def duration_seconds(self) -> int:
        """The exam time this candidate is allowed before extensions (accommodation applied once)."""
        return self.attempt.allowed_seconds(self.bundle.content.form.duration_seconds)

    def allowed_ms(self) -> int:
        return allowed_ms(self.duration_seconds, self.state.extension_seconds)

    def remaining_ms(self) -> int:
        return max(0, self.allowed_ms() - self.clock.elapsed_ms())

    def wire_state(self) -> str:
        if self.state.phase == "in_progress" and self.state.paused:
            return "paused"
        return self.state.phase

    def answered_count(self) -> int:
        return sum(1 for item in self.bundle.items if self.is_answered(item.item_id))

    def is_answered(self, item_id: str) -> bool:
        values = self.state.answers.get(item_id, {})
        return any(v not in (None, "", []) for v in values.values())

    # --- journal --------------------------------------------------------------------------------

    def _append(self, kind: str, **fields: Any) -> int:
        payload = {"t": kind, "elapsed_ms": self.clock.elapsed_ms(), "wall_time": utc_text_ms(), **fields}
        row = self.journal.append(payload)
        apply_row(self.state, row.seq, payload)
        self._last_checkpoint = self._monotonic()
        return row.seq

    def _sync_clock(self) -> None:
        s = self.state
        if s.phase == "in_progress" and not s.paused and not s.on_break and not s.submitting:
            self.clock.start()
        else:
            self.clock.stop()

    def _require(self, *phases: str, running: bool = False) -> None:
        if self.state.phase not in phases:
            raise SessionStateError(f"not allowed while the attempt is {self.state.phase}")
        if running and (self.state.paused or self.state.on_break or self.state.submitting):
            raise SessionStateError("the exam is paused" if self.state.paused else "not allowed now")

    # --- candidate actions ----------------------------------------------------------------------

    def accept_agreement(self, monitoring_notice: dict[str, Any] | None = None) -> None:
        """The candidate accepted the agreement, having read the automated-monitoring notice
        (``{"version", "sha256"}`` of the notice shown; recorded with the agreement)."""
        with self.lock:
            self._require("agreement")
            notice = {"monitoring_notice": monitoring_notice} if monitoring_notice else {}
            self._append("agreement", **notice)
            self._notify("attempt.agreement_accepted", data=notice)

    def begin(self) -> None:
        with self.lock:
            self._require("instructions")
            self._append("begin")
            self._sync_clock()
            self._notify("attempt.started", data={"allowed_seconds": self.allowed_ms() // 1000})

    def answer(self, item_id: str, response_id: str, value: Any) -> int:
        """Validate and journal one answer change; returns the journal seq once durable."""
        with self.lock:
            self._require("in_progress", running=True)
            if item_id not in self.bundle.index:
                raise ValidationError("item_id", "is not an item of this form")
            try:
                interaction = self.bundle.item(item_id).interaction(response_id)
            except KeyError:
                raise ValidationError("response_id", f"is not a response of {item_id}") from None
            value = check_answer(interaction, value, image_size=self.bundle.image_size(interaction.image),
                                 previous=self.state.answers.get(item_id, {}).get(response_id))
            return self._append("answer", item_id=item_id, response_id=response_id, value=value)

    def flag(self, item_id: str, flagged: bool) -> int:
        with self.lock:
            self._require("in_progress", running=True)
            if item_id not in self.bundle.index:
                raise ValidationError("item_id", "is not an item of this form")
            return self._append("flag", item_id=item_id, flagged=bool(flagged))

    def navigate(self, index: int) -> int:
        with self.lock:
            self._require("in_progress", running=True)
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self.bundle.items):
                raise ValidationError("index", f"must be 0..{len(self.bundle.items) - 1}")
            return self._append("nav", index=index)

    def set_accommodation(self, name: str, value: Any) -> int:
        """Record a display setting or a candidate tool switched on or off (each use is recorded);
        :func:`kiosk.tools.settings.check_setting` says what this candidate may set."""
        with self.lock:
            self._require("agreement", "instructions", "in_progress")
            value = check_setting(name, value, self.attempt.accommodations, self.bundle.content.form.tools)
            return self._append("accommodation", name=name, value=value)

    def annotate(self, item_id: str | None, kind: str, value: Any) -> int:
        """Journal a highlight, struck-out options (per question) or the scratch pad (per attempt)."""
        with self.lock:
            self._require("in_progress", running=True)
            if item_id is not None and item_id not in self.bundle.index:
                raise ValidationError("item_id", "is not an item of this form")
            item = self.bundle.item(item_id) if item_id is not None else None
            value = check_annotation(kind, item, value, self.bundle.content.form.tools)
            return self._append("annotation", item_id=item_id if kind != "scratch" else None, annotation=kind,
                                value=value)

    def start_break(self) -> None:
        with self.lock:
            self._require("in_progress", running=True)
            granted = self.attempt.accommodations
            if self.state.breaks_taken >= granted.rest_breaks:
                raise SessionStateError("no rest break left")
            self.clock.stop()
            self._append("break_start", limit_minutes=granted.rest_break_minutes)
            self._break_started_mono = self._monotonic()
            self._sync_clock()
            self._notify("attempt.rest_break_started", data={"breaks_taken": self.state.breaks_taken})

    def end_break(self, reason: str = "candidate") -> None:
        with self.lock:
            if not self.state.on_break:
                raise SessionStateError("not on a rest break")
            self._append("break_end", reason=reason)
            self._break_started_mono = None
            self._sync_clock()
            self._notify("attempt.rest_break_ended", data={"reason": reason})

    def submit(self, reason: str = "candidate") -> Sealed:
        with self.lock:
            self._require("in_progress")
            return self._finish_submission(reason)

    # --- proctor commands -----------------------------------------------------------------------

    def pause(self, reason: str, command_id: str) -> None:
        with self.lock:
            self._require("in_progress")
            if not self.state.paused:
                self.clock.stop()
                self._append("pause", reason=reason, command_id=command_id)
                self._sync_clock()

    def resume(self, command_id: str) -> None:
        with self.lock:
            self._require("in_progress")
            if self.state.paused:
                self._append("resume", command_id=command_id)
                self._sync_clock()

    def extend(self, seconds: int, reason: str, command_id: str) -> None:
        with self.lock:
            self._require("agreement", "instructions", "in_progress")
            self._append("extend", seconds=seconds, reason=reason, command_id=command_id)

    def end(self, reason: str, command_id: str) -> Sealed | None:
        """The proctor ends the attempt: what is answered is sealed and submitted."""
        with self.lock:
            if self.state.phase == "submitted":
                return None
            self._append("end", reason=reason, command_id=command_id)
            return self._finish_submission("proctor_end")

    # --- time -----------------------------------------------------------------------------------

    def tick(self) -> None:
        """Called every ~250 ms: checkpoints, warnings, break limit, submission at time-out."""
        with self.lock:
            s = self.state
            if s.phase != "in_progress" or s.submitting:
                return
            if s.on_break and self._break_over():
                self.end_break("limit")
            if not self.clock.running:
                return
            allowed, elapsed = self.allowed_ms(), self.clock.elapsed_ms()
            if elapsed >= allowed:
                self._finish_submission("timeout")
                return
            for minutes in due_warnings(allowed, elapsed, s.warnings):
                self._append("warning", minutes=minutes)
                self._notify("attempt.time_warning", data={"minutes_left": minutes})
            if self._monotonic() - self._last_checkpoint >= self.checkpoint_seconds:
                self._append("tick")

    def _break_over(self) -> bool:
        limit = self.attempt.accommodations.rest_break_minutes * 60
        if self._break_started_mono is None:
            self._break_started_mono = self._monotonic()  # a break that survived a restart starts counting again
        return limit > 0 and self._monotonic() - self._break_started_mono >= limit

    # --- submission -----------------------------------------------------------------------------

    def _finish_submission(self, reason: str) -> Sealed:
        """Seal and queue the envelope, then journal the submission.

        Crash-safe in three steps: ``submitting`` (clock stopped, journaled), the envelope put in
        the outbox (idempotent per attempt: a second sealing after a crash reuses the first), and
        ``submit`` (journaled with the envelope hash). A resume between the steps finishes them.
        """
        self.clock.stop()
        if not self.state.submitting:
            self._append("submitting", reason=reason)
        stamp = self._sealer.stamp()
        result = self.result(self.journal.head, stamp)
        sealed = self._deliver(result, self._sealer.seal(self.attempt, result.to_bytes(), stamp))
        started = self.state.submitting or {"reason": reason}  # set by the "submitting" entry above
        self._append("submit", reason=started["reason"], envelope_sha256=sealed.sha256,
                     receipt_code=sealed.receipt_code)
        self._notify("attempt.submitted", data={"reason": reason, "envelope_sha256": sealed.sha256})
        return sealed

    def result(self, head: JournalHead, stamp: SealStamp | None = None) -> AttemptResult:
        """The whole result to seal (``exam_core.result``): every slot's final answer and the changes
        before it, timings, the journal head with its chain, accommodations and tools used, the
        monitoring notice read, the option orders shown, how it ended, the attestation, ``stamp``."""
        s = self.state
        slots = self._slots()
        history, omitted = self.answer_history(len(slots))
        used = {name: AccommodationUse(u["first_used"], u["uses"], u.get("last_value"))
                for name, u in s.accommodations_used.items()}
        notice = s.monitoring_notice
        ended = s.ended_by
        return AttemptResult(
            attempt=self.attempt, responses=slots, journal_head=SealedJournalHead(head.seq, head.hash),
            history=history, history_omitted=omitted, timings=self._timings(), answer_changes=s.answer_changes,
            accommodations=AccommodationsReport(self.attempt.accommodations, used),
            monitoring_notice=None if notice is None else MonitoringAcknowledgement(
                str(notice.get("version", "")), str(notice.get("sha256", "")), str(notice.get("checks", "")),
                notice.get("acknowledged_at")),
            presentation=Presentation(self.attempt.option_seed,
                                      presented_orders(self.bundle.items, self.attempt.option_seed)),
            submission=Submission((s.submitting or {}).get("reason", "candidate"),
                                  None if ended is None else EndedBy(ended["reason"], ended["at"])),
            journal_chain=self.journal.chain(head), attestation=_base64_or_none(self._attestation()), sealed=stamp)

    def _slots(self) -> tuple[Slot, ...]:
        """Every response slot of the form, in form order: its last answer, or :class:`Unanswered`."""
        s, attempt_id = self.state, self.attempt.attempt_id
        slots: list[Slot] = []
        for item in self.bundle.items:
            flagged = item.item_id in s.flags
            for interaction in item.interactions:
                meta = s.answer_meta.get(item.item_id, {}).get(interaction.response_id)
                if meta is None:
                    slots.append(Unanswered(attempt_id, item.item_id, interaction.response_id, flagged))
                    continue
                slots.append(Response(attempt_id=attempt_id, seq=meta["seq"], item_id=item.item_id,
                                      response_id=interaction.response_id,
                                      value=s.answers.get(item.item_id, {}).get(interaction.response_id),
                                      wall_time=meta["wall_time"], elapsed_ms=meta["elapsed_ms"], flagged=flagged))
        return tuple(slots)

    def _timings(self) -> Timings:
        s = self.state
        return Timings(
            allowed_ms=self.allowed_ms(), elapsed_ms=self.clock.elapsed_ms(), began_at=s.began_at,
            agreement_accepted_at=s.agreement_at,
            item_time_ms={self.bundle.items[i].item_id: ms for i, ms in sorted(s.item_time_ms.items())},
            pauses=tuple(Pause(p["start"], p["elapsed_ms"], p.get("reason", ""), p.get("end")) for p in s.pauses),
            rest_breaks=tuple(RestBreak(b["start"], b["elapsed_ms"], b.get("end"), b.get("reason")) for b in s.breaks),
            extensions=tuple(Extension(e["seconds"], e.get("reason", ""), e["at"]) for e in s.extensions),
            resumes_after_restart=tuple(Restart(r["at"], r["elapsed_ms"], r["seq"]) for r in s.resumes))

    def answer_history(self, final_count: int) -> tuple[tuple[Response, ...], int]:
        """Every answer change in journal order, for the central body's wrong-to-right analysis.

        Read back from the journal at sealing (verified again on the way) rather than kept in
        memory all exam long. Each entry has the shape of a final response; ``flagged`` is the
        item's flag at submission, as in ``responses``, so the entry of a final change is equal to
        that final response (the intake merges both lists by ``seq``). Drafts of ``extended_text``
        answers are left out: they are human-marked, not part of that analysis, and an essay saved
        every few seconds would outgrow the envelope. If the rest still exceeds the intake's
        budget, the oldest changes are dropped and counted: the submission must never fail on it.
        """
        essays = {(item.item_id, i.response_id) for item in self.bundle.items for i in item.interactions
                  if i.type == "extended_text"}
        changes = []
        for row in self.journal.rows():
            p = row.payload
            if p["t"] != "answer" or (p["item_id"], p["response_id"]) in essays:
                continue
            changes.append(Response(attempt_id=self.attempt.attempt_id, seq=row.seq, item_id=p["item_id"],
                                    response_id=p["response_id"], value=p["value"], wall_time=p["wall_time"],
                                    elapsed_ms=int(p["elapsed_ms"]), flagged=p["item_id"] in self.state.flags))
        kept, size = 0, 0
        for change in reversed(changes):
            size += len(canonical_dumps(change.to_dict()))
            if kept >= MAX_RESPONSES - final_count or size > HISTORY_MAX_BYTES:
                break
            kept += 1
        return tuple(changes[len(changes) - kept:]), len(changes) - kept


"""The attempt result (``invigil-attempt-result`` v1): what a kiosk seals at submission, one definition.

The kiosk's session builds one :class:`AttemptResult` when the candidate submits (or the proctor
ends the attempt, or time runs out), the kiosk's device seals its bytes (:meth:`AttemptResult.to_bytes`,
canonical JSON) into a response envelope (``exam_core.envelope``), and only the central body, holding
the results key, opens it and reads it back with :meth:`AttemptResult.from_dict` before it checks the
attempt against the envelope's signed header and scores it. Both ends use this module, so the
document cannot drift apart between them.

What it holds: the attempt as admitted; every response slot of the form with its final value
(:class:`Unanswered` for a slot never answered); every earlier answer change (``history``, the
oldest dropped and counted in ``history_omitted`` when over budget); timings (exam time allowed and
used, pauses, rest breaks, extensions, restarts); the journal head at sealing and the hashes of every
journal row up to it (``journal_chain``, which lets the central body check the heads the console
saw); accommodations granted and used (candidate tools among them); which automated-monitoring notice
the candidate acknowledged; the option orders shown; how the attempt ended; the kiosk's
release attestation and its clock at sealing.

Reading is strict (unknown fields refused, every bound checked; a ``ValidationError`` names the
field) and also checks the document against itself (``TamperedError``): no response newer than the
journal head, no two different answers with one journal sequence number, a chain of exactly the
head's length ending in the head. Documents from earlier kiosks and test tools without the later
fields (history, accommodations, presentation, submission, chain, attestation, sealing clock) still
read: those fields are optional.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from exam_core import limits
from exam_core.errors import ArtefactError, TamperedError, ValidationError
from exam_core.jsonio import b64d, b64e, canonical_dumps
from exam_core.model import IDENTIFIER_RE, SHA256_RE, TIMESTAMP_RE, Accommodations, Attempt, Response
from exam_core.protocol import MAX_ATTESTATION_BYTES, MAX_JOURNAL_SEQ
from exam_core.records import Fields, Record, check_int, check_number, check_str

RESULT_FORMAT = "invigil-attempt-result"
RESULT_VERSION = 1
#: Final responses plus history entries one result may carry (the kiosk trims history to fit).
MAX_RESPONSES = limits.ENVELOPE_MAX_RESPONSES
#: Reasons (pauses, extensions, the end of an attempt), as the console's commands bound them.
MAX_REASON = 1000

_LIST_NAME_RE = re.compile(r"^[a-z][a-z_]{0,31}$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


# --- responses ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Unanswered(Record):
    """A response slot never answered: no value, no journal row, no time (flagged or not)."""

    attempt_id: str
    item_id: str
    response_id: str
    flagged: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"attempt_id": self.attempt_id, "item_id": self.item_id, "response_id": self.response_id,
                "value": None, "seq": 0, "wall_time": None, "elapsed_ms": 0, "flagged": self.flagged}

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Unanswered:
        r = Fields(data, path)
        out = cls(attempt_id=r.str("attempt_id", pattern=IDENTIFIER_RE),
                  item_id=r.str("item_id", pattern=IDENTIFIER_RE),
                  response_id=r.str("response_id", pattern=IDENTIFIER_RE),
                  flagged=r.bool("flagged", False))
        for name in ("value", "wall_time"):
            if r.raw(name, None, nullable=True) is not None:
                raise ValidationError(r.where(name), "must be null in a slot never answered")
        r.int("seq", 0, minimum=0, maximum=0)
        r.int("elapsed_ms", 0, minimum=0, maximum=0)
        r.done()
        return out


#: One slot of ``responses``: its last answer, or none.
Slot = Response | Unanswered

_RESPONSE_FIELDS = frozenset({"attempt_id", "seq", "item_id", "response_id", "value", "wall_time", "elapsed_ms",
                              "flagged"})
_KNOWN_IDS: set[str] = set()


def _identifier(value: Any) -> bool:
    """IDENTIFIER_RE, remembered: item and response ids repeat in every result of a form."""
    if value in _KNOWN_IDS:
        return True
    if type(value) is not str or not IDENTIFIER_RE.match(value):
        return False
    if len(_KNOWN_IDS) > 100_000:
        _KNOWN_IDS.clear()
    _KNOWN_IDS.add(value)
    return True


def _plain_value(value: Any) -> bool:
    if value is None or type(value) is int:
        return True
    if type(value) is str:
        return len(value) <= 100_000
    return type(value) is list and len(value) <= 100 and all(type(v) is str and len(v) <= 128 for v in value)


def _plain_response(raw: Any) -> Response | None:
    """A fast path for the shape every honest kiosk writes (a few checks instead of the generic reader).

    It accepts only what ``Response.from_dict`` accepts too; anything else returns None and goes
    through the strict reader, so validation is never weaker, only quicker (intake throughput).
    Filling ``__dict__`` skips the frozen dataclass's per-field ``object.__setattr__`` calls, a third
    of the per-response cost at intake; the result is an ordinary, equal Response.
    """
    if type(raw) is not dict or raw.keys() != _RESPONSE_FIELDS:
        return None
    seq, elapsed, wall = raw["seq"], raw["elapsed_ms"], raw["wall_time"]
    if type(seq) is not int or seq < 0 or type(elapsed) is not int or elapsed < 0 or type(raw["flagged"]) is not bool:
        return None
    if not (_identifier(raw["attempt_id"]) and _identifier(raw["item_id"]) and _identifier(raw["response_id"])):
        return None
    if type(wall) is not str or not TIMESTAMP_RE.match(wall) or not _plain_value(raw["value"]):
        return None
    response = object.__new__(Response)
    response.__dict__.update(raw)
    return response


def _responses(values: list[Any], where: str, slots: bool) -> tuple[Any, ...]:
    """Each entry by the fast path, or strictly (named by its index); with ``slots`` an entry with
    neither value nor time is a slot never answered (:class:`Unanswered`)."""
    out = []
    for index, raw in enumerate(values):
        response: Slot | None = _plain_response(raw)
        if response is None:
            path = f"{where}[{index}]"
            if slots and isinstance(raw, dict) and raw.get("wall_time") is None and raw.get("value") is None:
                response = Unanswered.from_dict(raw, path)
            else:
                response = Response.from_dict(raw, path)
        out.append(response)
    return tuple(out)


# --- the journal at sealing -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SealedJournalHead(Record):
    """The answer journal's last row when the result was sealed: its number and chain hash."""

    seq: int
    hash: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> SealedJournalHead:
        r = Fields(data, path)
        out = cls(seq=r.int("seq", minimum=0, maximum=MAX_JOURNAL_SEQ), hash=r.str("hash", pattern=SHA256_RE))
        r.done()
        return out


# --- timings ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pause(Record):
    """A proctor's pause: when (wall clock, exam clock), why, and when it ended (if it did)."""

    start: str
    elapsed_ms: int
    reason: str = ""
    end: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "elapsed_ms": self.elapsed_ms, "reason": self.reason}
        if self.end is not None:
            out["end"] = self.end
        return out

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Pause:
        r = Fields(data, path)
        out = cls(start=r.str("start", pattern=TIMESTAMP_RE), elapsed_ms=r.int("elapsed_ms", minimum=0),
                  reason=r.str("reason", "", max_len=MAX_REASON), end=r.str("end", None, pattern=TIMESTAMP_RE))
        r.done()
        return out


@dataclass(frozen=True)
class RestBreak(Record):
    """A rest break the candidate took: start, and end with what ended it once it ended."""

    start: str
    elapsed_ms: int
    end: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "elapsed_ms": self.elapsed_ms}
        if self.end is not None:
            out["end"] = self.end
        if self.reason is not None:
            out["reason"] = self.reason
        return out

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> RestBreak:
        r = Fields(data, path)
        out = cls(start=r.str("start", pattern=TIMESTAMP_RE), elapsed_ms=r.int("elapsed_ms", minimum=0),
                  end=r.str("end", None, pattern=TIMESTAMP_RE), reason=r.str("reason", None, max_len=100))
        r.done()
        return out


@dataclass(frozen=True)
class Extension(Record):
    """Extra time a proctor granted."""

    seconds: int
    reason: str
    at: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Extension:
        r = Fields(data, path)
        out = cls(seconds=r.int("seconds", minimum=1, maximum=7 * 86_400),
                  reason=r.str("reason", "", max_len=MAX_REASON), at=r.str("at", pattern=TIMESTAMP_RE))
        r.done()
        return out


@dataclass(frozen=True)
class Restart(Record):
    """The kiosk came back mid-attempt (after a crash or power loss) at journal row ``seq``."""

    at: str
    elapsed_ms: int
    seq: int

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Restart:
        r = Fields(data, path)
        out = cls(at=r.str("at", pattern=TIMESTAMP_RE), elapsed_ms=r.int("elapsed_ms", minimum=0),
                  seq=r.int("seq", minimum=0, maximum=MAX_JOURNAL_SEQ))
        r.done()
        return out


def _item_times(r: Fields) -> dict[str, int]:
    times = r.dict("item_time_ms", {}, max_len=MAX_RESPONSES)
    for item_id, ms in times.items():
        if type(item_id) is not str or len(item_id) > 128 or type(ms) is not int or ms < 0:
            where = r.where("item_time_ms")
            check_str(item_id, where, max_len=128)
            check_int(ms, f"{where}.{item_id}", minimum=0)
    return dict(times)


@dataclass(frozen=True)
class Timings(Record):
    """Exam time (milliseconds of the kiosk's monotonic exam clock) and wall-clock moments."""

    allowed_ms: int | None = None
    elapsed_ms: int | None = None
    began_at: str | None = None
    agreement_accepted_at: str | None = None
    item_time_ms: dict[str, int] = field(default_factory=dict)
    pauses: tuple[Pause, ...] = ()
    rest_breaks: tuple[RestBreak, ...] = ()
    extensions: tuple[Extension, ...] = ()
    resumes_after_restart: tuple[Restart, ...] = ()

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Timings:
        r = Fields(data, path)
        out = cls(
            allowed_ms=r.int("allowed_ms", None, minimum=0, nullable=True),
            elapsed_ms=r.int("elapsed_ms", None, minimum=0, nullable=True),
            began_at=r.str("began_at", None, pattern=TIMESTAMP_RE, nullable=True),
            agreement_accepted_at=r.str("agreement_accepted_at", None, pattern=TIMESTAMP_RE, nullable=True),
            item_time_ms=_item_times(r),
            pauses=r.records("pauses", Pause, []),
            rest_breaks=r.records("rest_breaks", RestBreak, []),
            extensions=r.records("extensions", Extension, []),
            resumes_after_restart=r.records("resumes_after_restart", Restart, []),
        )
        r.done()
        return out


# --- accommodations, presentation, submission, sealing ----------------------------------------------------

def _scalar(value: Any, where: str) -> Any:
    """An accommodation's setting: null, true/false, a number or a short text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return check_number(value, where)
    return check_str(value, where, max_len=MAX_REASON)


@dataclass(frozen=True)
class AccommodationUse(Record):
    """How the candidate used one accommodation or tool: first use, how often, the last setting."""

    first_used: str | None
    uses: int
    last_value: Any = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> AccommodationUse:
        r = Fields(data, path)
        out = cls(first_used=r.str("first_used", None, pattern=TIMESTAMP_RE, nullable=True),
                  uses=r.int("uses", minimum=0),
                  last_value=_scalar(r.raw("last_value", None, nullable=True), r.where("last_value")))
        r.done()
        return out


@dataclass(frozen=True)
class AccommodationsReport(Record):
    """The accommodations the candidate was granted and those actually used (by name)."""

    granted: Accommodations
    used: dict[str, AccommodationUse] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> AccommodationsReport:
        r = Fields(data, path)
        granted = r.record("granted", Accommodations)
        used = r.dict("used", {}, max_len=100)
        where = r.where("used")
        out = cls(granted, {check_str(name, where, pattern=_NAME_RE): AccommodationUse.from_dict(use, f"{where}.{name}")
                            for name, use in used.items()})
        r.done()
        return out


def _orders(value: Any, where: str) -> dict[str, dict[str, dict[str, list[str]]]]:
    """``{item_id: {response_id: {list name: [ids in the order shown]}}}``."""
    if not isinstance(value, dict) or len(value) > MAX_RESPONSES:
        raise ValidationError(where, f"must be an object of at most {MAX_RESPONSES} items")
    for item_id, per_item in value.items():
        item_where = f"{where}.{check_str(item_id, where, pattern=IDENTIFIER_RE)}"
        if not isinstance(per_item, dict) or len(per_item) > 50:
            raise ValidationError(item_where, "must be an object of at most 50 responses")
        for response_id, lists in per_item.items():
            list_where = f"{item_where}.{check_str(response_id, item_where, pattern=IDENTIFIER_RE)}"
            if not isinstance(lists, dict) or len(lists) > 10:
                raise ValidationError(list_where, "must be an object of at most 10 lists")
            for name, ids in lists.items():
                check_str(name, list_where, pattern=_LIST_NAME_RE)
                if not isinstance(ids, list) or len(ids) > 10_000:
                    raise ValidationError(f"{list_where}.{name}", "must be a list of identifiers")
                for index, choice in enumerate(ids):
                    check_str(choice, f"{list_where}.{name}[{index}]", pattern=IDENTIFIER_RE)
    return value


@dataclass(frozen=True)
class Presentation(Record):
    """How the form was shown: the attempt's option seed and every shuffled list's order."""

    option_seed: int
    orders: dict[str, dict[str, dict[str, list[str]]]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Presentation:
        r = Fields(data, path)
        out = cls(option_seed=r.int("option_seed", minimum=0, maximum=2**63 - 1),
                  orders=_orders(r.raw("orders", {}), r.where("orders")))
        r.done()
        return out


@dataclass(frozen=True)
class EndedBy(Record):
    """The proctor ended the attempt: why, and when."""

    reason: str
    at: str | None

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> EndedBy:
        r = Fields(data, path)
        out = cls(reason=r.str("reason", "", max_len=MAX_REASON),
                  at=r.str("at", None, pattern=TIMESTAMP_RE, nullable=True))
        r.done()
        return out


@dataclass(frozen=True)
class Submission(Record):
    """What ended the attempt (``candidate``, ``time_up``, ``proctor`` ...) and the proctor's end, if any."""

    reason: str = "candidate"
    ended_by_proctor: EndedBy | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Submission:
        r = Fields(data, path)
        out = cls(reason=r.str("reason", "candidate", max_len=100),
                  ended_by_proctor=r.record("ended_by_proctor", EndedBy, None))
        r.done()
        return out


@dataclass(frozen=True)
class MonitoringAcknowledgement(Record):
    """Which automated-monitoring notice the candidate read before the exam, and when they
    acknowledged it with the agreement (``kiosk.disclosure``)."""

    version: str
    sha256: str
    checks: str = ""
    acknowledged_at: str | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> MonitoringAcknowledgement:
        r = Fields(data, path)
        out = cls(version=r.str("version", max_len=100), sha256=r.str("sha256", pattern=SHA256_RE),
                  checks=r.str("checks", "", max_len=MAX_REASON),
                  acknowledged_at=r.str("acknowledged_at", None, pattern=TIMESTAMP_RE, nullable=True))
        r.done()
        return out


@dataclass(frozen=True)
class SealStamp(Record):
    """The kiosk's clock at sealing, and the envelope header's ``created`` (never before the
    certificates the envelope is signed under: see ``kiosk.device.Device.seal_time``)."""

    kiosk_clock: str
    header_created: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> SealStamp:
        r = Fields(data, path)
        out = cls(kiosk_clock=r.str("kiosk_clock", pattern=TIMESTAMP_RE),
                  header_created=r.str("header_created", pattern=TIMESTAMP_RE))
        r.done()
        return out


# --- the document ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AttemptResult(Record):
    """See the module docstring. ``journal_chain`` is bytes here and base64 text in the document;
    ``attestation`` stays the base64 text as sealed: the central body's allow-list judges it, an
    undecodable one included (flagged ``invalid``, never a reason to refuse the attempt)."""

    attempt: Attempt
    responses: tuple[Slot, ...]
    journal_head: SealedJournalHead
    history: tuple[Response, ...] = ()
    history_omitted: int = 0
    timings: Timings = field(default_factory=Timings)
    answer_changes: int = 0
    accommodations: AccommodationsReport | None = None
    monitoring_notice: MonitoringAcknowledgement | None = None
    presentation: Presentation | None = None
    submission: Submission | None = None
    journal_chain: bytes | None = None
    attestation: str | None = None
    sealed: SealStamp | None = None

    def to_dict(self) -> dict[str, Any]:
        def optional(record: Record | None) -> dict[str, Any] | None:
            return None if record is None else record.to_dict()

        out = {
            "format": RESULT_FORMAT, "v": RESULT_VERSION,
            "attempt": self.attempt.to_dict(),
            "responses": [s.to_dict() for s in self.responses],
            "history": [h.to_dict() for h in self.history],
            "history_omitted": self.history_omitted,
            "timings": self.timings.to_dict(),
            "journal_head": self.journal_head.to_dict(),
            "answer_changes": self.answer_changes,
            "accommodations": optional(self.accommodations),
            "presentation": optional(self.presentation),
            "submission": optional(self.submission),
            "journal_chain": None if self.journal_chain is None else b64e(self.journal_chain),
            "attestation": self.attestation,
            "sealed": optional(self.sealed),
        }
        if self.monitoring_notice is not None:     # added after v1 was first sealed: absent when none
            out["monitoring_notice"] = self.monitoring_notice.to_dict()
        return out

    def to_bytes(self) -> bytes:
        """The canonical JSON bytes the device seals."""
        return canonical_dumps(self.to_dict())

    @functools.cached_property
    def answers(self) -> tuple[Response, ...]:
        """Every answer change known, in journal order: the history and the final value of each
        answered slot, merged by journal sequence number (a final change appears in both).

        ``TamperedError`` when two different answers carry one sequence number.
        """
        by_seq: dict[int, Response] = {}
        for response in (*self.history, *self.responses):
            if isinstance(response, Unanswered):
                continue
            previous = by_seq.get(response.seq)
            if previous is not None and previous != response:
                raise TamperedError(f"two different answers carry journal sequence number {response.seq}")
            by_seq[response.seq] = response
        return tuple(by_seq[s] for s in sorted(by_seq))

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> AttemptResult:
        r = Fields(data, path)
        r.constant("format", RESULT_FORMAT)
        r.version(RESULT_VERSION)
        finals = r.list("responses", max_len=MAX_RESPONSES)
        history = r.list("history", [], max_len=MAX_RESPONSES)
        if len(finals) + len(history) > MAX_RESPONSES:
            raise ValidationError(r.where("responses"), f"responses and history hold more than {MAX_RESPONSES}")
        head = r.record("journal_head", SealedJournalHead)
        out = cls(
            attempt=r.record("attempt", Attempt),
            responses=_responses(finals, r.where("responses"), slots=True),
            journal_head=head,
            history=_responses(history, r.where("history"), slots=False),
            history_omitted=r.int("history_omitted", 0, minimum=0),
            timings=r.record("timings", Timings, None) or Timings(),
            answer_changes=r.int("answer_changes", 0, minimum=0),
            accommodations=r.record("accommodations", AccommodationsReport, None),
            monitoring_notice=r.record("monitoring_notice", MonitoringAcknowledgement, None),
            presentation=r.record("presentation", Presentation, None),
            submission=r.record("submission", Submission, None),
            journal_chain=_chain(r, head),
            attestation=_attestation(r),
            sealed=r.record("sealed", SealStamp, None),
        )
        r.done()
        out.check()
        return out

    def check(self) -> None:
        """The document against itself (``TamperedError``): answers no newer than the journal head,
        no more answer changes than journal rows, one answer per sequence number."""
        head = self.journal_head.seq
        answers = self.answers                # merged by seq (its duplicate check), kept for the reader
        if answers and answers[-1].seq > head:
            raise TamperedError("a response is newer than the journal head")
        if self.answer_changes > head:
            raise TamperedError("the journal head is older than the number of answer changes it should hold")


def _chain(r: Fields, head: SealedJournalHead) -> bytes | None:
    """The sealed journal's row hashes: exactly ``head.seq`` of 32 bytes, the last one the head."""
    text = r.raw("journal_chain", None, nullable=True)
    if text is None:
        return None
    where = r.where("journal_chain")
    if not isinstance(text, str):
        raise ValidationError(where, "must be base64 text")
    try:
        chain = b64d(text, where, 32 * head.seq)
    except ArtefactError as exc:
        raise ValidationError(where, exc.reason) from None
    if len(chain) != 32 * head.seq:
        raise TamperedError(f"holds {len(chain) // 32} row hashes, the journal head is row {head.seq}", where)
    if head.seq and chain[-32:].hex() != head.hash:
        raise TamperedError("the chain's last row hash is not the journal head", where)
    return chain


def _attestation(r: Fields) -> str | None:
    """The kiosk's signed release attestation (``exam_core.attestation``) as base64 text, bounded;
    its content is the central allow-list's to judge."""
    text: str | None = r.str("attestation", None, max_len=4 * ((MAX_ATTESTATION_BYTES + 2) // 3), nullable=True)
    return text


def parse_result(payload: Any) -> AttemptResult:
    """Read an opened envelope's payload as an attempt result (``payload`` as the path of errors)."""
    return AttemptResult.from_dict(payload, "payload")

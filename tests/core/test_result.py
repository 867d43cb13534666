"""The attempt result document: round trip, strict refusals, limits, the document against itself."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from exam_core import result as R
from exam_core.errors import TamperedError, ValidationError
from exam_core.jsonio import b64e, loads_strict
from exam_core.model import Accommodations, Attempt, Response

T = "2026-11-26T10:00:00.123Z"
ATTEMPT = Attempt(attempt_id="att-1", candidate_id="C1", form_id="F1", form_version=1, package_id="P1",
                  centre_id="centre-1", kiosk_id="K01", option_seed=7, accommodations=Accommodations(rest_breaks=1))


def _answer(seq: int, item_id: str = "Q1", value: object = "A") -> Response:
    return Response(attempt_id="att-1", seq=seq, item_id=item_id, response_id="R1", value=value, wall_time=T,
                    elapsed_ms=1000 * seq)


def _chain(rows: int) -> tuple[bytes, str]:
    hashes = [hashlib.sha256(bytes([n])).digest() for n in range(rows)]
    return b"".join(hashes), hashes[-1].hex()


def _whole() -> R.AttemptResult:
    chain, head = _chain(9)
    return R.AttemptResult(
        attempt=ATTEMPT,
        responses=(_answer(5, "Q1", "B"), R.Unanswered("att-1", "Q2", "R1", flagged=True),
                   _answer(7, "Q3", ["A", "C"])),
        journal_head=R.SealedJournalHead(9, head),
        history=(_answer(4, "Q1", "A"), _answer(5, "Q1", "B")),
        timings=R.Timings(allowed_ms=3_600_000, elapsed_ms=61_000, began_at=T, agreement_accepted_at=T,
                          item_time_ms={"Q1": 30_000, "Q3": 31_000},
                          pauses=(R.Pause(T, 10_000, "fire alarm", T), R.Pause(T, 20_000, "noise")),
                          rest_breaks=(R.RestBreak(T, 30_000, T, "candidate"), R.RestBreak(T, 40_000)),
                          extensions=(R.Extension(300, "alarm", T),), resumes_after_restart=(R.Restart(T, 50_000, 8),)),
        answer_changes=3,
        accommodations=R.AccommodationsReport(ATTEMPT.accommodations, {
            "rest_breaks": R.AccommodationUse(T, 1, 1), "text_size": R.AccommodationUse(T, 2, 150),
            "calculator": R.AccommodationUse(T, 1, True)}),
        monitoring_notice=R.MonitoringAcknowledgement("invigil-monitoring-notice/1", "ab" * 32, "face,input", T),
        presentation=R.Presentation(7, {"Q1": {"R1": {"choices": ["B", "A", "C"]}}}),
        submission=R.Submission("proctor_end", R.EndedBy("candidate unwell", T)),
        journal_chain=chain, attestation=b64e(b"signed attestation"), sealed=R.SealStamp(T, T))


def test_round_trip_through_the_sealed_bytes() -> None:
    result = _whole()
    data = result.to_bytes()
    again = R.AttemptResult.from_dict(loads_strict(data), "payload")
    assert again == result and again.to_bytes() == data
    assert [a.seq for a in again.answers] == [4, 5, 7]       # history and finals merged by journal row
    doc = result.to_dict()
    assert doc["format"] == "invigil-attempt-result" and doc["v"] == 1
    assert doc["responses"][1] == {"attempt_id": "att-1", "item_id": "Q2", "response_id": "R1", "value": None,
                                   "seq": 0, "wall_time": None, "elapsed_ms": 0, "flagged": True}
    assert "end" not in doc["timings"]["pauses"][1] and set(doc["timings"]["rest_breaks"][1]) == {"start", "elapsed_ms"}
    assert "monitoring_notice" not in replace(result, monitoring_notice=None).to_dict()


def test_a_minimal_document_of_test_tools_and_older_kiosks_reads() -> None:
    doc = {"format": "invigil-attempt-result", "v": 1, "attempt": ATTEMPT.to_dict(),
           "responses": [_answer(1).to_dict()], "timings": {"item_time_ms": {"Q1": 5}},
           "journal_head": {"seq": 3, "hash": "ab" * 32}}
    result = R.parse_result(doc)
    assert result.history == () and result.journal_chain is None and result.sealed is None
    assert result.timings.item_time_ms == {"Q1": 5} and result.answer_changes == 0


@pytest.mark.parametrize("path,value,match", [
    ((), {"extra": 1}, "payload.extra"),
    (("timings",), {"extra": 1}, "payload.timings.extra"),
    (("timings", "pauses", 0), {"extra": 1}, r"payload.timings.pauses\[0\].extra"),
    (("responses", 0), {"extra": 1}, r"payload.responses\[0\]"),
    (("responses", 1), {"seq": 3}, r"payload.responses\[1\]"),                 # an unanswered slot is exactly that
    (("accommodations", "used"), {"Bad Name": {"first_used": T, "uses": 1}}, "payload.accommodations.used"),
    (("presentation", "orders"), {"Q1": {"R1": {"choices": ["not an id!"]}}}, "orders"),
    (("submission",), {"reason": "x" * 101}, "payload.submission.reason"),
    (("sealed",), {"kiosk_clock": "yesterday"}, "payload.sealed.kiosk_clock"),
    (("monitoring_notice",), {"sha256": "xyz"}, "payload.monitoring_notice.sha256"),
    ((), {"format": "invigil-result"}, "payload.format"),
    ((), {"v": 2}, "payload.v"),
    ((), {"attestation": "x" * 90_000}, "payload.attestation"),   # undecodable text is the allow-list's to judge
])
def test_unknown_and_malformed_fields_are_refused(path, value, match) -> None:
    doc = _whole().to_dict()
    target = doc
    for step in path:
        target = target[step]
    target.update(value)
    with pytest.raises(ValidationError, match=match):
        R.parse_result(doc)


@pytest.mark.parametrize("field", ["attempt", "responses", "journal_head", "format", "v"])
def test_required_fields(field) -> None:
    doc = _whole().to_dict()
    del doc[field]
    with pytest.raises(ValidationError, match=f"payload.{field}: is required"):
        R.parse_result(doc)


def test_size_limits() -> None:
    doc = _whole().to_dict()
    doc["history"] = [doc["history"][0]] * R.MAX_RESPONSES
    with pytest.raises(ValidationError, match="more than"):
        R.parse_result(doc)
    doc = _whole().to_dict()
    doc["timings"]["item_time_ms"] = {"Q" * 129: 1}
    with pytest.raises(ValidationError, match="item_time_ms"):
        R.parse_result(doc)


def test_the_document_is_checked_against_itself() -> None:
    whole = _whole()
    newer = replace(whole, responses=(_answer(10),))
    other, _head = _chain(8)
    cases = [
        (newer.to_dict(), "newer than the journal head"),
        (replace(whole, answer_changes=10).to_dict(), "older than the number of answer changes"),
        (replace(whole, history=(_answer(5, "Q1", "C"),)).to_dict(), "two different answers"),
        ({**whole.to_dict(), "journal_chain": b64e(other)}, "holds 8 row hashes"),
        ({**whole.to_dict(), "journal_chain": b64e(other + bytes(32))}, "last row hash is not the journal head"),
    ]
    for doc, match in cases:
        with pytest.raises(TamperedError, match=match):
            R.parse_result(doc)

"""The attempt state machine: answers, time account, pauses, breaks, warnings, submission, replay."""

from __future__ import annotations

import pytest

from exam_core.errors import ValidationError
from exam_core.model import Attempt
from exam_core.result import AttemptResult
from kiosk.journal import JournalTamperedError
from kiosk.session import SessionStateError, receipt_code

from tests.support.kiosk_session import new_session
from simulators.forms import ANSWERS, make_attempt
from tests.support.kiosk_world import make_bundle


def _started(session):
    session.open()
    session.accept_agreement()
    session.begin()
    return session


def test_flow_answers_and_submission(kiosk_db, journal_key):
    session, sealer = new_session(kiosk_db, journal_key)
    _started(session)
    for n, (item_id, value) in enumerate(ANSWERS.items()):
        session.navigate(n)
        session.answer(item_id, "R1", value)
    session.flag("Q03", True)
    sealed = session.submit()
    payload = sealer.payloads[-1]
    assert AttemptResult.from_dict(payload) == sealer.results[-1]      # what central reads, strictly
    assert {r["item_id"]: r["value"] for r in payload["responses"]} == ANSWERS
    assert payload["journal_head"]["seq"] > len(ANSWERS)
    assert [r["flagged"] for r in payload["responses"] if r["item_id"] == "Q03"] == [True]
    assert payload["timings"]["agreement_accepted_at"] is not None
    assert payload["presentation"]["option_seed"] == 424242
    assert session.state.phase == "submitted"
    assert sealed.receipt_code == receipt_code(sealed.sha256)
    with pytest.raises(SessionStateError):
        session.answer("Q01", "R1", "A")


@pytest.mark.parametrize("item_id,value", [
    ("Q01", "Z"), ("Q01", ["A"]), ("Q05", ["S1", "S2"]), ("Q05", ["S1", "S1", "S2"]),
    ("Q06", [["D1", "T1"]]), ("Q07", [["K1", "K1"]]), ("Q07", [["K1", "K2"], ["K3", "K4"], ["K1", "K3"]]),
    ("Q08", [["W100", "G9"]]), ("Q09", ["H1", "H2", "H3"]), ("Q10", "XX"), ("Q03", 5),
])
def test_values_outside_the_declaration_are_refused(kiosk_db, journal_key, item_id, value):
    session, _ = new_session(kiosk_db, journal_key)
    _started(session)
    before = session.journal.head.seq
    with pytest.raises(ValidationError):
        session.answer(item_id, "R1", value)
    assert session.journal.head.seq == before


def test_replay_restores_answers_flags_position_and_time(kiosk_db, journal_key, clock):
    session, _ = new_session(kiosk_db, journal_key, monotonic=clock)
    _started(session)
    session.navigate(4)
    session.answer("Q05", "R1", ["S3", "S1", "S2"])
    session.flag("Q05", True)
    clock.advance(0.25)
    session.answer("Q05", "R1", ["S1", "S2", "S3"])
    elapsed = session.state.elapsed_ms
    assert elapsed == 250
    again, _ = new_session(kiosk_db, journal_key, monotonic=clock)
    assert again.open() is True
    assert again.state.answers["Q05"]["R1"] == ["S1", "S2", "S3"]
    assert again.state.current == 4 and "Q05" in again.state.flags
    assert again.clock.elapsed_ms() == elapsed
    assert again.state.resumes  # the restart is recorded


def test_down_time_is_not_charged(kiosk_db, journal_key, clock):
    session, _ = new_session(kiosk_db, journal_key, checkpoint_seconds=0.05, monotonic=clock)
    _started(session)
    clock.advance(0.25)
    session.tick()
    assert session.state.elapsed_ms == 250  # the checkpoint row was journaled and applied
    session.answer("Q01", "R1", "A")
    remaining = session.remaining_ms()
    clock.advance(600)  # the "kiosk is down" for ten minutes
    again, _ = new_session(kiosk_db, journal_key, monotonic=clock)
    again.open()
    assert again.remaining_ms() == remaining
    clock.advance(1.5)
    assert again.remaining_ms() == remaining - 1500  # and the clock runs again from the resume


def test_exam_time_follows_the_injected_monotonic_clock_only(kiosk_db, journal_key, clock):
    session, _ = new_session(kiosk_db, journal_key, monotonic=clock)
    _started(session)
    start = session.remaining_ms()
    clock.advance(42.5)
    assert start - session.remaining_ms() == 42_500


def test_wall_clock_is_never_read_for_exam_time(kiosk_db, journal_key, monkeypatch, clock):
    import datetime as dt
    session, _ = new_session(kiosk_db, journal_key, monotonic=clock)
    _started(session)

    class Jumped(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2001, 1, 1, tzinfo=tz)

    before = session.remaining_ms()
    monkeypatch.setattr("exam_core.timestamps.datetime", Jumped)
    session.answer("Q01", "R1", "A")
    assert before == session.remaining_ms()


def test_pause_and_rest_break_stop_the_clock(kiosk_db, journal_key, clock):
    session, _ = new_session(kiosk_db, journal_key, attempt=make_attempt(rest_breaks=1, rest_break_minutes=5),
                             monotonic=clock)
    _started(session)
    clock.advance(1)
    session.pause("fire alarm", "c" * 32)
    e1 = session.clock.elapsed_ms()
    assert e1 == 1000
    clock.advance(0.25)
    assert session.clock.elapsed_ms() == e1
    with pytest.raises(SessionStateError):
        session.answer("Q01", "R1", "A")
    session.resume("d" * 32)
    clock.advance(2)
    session.start_break()
    e2 = session.clock.elapsed_ms()
    assert e2 == 3000
    clock.advance(0.25)
    assert session.clock.elapsed_ms() == e2
    session.end_break()
    with pytest.raises(SessionStateError):
        session.start_break()  # only one granted
    assert session.state.accommodations_used["rest_breaks"]["uses"] == 1


def test_extra_time_and_extension(kiosk_db, journal_key):
    session, _ = new_session(kiosk_db, journal_key, attempt=make_attempt(extra_time_percent=25))
    _started(session)
    assert session.allowed_ms() == 3600 * 1250
    session.extend(600, "power cut", "e" * 32)
    assert session.allowed_ms() == 3600 * 1250 + 600_000


@pytest.mark.parametrize("form_minutes,extra,allowed", [(30, 100, "1:00:00"), (60, 25, "1:15:00"), (60, 0, "1:00:00")])
def test_extra_time_is_applied_once_to_the_console_s_allowed_time(kiosk_db, journal_key, form_minutes, extra,
                                                                  allowed):
    """Issue 13: the console sends the allowed time (accommodation applied); the kiosk charged
    ``duration x (1 + extra)`` on top, so 100 % on a 30-minute exam gave two hours."""
    admitted = make_attempt(extra_time_percent=extra).to_dict()
    attempt = Attempt.from_dict({**admitted, "duration_seconds": form_minutes * 60 * (100 + extra) // 100})
    session, sealer = new_session(kiosk_db, journal_key, attempt=attempt,
                                  bundle=make_bundle(duration_seconds=form_minutes * 60))
    _started(session)
    hours, rest = divmod(session.allowed_ms() // 1000, 3600)
    assert f"{hours}:{rest // 60:02d}:{rest % 60:02d}" == allowed
    session.submit()
    assert sealer.results[-1].timings.allowed_ms == session.allowed_ms()   # what the central body is told


def test_warnings_and_submission_at_timeout(kiosk_db, journal_key, clock):
    bundle = make_bundle(duration_seconds=61)
    session, sealer = new_session(kiosk_db, journal_key, bundle=bundle, monotonic=clock)
    _started(session)
    session.answer("Q01", "R1", "C")
    session.tick()
    assert session.state.warnings == set()
    clock.advance(2)  # under a minute left
    session.tick()
    assert session.state.warnings == {1}  # 10 and 5 minutes exceed a 61 s exam
    session.extend(1, "test", "f" * 32)
    clock.advance(59.5)
    session.tick()
    assert session.state.phase == "in_progress"  # half a second left (of the extension)
    clock.advance(0.5)
    session.tick()
    assert session.state.phase == "submitted"
    assert sealer.payloads[-1]["submission"]["reason"] == "timeout"
    assert sealer.payloads[-1]["timings"]["elapsed_ms"] == 62_000


def test_granted_accommodations_only(kiosk_db, journal_key):
    session, _ = new_session(kiosk_db, journal_key, attempt=make_attempt(large_text=True, zoom_percent=150))
    session.open()
    session.set_accommodation("large_text", True)
    session.set_accommodation("zoom", 150)
    session.set_accommodation("text_size", 200)         # beyond self-service: large text is granted
    session.set_accommodation("high_contrast", True)    # self-service: every candidate may
    with pytest.raises(ValidationError):
        session.set_accommodation("zoom", 300)
    with pytest.raises(ValidationError):
        session.set_accommodation("calculator", True)   # the test form's scheme allows no tool
    assert set(session.state.accommodations_used) == {"large_text", "zoom", "text_size", "high_contrast"}
    plain, _ = new_session(kiosk_db, journal_key, attempt=make_attempt("ATT2"))
    plain.open()
    plain.set_accommodation("text_size", 150)
    for name, value in (("text_size", 200), ("zoom", 150), ("large_text", True), ("text_size", True)):
        with pytest.raises(ValidationError):
            plain.set_accommodation(name, value)


def test_crash_between_sealing_and_journaling_reuses_the_first_envelope(kiosk_db, journal_key):
    session, sealer = new_session(kiosk_db, journal_key)
    _started(session)
    session.answer("Q01", "R1", "A")
    session._append("submitting", reason="candidate")  # the crash happened right after this row
    stamp = sealer.stamp()
    result = session.result(session.journal.head, stamp)
    first = sealer.deliver(result, sealer.seal(session.attempt, result.to_bytes(), stamp))
    again, _ = new_session(kiosk_db, journal_key, sealer=sealer)
    again.open()
    assert again.state.phase == "submitted"
    assert again.state.submitted["envelope_sha256"] == first.sha256


def test_tampered_journal_stops_the_resume(kiosk_db, journal_key):
    session, _ = new_session(kiosk_db, journal_key)
    _started(session)
    session.answer("Q01", "R1", "A")
    kiosk_db.conn.execute("DELETE FROM journal WHERE seq = 2")
    kiosk_db.conn.commit()
    again, _ = new_session(kiosk_db, journal_key)
    with pytest.raises(JournalTamperedError):
        again.open()


def test_option_order_is_deterministic_and_respects_fixed(kiosk_db, journal_key):
    from exam_core.presentation import item_view
    bundle = make_bundle()
    views = [item_view(bundle.items[0], seed)["interactions"][0]["choices"] for seed in range(30)]
    orders = {tuple(c["id"] for c in v) for v in views}
    assert len(orders) > 1
    assert all(v[3]["id"] == "D" for v in views)  # fixed option stays last
    assert item_view(bundle.items[0], 7) == item_view(bundle.items[0], 7)

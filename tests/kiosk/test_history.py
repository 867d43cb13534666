"""The sealed result carries every answer change (``history``), as the central intake reads it.

The envelope is a real one (kiosk key, central results key), opened here with the results key,
and then read by the central body's own intake reader so the two tiers agree on the shape.
"""

from __future__ import annotations

import json

from exam_core.jsonio import b64d

from item_bank_sync.results.envelope import open_envelope as intake_open

from kiosk import session as session_module

from tests.support.kiosk_world import World, make_runtime, start_exam
import itertools

CHANGES = [("Q01", "A"), ("Q03", "Lyon"), ("Q01", "C"), ("Q04", "Draft one."), ("Q01", "B"),
           ("Q03", "Paris"), ("Q04", "Final essay."), ("Q10", "TR"), ("Q10", None)]


def _submitted(tmp_path, flag: str | None = None) -> tuple[World, bytes]:
    world = World(tmp_path)
    rt = make_runtime(world, tmp_path)
    session = start_exam(rt, world)
    for item_id, value in CHANGES:
        session.answer(item_id, "R1", value)
    if flag:
        session.flag(flag, True)
    session.submit()
    (entry,) = [e for e in rt.outbox.pending() if e.kind == "envelope"]
    return world, b64d(json.loads(entry.body)["envelope"])


def test_history_lists_every_change_in_journal_order(tmp_path):
    world, data = _submitted(tmp_path, flag="Q01")
    _, payload = world.open_envelope(data)
    history = payload["history"]
    expected = [(i, v) for i, v in CHANGES if i != "Q04"]  # essay drafts stay out; its final is in responses
    assert [(h["item_id"], h["value"]) for h in history] == expected
    assert [h["seq"] for h in history] == sorted(h["seq"] for h in history)
    assert all(a["elapsed_ms"] <= b["elapsed_ms"] for a, b in itertools.pairwise(history))
    assert {h["flagged"] for h in history if h["item_id"] == "Q01"} == {True}
    assert payload["history_omitted"] == 0
    finals = {(r["item_id"], r["seq"]): r for r in payload["responses"]}
    for change in history:  # the final change of each slot is the very same record as its response
        final = finals.get((change["item_id"], change["seq"]))
        assert final is None or final == change
    essay = next(r for r in payload["responses"] if r["item_id"] == "Q04")
    assert essay["value"] == "Final essay."
    assert payload["answer_changes"] == len(CHANGES)


def test_the_central_intake_reads_the_history_as_answer_changes(tmp_path):
    world, data = _submitted(tmp_path)
    opened = intake_open(data, world.central_key.public_key(), world.results_key)
    changes = [(r.item_id, r.value) for r in opened.responses]
    # history plus finals, merged by journal seq: every change but the essay's draft
    assert changes == [c for c in CHANGES if c != ("Q04", "Draft one.")]


def test_an_oversized_history_keeps_the_newest_changes_and_counts_the_rest(tmp_path, monkeypatch):
    # The real budget is 4 MiB; a small one shows the rule without writing megabytes.
    monkeypatch.setattr(session_module, "HISTORY_MAX_BYTES", 700)
    world, data = _submitted(tmp_path)
    _, payload = world.open_envelope(data)
    kept = [(h["item_id"], h["value"]) for h in payload["history"]]
    assert 0 < len(kept) < 7 and payload["history_omitted"] == 7 - len(kept)
    assert kept == [c for c in CHANGES if c[0] != "Q04"][-len(kept):]

"""Strict parsing of the shared wire model: round trips, and errors that name the field."""

import json
from typing import Any

import pytest

from exam_core.errors import ValidationError
from exam_core.model import (
    AnswerKey, Attempt, Certificate, Event, Form, FormContent, Item, Response,
    TemplateFamily, check_response_value,
)

ITEM = {
    "item_id": "Q1", "version": 1, "title": "Capital",
    "body_html": '<p>Pick one.</p><div data-interaction="RESPONSE"></div>',
    "interactions": [{
        "type": "choice", "response_id": "RESPONSE", "cardinality": "single",
        "base_type": "identifier", "shuffle": True,
        "choices": [{"id": "A", "html": "Paris"}, {"id": "B", "html": "Rome", "fixed": True}],
    }],
}
FORM: dict[str, Any] = {"form_id": "F1", "version": 1, "scheme_id": "S1", "scheme_version": 1, "title": "T",
        "duration_seconds": 600, "items": [{"item_id": "Q1", "version": 1, "area": "geo"}]}


def test_item_round_trip_is_exact():
    item = Item.from_dict(ITEM)
    again = Item.from_dict(json.loads(json.dumps(item.to_dict())))
    assert again == item
    assert item.interaction("RESPONSE").choices[1].fixed is True


def test_form_content_checks_items_match_form():
    content = FormContent.from_dict({"form": FORM, "items": [ITEM]})
    assert FormContent.from_dict(content.to_dict()) == content
    with pytest.raises(ValidationError, match="items"):
        FormContent.from_dict({"form": FORM, "items": [dict(ITEM, item_id="Q2")]})


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.update(version="1"), "version"),
    (lambda d: d.update(extra=1), "extra"),
    (lambda d: d["interactions"][0].update(type="telepathy"), "interactions[0].type"),
    (lambda d: d["interactions"][0]["choices"][1].update(id="A"), "interactions[0].choices"),
    (lambda d: d["interactions"][0]["choices"][0].update(id="1bad"), "interactions[0].choices[0].id"),
    (lambda d: d.pop("title"), "title"),
])
def test_item_errors_name_the_field(mutate, field):
    data = json.loads(json.dumps(ITEM))
    mutate(data)
    with pytest.raises(ValidationError) as info:
        Item.from_dict(data)
    assert info.value.field == field


def test_response_values_follow_declared_shape():
    assert check_response_value(["A", "G1"], "single", "directedPair", "v") == ["A", "G1"]
    assert check_response_value([[1, 2], [3.5, 4]], "multiple", "point", "v") == [[1, 2], [3.5, 4]]
    with pytest.raises(ValidationError):
        check_response_value("A", "multiple", "identifier", "v")
    with pytest.raises(ValidationError):
        check_response_value([1, float("nan")], "single", "point", "v")


def test_answer_key_event_attempt_response_certificate_round_trip():
    key = AnswerKey.from_dict({"item_id": "Q1", "version": 2, "responses": [{
        "response_id": "RESPONSE", "cardinality": "multiple", "base_type": "directedPair",
        "template": "map_response", "correct": [["W", "G1"]], "mapping": {"W G1": 1},
        "default_value": -1, "lower_bound": 0}]})
    event = Event.from_dict({"kiosk_id": "K1", "seq": 4, "type": "webcam.no_face",
                             "severity": "high", "wall_time": "2026-11-26T08:00:00Z",
                             "mono_time": 12.5, "rule": "no_face", "thresholds": {"seconds": 10}})
    attempt = Attempt.from_dict({"attempt_id": "A1", "candidate_id": "C1", "form_id": "F1",
                                 "form_version": 1, "package_id": "P1", "centre_id": "C",
                                 "kiosk_id": "K1", "option_seed": 7,
                                 "accommodations": {"extra_time_percent": 25}})
    response = Response.from_dict({"attempt_id": "A1", "seq": 1, "item_id": "Q1",
                                   "response_id": "RESPONSE", "value": ["A", "B"],
                                   "wall_time": "2026-11-26T08:00:00.5+01:00", "elapsed_ms": 1})
    cert = Certificate.from_dict({"serial": "0a1b2c3d", "subject": "centre-1", "role": "centre",
                                  "signing_key": "AAAA", "hpke_key": None,
                                  "not_before": "2026-01-01T00:00:00Z",
                                  "not_after": "2027-01-01T00:00:00Z",
                                  "issuer_key_id": "0" * 32, "issuer_subject": "body"})
    for record in (key, event, attempt, response, cert):
        assert type(record).from_dict(record.to_dict()) == record
    assert attempt.accommodations.extra_time_percent == 25
    with pytest.raises(ValidationError, match="wall_time"):
        Event.from_dict(dict(event.to_dict(), wall_time="yesterday"))


def test_form_rejects_duplicate_items():
    with pytest.raises(ValidationError, match="items"):
        Form.from_dict(dict(FORM, items=FORM["items"] * 2))


def test_an_answer_key_carries_an_item_family_only_when_it_has_one() -> None:
    """A key without a family keeps its bytes (stored keys keep their content hash); a family
    round-trips, and a malformed one is refused by field."""
    plain = AnswerKey(item_id="q1", version=1, responses=())
    assert "family" not in plain.to_dict()
    family = TemplateFamily(qti="<assessmentItem/>", preview_seed="ab" * 32)
    key = AnswerKey(item_id="q1", version=1, responses=(), family=family)
    assert AnswerKey.from_dict(json.loads(json.dumps(key.to_dict()))) == key
    with pytest.raises(ValidationError, match=r"family\.preview_seed"):
        AnswerKey.from_dict({**key.to_dict(), "family": {"qti": "x", "preview_seed": 5}})
    with pytest.raises(ValidationError, match=r"family\.extra"):
        AnswerKey.from_dict({**key.to_dict(), "family": {"qti": "x", "extra": 1}})

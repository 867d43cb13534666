"""Scoring of every interaction type under every template (QTI 2.1 response processing)."""

from __future__ import annotations

import pytest

from exam_core.errors import ValidationError
from exam_core.model import AnswerKey, Response, ResponseKey
from item_bank_sync.results.scoring import passed, score_attempt, score_response


def key(**fields) -> ResponseKey:
    data = {"response_id": "RESPONSE", "cardinality": "single", "base_type": "identifier",
            "template": "match_correct"}
    data.update(fields)
    return ResponseKey.from_dict(data)


# --- match_correct ----------------------------------------------------------------------------

def test_choice_single():
    k = key(correct="B")
    assert score_response("B", k) == 1.0
    assert score_response("A", k) == 0.0
    assert score_response(None, k) == 0.0


def test_choice_multiple_is_set_equality():
    k = key(cardinality="multiple", correct=["A", "C"], max_score=2)
    assert score_response(["C", "A"], k) == 2.0
    assert score_response(["A"], k) == 0.0
    assert score_response(["A", "C", "D"], k) == 0.0
    assert score_response(["A", "A", "C"], k) == 0.0
    assert score_response([], k) == 0.0


def test_order_is_sequence_equality():
    k = key(cardinality="ordered", correct=["C", "A", "B"])
    assert score_response(["C", "A", "B"], k) == 1.0
    assert score_response(["A", "C", "B"], k) == 0.0
    assert score_response(["C", "A"], k) == 0.0


def test_associate_pairs_are_unordered():
    k = key(cardinality="multiple", base_type="pair", correct=[["A", "B"], ["C", "D"]])
    assert score_response([["B", "A"], ["D", "C"]], k) == 1.0
    assert score_response([["C", "D"], ["A", "B"]], k) == 1.0
    assert score_response([["A", "C"], ["B", "D"]], k) == 0.0


def test_match_and_gap_match_directed_pairs_are_ordered():
    k = key(cardinality="multiple", base_type="directedPair", correct=[["A", "G1"], ["B", "G2"]])
    assert score_response([["B", "G2"], ["A", "G1"]], k) == 1.0
    assert score_response([["G1", "A"], ["B", "G2"]], k) == 0.0


def test_text_entry_string_case_sensitivity():
    sensitive = key(base_type="string", correct="Paris")
    assert score_response("Paris", sensitive) == 1.0
    assert score_response("paris", sensitive) == 0.0
    insensitive = key(base_type="string", correct="Paris", case_sensitive=False)
    assert score_response("PARIS", insensitive) == 1.0
    assert score_response("Pari", insensitive) == 0.0


def test_text_entry_numbers_compare_by_value():
    k = key(base_type="float", correct=2.5)
    assert score_response(2.5, k) == 1.0
    assert score_response(2.4, k) == 0.0
    assert score_response(3, key(base_type="integer", correct=3)) == 1.0


def test_hotspot_and_hottext_identifiers():
    assert score_response("H2", key(correct="H2")) == 1.0
    k = key(cardinality="multiple", correct=["T1", "T4"])
    assert score_response(["T4", "T1"], k) == 1.0


def test_select_point_match_correct_exact():
    k = key(base_type="point", correct=[10, 20])
    assert score_response([10.0, 20.0], k) == 1.0
    assert score_response([10, 21], k) == 0.0


# --- map_response ------------------------------------------------------------------------------

def test_map_response_sums_distinct_with_default_and_bounds():
    k = key(template="map_response", cardinality="multiple",
            mapping={"A": 1, "B": 0.5, "C": -1}, default_value=-0.25, lower_bound=0, upper_bound=1.5,
            max_score=1.5)
    assert score_response(["A", "B"], k) == 1.5
    assert score_response(["A"], k) == 1.0
    assert score_response(["A", "D"], k) == 0.75               # D unmapped -> default
    assert score_response(["C"], k) == 0.0                     # clamped at the lower bound
    assert score_response(["A", "B", "D", "E"], k) == 1.0      # 1 + .5 - .25 - .25
    no_upper = key(template="map_response", cardinality="multiple", mapping={"A": 1, "B": 1})
    assert score_response(["A", "B"], no_upper) == 2.0


def test_map_response_counts_each_distinct_value_once():
    k = key(template="map_response", cardinality="multiple", base_type="string",
            mapping={"cat": 1}, case_sensitive=False)
    assert score_response(["Cat", "CAT", "cat"], k) == 1.0


def test_map_response_strings_case():
    sensitive = key(template="map_response", base_type="string", mapping={"Paris": 1, "paris": 0.5})
    assert score_response("paris", sensitive) == 0.5
    assert score_response("PARIS", sensitive) == 0.0
    insensitive = key(template="map_response", base_type="string", mapping={"paris": 1},
                      case_sensitive=False)
    assert score_response("PaRiS", insensitive) == 1.0


def test_map_response_pairs_and_directed_pairs():
    pairs = key(template="map_response", cardinality="multiple", base_type="pair",
                mapping={"A B": 1, "C D": 2})
    assert score_response([["B", "A"], ["D", "C"]], pairs) == 3.0
    directed = key(template="map_response", cardinality="multiple", base_type="directedPair",
                   mapping={"A G1": 1, "B G2": 1})
    assert score_response([["A", "G1"], ["G2", "B"]], directed) == 1.0


def test_map_response_numbers():
    k = key(template="map_response", base_type="integer", mapping={"42": 2, "41": 1})
    assert score_response(42, k) == 2.0
    assert score_response(41, k) == 1.0
    assert score_response(7, k) == 0.0


# --- map_response_point ------------------------------------------------------------------------

AREAS = [
    {"shape": "rect", "coords": [0, 0, 10, 10], "value": 1},
    {"shape": "circle", "coords": [50, 50, 5], "value": 2},
    {"shape": "ellipse", "coords": [100, 100, 10, 4], "value": 4},
    {"shape": "poly", "coords": [200, 200, 220, 200, 210, 220], "value": 8},
]


def test_map_response_point_each_area_once():
    k = key(template="map_response_point", cardinality="multiple", base_type="point",
            area_mapping=AREAS, default_value=-0.5, max_score=15)
    assert score_response([[5, 5]], k) == 1.0
    assert score_response([[5, 5], [6, 6]], k) == 1.0                 # same area twice counts once
    assert score_response([[52, 53], [108, 101], [210, 205]], k) == 14.0
    assert score_response([[10, 10]], k) == 1.0                       # on the edge
    assert score_response([[109, 104]], k) == -0.5                    # outside the ellipse
    assert score_response([[201, 219]], k) == -0.5                    # outside the triangle
    assert score_response([[210, 200]], k) == 8.0                     # on the polygon edge
    bounded = key(template="map_response_point", cardinality="multiple", base_type="point",
                  area_mapping=AREAS, lower_bound=0, upper_bound=5)
    assert score_response([[5, 5], [50, 50], [100, 100]], bounded) == 5.0
    single = key(template="map_response_point", base_type="point", area_mapping=AREAS)
    assert score_response([50, 47], single) == 2.0
    default_area = key(template="map_response_point", base_type="point",
                       area_mapping=[{"shape": "default", "coords": [], "value": 0.25}])
    assert score_response([999, 999], default_area) == 0.25


def test_bad_area_coordinates_refused():
    k = key(template="map_response_point", base_type="point",
            area_mapping=[{"shape": "circle", "coords": [1, 2], "value": 1}])
    with pytest.raises(ValidationError):
        score_response([1, 2], k)


# --- human and shape checks ---------------------------------------------------------------------

def test_extended_text_goes_to_a_marker():
    k = key(template="human", base_type="string", max_score=10)
    assert score_response("An essay", k) is None


def test_wrongly_shaped_response_is_refused_not_zeroed():
    with pytest.raises(ValidationError):
        score_response(["A"], key(correct="A"))
    with pytest.raises(ValidationError):
        score_response("A", key(cardinality="multiple", correct=["A"]))
    with pytest.raises(ValidationError):
        score_response([["A", "B", "C"]], key(cardinality="multiple", base_type="pair", correct=[["A", "B"]]))


# --- attempts ----------------------------------------------------------------------------------

def _resp(seq: int, item: str, value, rid: str = "RESPONSE") -> Response:
    return Response(attempt_id="att1", seq=seq, item_id=item, response_id=rid, value=value,
                    wall_time="2026-11-26T10:00:00Z", elapsed_ms=seq * 1000)


KEYS = [
    AnswerKey.from_dict({"item_id": "q1", "version": 1, "responses": [
        {"response_id": "RESPONSE", "cardinality": "single", "base_type": "identifier",
         "template": "match_correct", "correct": "A"}]}),
    AnswerKey.from_dict({"item_id": "q2", "version": 1, "responses": [
        {"response_id": "RESPONSE", "cardinality": "multiple", "base_type": "identifier",
         "template": "map_response", "mapping": {"A": 1, "B": 1}, "default_value": -1,
         "lower_bound": 0, "max_score": 2}]}),
    AnswerKey.from_dict({"item_id": "q3", "version": 1, "responses": [
        {"response_id": "ESSAY", "cardinality": "single", "base_type": "string",
         "template": "human", "max_score": 4}]}),
    AnswerKey.from_dict({"item_id": "q4", "version": 1, "responses": [
        {"response_id": "RESPONSE", "cardinality": "single", "base_type": "identifier",
         "template": "match_correct", "correct": "C"}]}),
]


def test_attempt_uses_the_last_value_by_sequence():
    responses = [_resp(3, "q1", "A"), _resp(1, "q1", "B"), _resp(2, "q2", ["A", "B"]),
                 _resp(5, "q2", ["A", "C"]), _resp(4, "q3", "essay text", "ESSAY")]
    result = score_attempt(KEYS, responses)
    assert result.item_scores() == {"q1": 1.0, "q2": 0.0, "q3": None, "q4": 0.0}
    assert result.total == 1.0 and result.max_total == 8.0
    assert [(r.item_id, r.response_id) for r in result.pending] == [("q3", "ESSAY")]


def test_attempt_refuses_responses_outside_the_form():
    with pytest.raises(ValidationError, match="not a response of this form"):
        score_attempt(KEYS, [_resp(1, "q9", "A")])


def test_cut_score_reached_passes():
    assert passed(7.0, 7.0) and passed(7.5, 7.0) and not passed(6.99, 7.0)

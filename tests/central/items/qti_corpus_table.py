"""The QTI corpus's contract (tests/data/qti-corpus): how each item must come out of the importer.

A data module, read by test_qti_corpus.py (item by item) and test_import_identity.py (the CLI's
counts): a change to the importer that changes any outcome must change this table, visibly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CORPUS = Path(__file__).parents[2] / "data" / "qti-corpus"
SOURCES = ("invigil", "invigil-package", "pie-qti")

#: source -> (interaction types, [(response, template, max score, correct)], text the candidate sees)
IMPORTED: dict[str, tuple[list[str], list[tuple[str, str, float, Any]], str]] = {
    "invigil/cc2-map-response.xml": (["choice"], [("RESPONSE", "map_response", 2.0, None)], "Which are insulators?"),
    "invigil/cc2-match.xml": (["choice"], [("RESPONSE", "match_correct", 1.0, "T")], "An RCD detects earth leakage."),
    "invigil/cloze-sum.xml": (["inline_choice", "text_entry", "text_entry"],
                              [("RESPONSE_1", "match_correct", 1.0, "V"), ("RESPONSE_2", "match_correct", 2.0, 6),
                               ("RESPONSE_3", "map_response", 1.0, None)], "divided by resistance."),
    "invigil/essay-scorer-rubric.xml": (["extended_text"], [("RESPONSE", "human", 4.0, "Earthing gives fault current "
                                                              "a low-resistance path so the protective device trips.")],
                                        "Write four to six sentences."),
    "invigil/essay-maxscore-zeroed.xml": (["extended_text"], [("RESPONSE", "human", 3.0, None)],
                                          "Explain why an exposed metal sink is bonded to earth."),
    "invigil/essay-no-maximum.xml": (["extended_text"], [("RESPONSE", "human", 1.0, None)],
                                     "isolate a lighting circuit"),
    "invigil/html5-figure.xml": (["choice"], [("RESPONSE", "match_correct", 1.0, "B")],
                                 "<figcaption>Figure 1</figcaption>"),
    "invigil/inline-map-response-guarded.xml": (["text_entry"], [("RESPONSE", "map_response", 2.0, "ohm")],
                                                "The unit of electrical resistance is the"),
    "invigil/inline-match-correct-feedback.xml": (["choice"], [("RESPONSE", "match_correct", 1.0, ["A", "C"])],
                                                  "Which devices protect against overcurrent?"),
    "invigil/media-sniffed.xml": (["choice"], [("RESPONSE", "match_correct", 1.0, "A")], 'alt="A red triangle"'),
    "invigil/nested-object-fallback.xml": (["choice"], [("RESPONSE", "match_correct", 1.0, "A")],
                                           'alt="Two lamps in series with a cell"'),
    "invigil/qti3-v3p0-template-uri.xml": (["inline_choice"], [("RESPONSE", "match_correct", 1.0, "G")],
                                           "the earth conductor is"),
    # an item family: the bank's preview instance (seed "preview", id, 0) with the key it computes
    "invigil/template-set-correct.xml": (["text_entry"], [("RESPONSE", "match_correct", 1.0, 6)], "What is 5 + 1?"),
    "invigil/template-qti3-condition.xml": (["choice"], [("RESPONSE", "match_correct", 1.0, "HIGH")],
                                            "carries 6.00 A at <math><mn>24</mn></math> V.\nThat is a lot."),
    "invigil/slider.xml": (["slider"], [("RESPONSE", "match_correct", 1.0, 230)], "UK mains voltage (V)?"),
    "invigil/slider-qti3-map.xml": (["slider"], [("RESPONSE", "map_response", 2.0, 0.75)],
                                    "three quarters of the way up"),
    "invigil/graphic-order.xml": (["graphic_order"], [("RESPONSE", "match_correct", 1.0, ["SWITCH", "LOCK", "TEST"])],
                                  "Put the steps of safe isolation in order."),
    "invigil/graphic-associate.xml": (["graphic_associate"], [("RESPONSE", "map_response", 2.0,
                                                               [["L1", "S1"], ["N1", "LAMP"]])],
                                      "Join each terminal to the part it is wired to."),
    "invigil/graphic-gap-match-qti3.xml": (["graphic_gap_match"], [("RESPONSE", "match_correct", 1.0,
                                                                     [["LAMPIMG", "A"], ["SW", "B"]])],
                                           'alt="Lamp symbol"'),
    "invigil/gap-match-gap-img.xml": (["gap_match"], [("RESPONSE", "match_correct", 1.0,
                                                       [["IMG_SW", "G1"], ["IMG_LAMP", "G2"]])],
                                      'alt="Switch symbol"'),
    "invigil/media-audio-plays.xml": (["media", "choice"], [("PLAYS", "unscored", 0.0, None),
                                                            ("RESPONSE", "match_correct", 1.0, "FIRE")],
                                      "Play the recording (at most twice)."),
    "invigil/media-video-captions.xml": (["media", "choice"], [("PLAYS", "unscored", 0.0, None),
                                                               ("RESPONSE", "match_correct", 1.0, "ISOLATE")],
                                         "Watch the demonstration."),
    "invigil/drawing-human.xml": (["drawing"], [("RESPONSE", "human", 2.0, None)],
                                  "Draw the wire that completes the circuit."),
    "invigil/map-sum-one-rule.xml": (["inline_choice", "inline_choice"], [("LIVE", "map_response", 1.0, None),
                                                                       ("NEUTRAL", "map_response", 2.0, None)],
                                     "the neutral conductor is"),
    "invigil/mapping-case-insensitive.xml": (["text_entry"], [("RESPONSE", "map_response", 2.0, None)],
                                             "Name the unit of electrical resistance:"),
    "invigil/weighted-constant-qti3.xml": (["choice"], [("RESPONSE", "match_correct", 2.5, "B")], "13 A"),
    "invigil/weighted-maxscore.xml": (["order"], [("RESPONSE", "match_correct", 3.0, ["S", "L", "T"])], "Test dead"),
    "invigil-package!items/companion-calculator.xml": (["text_entry"], [("RESPONSE", "match_correct", 1.0, 2.3)],
                                                       "Its power in kW is"),
    "invigil-package!items/stimulus-item.xml": (["choice"], [("RESPONSE", "match_correct", 1.0, "B")],
                                                '<div class="stimulus"><p>The keeper trimmed the wick'),
    # a family whose shared passage is kept in it (each form's draw shows it); the preview asks about dusk
    "invigil-package!items/stimulus-family.xml": (["choice"], [("RESPONSE", "match_correct", 1.0, "WICK")],
                                                  '<div class="stimulus">\n<p>The keeper trimmed the wick'),
    "invigil-package!items/xinclude-fragment.xml": (["choice"], [("RESPONSE", "match_correct", 1.0, "A")],
                                                    "Always prove the tester on a known live source"),
    "pie-qti/modalFeedback_basic.xml": (["choice"], [("RESPONSE", "match_correct", 1.0, "A")], "Pick A."),
    "pie-qti/qti22_advanced_q6_gap_match.xml": (["gap_match"], [("RESPONSE", "map_response", 3.0,
                                                                 [["W", "G1"], ["Su", "G2"]])], "winter"),
    "pie-qti/qti22_basic_i9b_map_response.xml": (["choice"], [("RESPONSE", "map_response", 6.0,
                                                               ["choice_a", "choice_b", "choice_c"])],
                                                 "Mapped Value = 5"),
    "pie-qti/qti22_basic_i9b_match_correct.xml": (["choice"], [("RESPONSE", "match_correct", 1.0, "choice_a")],
                                                  "Correct Answer"),
}
#: source -> (element named, words of the problem)
REFUSED: dict[str, tuple[str, str]] = {
    "invigil/custom-partial-credit.xml": ("responseProcessing/responseCondition[1]", "custom response processing"),
    "invigil/html5-video.xml": ("itemBody/figure/video", "cannot be delivered"),
    "invigil/mapping-case-mixed.xml": ("responseDeclaration[RESPONSE]/mapping",
                                       "caseSensitive differs between entries"),
    "invigil/media-picture-object.xml": ("mediaInteraction[PLAYS]/object", "is not audio or video"),
    "invigil/qti3-names-under-22.xml": ("qti-choice-interaction", "QTI 3.0 element name under the QTI 2.2 namespace"),
    "invigil/graphic-order-partial.xml": ("graphicOrderInteraction[RESPONSE]@minChoices", "partial order"),
    "invigil/template-math-variable.xml": ("math/mi[TPL_E]", "has no value in this draw"),
    "invigil/template-constraint-never.xml": ("templateConstraint of item template-constraint-never",
                                              "was not met in 100 draws"),
    "invigil/video-object-with-poster.xml": ("itemBody/p/object", "'video/mp4' is not supported"),
    "invigil-package!items/missing-stimulus.xml": ("assessmentStimulusRef[gone]", "not found"),
    "pie-qti/mapResponse_bounds_default_duplicates.xml": ("responseProcessing", "without an isNull guard"),
    "pie-qti/qti22_advanced_q8_graphic_gap_match.xml": ("graphicGapMatchInteraction[RESPONSE]/object",
                                                        "'images/cell-diagram.svg' not found in the package"),
    "pie-qti/responseProcessing_exitResponse.xml": ("responseProcessing/setOutcomeValue[1]",
                                                    "custom response processing"),
    "pie-qti/templateProcessing_templateConstraint.xml": ("outcomeProcessing", "is not supported at the top level"),
}
#: source -> a warning that must be given (what was changed on the way in is said)
WARNED = {
    "invigil/template-set-correct.xml": "templateProcessing: an item family",
    "invigil/template-qti3-condition.xml": "templateProcessing: an item family",
    "invigil/essay-scorer-rubric.xml": "rubric for scorers kept",
    "invigil/drawing-human.xml": "rubric for scorers kept",
    "invigil/essay-maxscore-zeroed.xml": "rubric for scorers kept",
    "invigil/essay-no-maximum.xml": "people mark this item out of 1",
    "invigil/media-sniffed.xml": "named .jpg but its bytes are image/png",
    "invigil/nested-object-fallback.xml": "its image fallback is shown instead",
    "invigil-package!items/companion-calculator.xml": "calculator (scientific",
    "invigil-package!items/stimulus-item.xml": "shared stimulus",
    "invigil-package!items/stimulus-family.xml": "kept in the item family ahead of its body",
    "invigil-package!items/xinclude-fragment.xml": "included from the package",
    "pie-qti/modalFeedback_basic.xml": "modalFeedback: removed",
}

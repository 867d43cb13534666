"""A formula in a question reaches the candidate: MathML's token elements (``mi``, ``mn``, ``mo``)
are kept inside ``<math>`` by the renderer, so Chromium draws them; outside ``<math>`` they are
unwrapped like any unknown tag, and scripting attributes go everywhere."""

from __future__ import annotations

import pytest

from exam_core.model import FormContent
from exam_core.presentation import clean

from tests.support.kiosk_browser import Served, until_exam

FORMULA = ('<math display="block"><mrow><mi>E</mi><mo>=</mo><mi>m</mi><msup><mi>c</mi><mn>2</mn></msup>'
           '</mrow></math>')


def test_mathml_kept_inside_math_only() -> None:
    hostile = FORMULA.replace("<mi>m</mi>", "<mi onclick='x()' mathvariant='bold'>m</mi>")
    cleaned = clean(f"<p>Energy: {hostile}</p><p><mi>not maths</mi></p>")
    assert "<mi>E</mi>" in cleaned and "<msup><mi>c</mi><mn>2</mn></msup>" in cleaned
    assert 'mathvariant="bold"' in cleaned and "onclick" not in cleaned
    assert "<p>not maths</p>" in cleaned


def _content() -> tuple[FormContent, dict[str, bytes]]:
    item = {"item_id": "M1", "version": 1, "title": "Energy",
            "body_html": f'<p>Which law is</p>{FORMULA}<div data-interaction="R1"></div>',
            "interactions": [{"type": "choice", "response_id": "R1", "cardinality": "single",
                              "base_type": "identifier", "prompt_html": "Choose one.",
                              "choices": [{"id": "A", "html": "Mass-energy equivalence"},
                                          {"id": "B", "html": "Ohm's law"}]}]}
    form = {"form_id": "F1", "version": 1, "scheme_id": "S1", "scheme_version": 1, "title": "Maths",
            "duration_seconds": 3600, "items": [{"item_id": "M1", "version": 1}],
            "instructions_html": "<p>Answer.</p>", "agreement_html": "<p>I agree.</p>"}
    return FormContent.from_dict({"form": form, "items": [item]}), {}


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path, content=_content())
    yield s
    s.close()


@pytest.mark.browser
def test_the_candidate_sees_the_formula(page, served) -> None:
    until_exam(page, served, "Question 1 of 1: Energy")
    formula = page.locator("math")
    box = formula.bounding_box()
    assert box is not None and box["width"] > 30 and box["height"] > 10   # drawn, not an empty element
    assert "".join(formula.text_content().split()) == "E=mc2"

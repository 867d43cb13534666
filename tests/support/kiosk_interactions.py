"""What the tests of the newer interactions (slider, graphic order/associate/gap match, media,
drawing) share: a one-form bundle from item dicts, a started session, Tab-only navigation, an axe
scan that must come back clean, and submitting from the page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from exam_core.model import FormContent
from tests.support.kiosk_browser import Served, axe_violations
from tests.support.kiosk_pages import AXE


def form_of(items: list[dict[str, Any]], media: dict[str, bytes],
            title: str) -> tuple[FormContent, dict[str, bytes]]:
    """A form holding ``items`` in order, with the media bytes they show."""
    form = {"form_id": "F1", "version": 1, "scheme_id": "S1", "scheme_version": 1, "title": title,
            "duration_seconds": 3600, "items": [{"item_id": i["item_id"], "version": 1} for i in items],
            "instructions_html": "<p>Answer.</p>", "agreement_html": "<p>I agree.</p>"}
    return FormContent.from_dict({"form": form, "items": items}), media


def start(served: Served) -> Any:
    """The candidate admitted, identified, agreed and begun, without the page; the session."""
    served.admit_and_start()
    served.runtime.confirm_identity()
    session = served.runtime.require_session()
    session.accept_agreement()
    session.begin()
    return session


def saved_values(served: Served, response_id: str = "R1") -> dict[str, Any]:
    """The kiosk's saved value of ``response_id`` for each item that has one."""
    answers = served.runtime.require_session().state.answers
    return {item: values[response_id] for item, values in answers.items() if response_id in values}


def tab_to(page, selector: str) -> None:
    """Press Tab until the focused element matches ``selector`` (keyboard only, as a candidate would)."""
    for _ in range(60):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def next_question(n: int, total: int) -> Callable:
    """An axe step: on to question ``n`` and wait until it has loaded."""
    def go(page) -> None:
        page.get_by_role("button", name="Next").click()
        page.get_by_role("heading", name=f"Question {n} of {total}").wait_for()
        page.wait_for_load_state("networkidle")
    return go


def assert_axe_clean(browser, served: Served, steps: list[Callable]) -> None:
    """No serious or critical axe-core violation after any of ``steps``."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run npm ci at the repository root")
    violations = axe_violations(browser, served.url, steps)
    assert violations == [], json.dumps([(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                                         for v in violations], indent=1)


def submit(page, served: Served) -> dict[tuple[str, str], Any]:
    """Submit from the page; the sealed final values by (item, response)."""
    page.get_by_role("button", name="Review and submit").click()
    page.get_by_role("button", name="Submit my examination").click()
    page.get_by_role("button", name="Yes, submit").click()
    page.get_by_role("heading", name="Your examination has been submitted").wait_for()
    return {(r["item_id"], r["response_id"]): r["value"] for r in served.envelope_payload()["responses"]}


def spoken(content: Callable[[], tuple[Any, dict[str, bytes]]], index: int) -> str:
    """What read-aloud (the text-to-speech accommodation) says for item ``index`` of a form."""
    from exam_core.presentation import item_view
    from kiosk.tools.speech import question_text

    form, _ = content()
    return question_text(item_view(form.items[index], 1), index + 1, len(form.items))

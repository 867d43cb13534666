"""Fixtures of the item-bank tests: the shared QTI samples, a CLI runner, an initialised central body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from exam_core import keys, protocol
from exam_core.jsonio import format_time, utc_now
from item_bank_sync.cli.main import main

SAMPLES = Path(__file__).parents[2] / "../shared/qti-samples"


@pytest.fixture(scope="session")
def samples() -> Path:
    """../shared/qti-samples next to the repository; skipped with the reason when absent."""
    if not SAMPLES.is_dir():
        pytest.skip(f"QTI samples not found at {SAMPLES.resolve()} (the repo's ../shared/qti-samples); "
                    "they are shared material, not part of the repository")
    return SAMPLES.resolve()


@dataclass
class Result:
    exit_code: int
    output: str
    stderr: str

    @property
    def data(self) -> Any:
        return json.loads(self.output)


class Central:
    """Runs ``python -m item_bank_sync --data DIR ...`` in-process through click's runner."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.runner = CliRunner()

    def run(self, *args: str) -> Result:
        result = self.runner.invoke(main, ["--data", str(self.data_dir), *map(str, args)], catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    def json(self, *args: str, code: int = 0) -> Any:
        result = self.run(*args, "--json")
        assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
        return result.data

    def approve_all(self) -> None:
        for row in self.json("items", "list", "--status", "draft")["items"]:
            self.json("items", "review", row["item_id"], "--by", "reviewer")
            self.json("items", "approve", row["item_id"], "--by", "approver")


@pytest.fixture
def central(tmp_path: Path) -> Central:
    """A freshly initialised central body (x25519 results key: quicker, same code paths)."""
    c = Central(tmp_path / "central")
    c.json("init", "--body-id", "test-body", "--name", "Test Body")
    return c


@dataclass
class CentreKeys:
    centre_id: str
    signing: Any
    hpke: keys.HpkePrivateKey
    request: bytes


def make_centre(centre_id: str = "centre-1") -> CentreKeys:
    """A centre's keys and its signed enrolment request, built with exam_core as the console does."""
    signing, hpke = keys.generate_signing_key(), keys.generate_hpke_key()
    request = protocol.CentreEnrolmentRequest.from_dict({
        "v": protocol.PROTOCOL_VERSION, "centre_id": centre_id, "name": f"Centre {centre_id}",
        "signing_key": keys.public_key_to_dict(signing.public_key()),
        "hpke_key": keys.public_key_to_dict(hpke.public_key()), "created": format_time(utc_now())})
    return CentreKeys(centre_id, signing, hpke, protocol.make_enrolment_request(signing, request))


def write_qti(folder: Path, name: str, xml: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(xml, "utf-8")
    return path


QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"
MATCH_CORRECT = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"


def choice_item(identifier: str = "item1", body_extra: str = "", correct: str = "A",
                declaration: str | None = None, processing: str | None = None,
                choices: str = '<simpleChoice identifier="A">Yes</simpleChoice><simpleChoice identifier="B">No</simpleChoice>',
                interaction_attrs: str = 'responseIdentifier="RESPONSE" maxChoices="1"') -> str:
    """A small QTI 2.1 choice item; each argument replaces one part to make it wrong on purpose."""
    declaration = declaration if declaration is not None else (
        '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">'
        f'<correctResponse><value>{correct}</value></correctResponse></responseDeclaration>')
    processing = processing if processing is not None else f'<responseProcessing template="{MATCH_CORRECT}"/>'
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<assessmentItem xmlns="{QTI21}" identifier="{identifier}" '
            f'title="T {identifier}" adaptive="false" timeDependent="false">{declaration}'
            f'<outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>'
            f'<itemBody>{body_extra}<choiceInteraction {interaction_attrs}><prompt>Pick</prompt>{choices}'
            f'</choiceInteraction></itemBody>{processing}</assessmentItem>')

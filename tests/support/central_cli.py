"""The central body's CLI in-process for tests (``Central``), the shared QTI samples, and a centre's
enrolment request built as the console builds it. Fixtures (``samples``, ``central``) that use them
are in tests/central/conftest.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from exam_core import keys, sync_wire
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.cli.main import main

#: The shared QTI samples next to the repository (not part of it).
SAMPLES = Path(__file__).parents[2] / "../shared/qti-samples"


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

    def run(self, *args: str | Path) -> Result:
        result = self.runner.invoke(main, ["--data", str(self.data_dir), *map(str, args)], catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    def json(self, *args: str | Path, code: int = 0) -> Any:
        result = self.run(*args, "--json")
        assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
        return result.data

    def approve_all(self) -> None:
        for row in self.json("items", "list", "--status", "draft")["items"]:
            self.json("items", "review", row["item_id"], "--by", "reviewer")
            self.json("items", "approve", row["item_id"], "--by", "approver")


@dataclass
class CentreKeys:
    centre_id: str
    signing: Any
    hpke: keys.HpkePrivateKey
    request: bytes


def make_centre(centre_id: str = "centre-1") -> CentreKeys:
    """A centre's keys and its signed enrolment request, built with exam_core as the console does."""
    signing, hpke = keys.generate_signing_key(), keys.generate_hpke_key()
    request = sync_wire.CentreEnrolmentRequest.from_dict({
        "v": sync_wire.SYNC_VERSION, "centre_id": centre_id, "name": f"Centre {centre_id}",
        "signing_key": keys.public_key_to_dict(signing.public_key()),
        "hpke_key": keys.public_key_to_dict(hpke.public_key()), "created": format_time(utc_now())})
    return CentreKeys(centre_id, signing, hpke, sync_wire.make_enrolment_request(signing, request))

"""``body create-evidence-key``: a body initialised before ``init`` made the evidence key gets one
only when no document sealed with a key exists anywhere (registry evidence, identity photos, CPD
evidence); otherwise it is refused, naming what exists and to restore the key from backup. Audited;
an existing key is never replaced; the list of sealed columns matches every ``sealing.seal`` caller."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import LargeBinary

from item_bank_sync.cli.body import evidence_sealed
from item_bank_sync.db.metadata import metadata
from item_bank_sync.registry import actors, applications, evidence, persons, sealing
from tests.support.body_pages import audit_entries
from tests.support.registry_body import PDF, REGISTRAR, SCHEME_ID, Body, make_body, photo_bytes

PACKAGE = Path(__file__).resolve().parents[3] / "item_bank_sync"
#: Sealed with their own key (the TOTP key), not the evidence key.
OWN_KEY = {"staff_accounts.totp_sealed", "staff_accounts.totp_pending_sealed", "candidate_accounts.totp_sealed"}


@pytest.fixture
def body(tmp_path: Path) -> Iterator[Body]:
    made = make_body(tmp_path)
    yield made
    made.close()


def _lost(body: Body) -> Path:
    path = sealing.key_path(body.ctx.keys_dir)
    path.unlink()
    return path


def test_made_only_when_nothing_sealed_exists_audited_and_never_replaced(body: Body) -> None:
    path = _lost(body)
    made = body.central.json("body", "create-evidence-key", "--by", "ada")
    assert made["created"] == str(path) and set(made["checked"].values()) == {0}
    assert path.stat().st_mode & 0o777 == 0o600 and len(sealing.load_key(body.ctx.keys_dir)) == 32
    kept = path.read_bytes()
    again = body.central.run("body", "create-evidence-key", "--by", "ada", "--json")
    assert again.exit_code == 1 and "never replaced" in again.output and path.read_bytes() == kept
    entries = audit_entries(body.central.data_dir, "body.evidence-key")
    assert [(e["actor"], e["data"]["created"]) for e in entries] == [("ada", True)]
    assert sorted(entries[0]["data"]["checked"]) == ["cpd_records.evidence_sealed", "evidence_documents.sealed",
                                                     "persons.photo_sealed"]


def test_refused_while_a_photo_or_an_evidence_document_is_sealed(body: Body) -> None:
    ann = persons.add(body.ctx, REGISTRAR, given_name="Ann", family_name="Smith", email="ann@example.org",
                      date_of_birth="1990-05-01")
    persons.set_photo(body.ctx, REGISTRAR, ann.person_id, photo_bytes())
    app = applications.submit(body.ctx, actors.candidate(ann.person_id), person_id=ann.person_id,
                              scheme_id=SCHEME_ID, scheme_version=1,
                              answers={"education_level": "master", "experience_months": 30},
                              accept_code_of_conduct=True, body_rules_version="2026-1")
    evidence.add(body.ctx, REGISTRAR, evidence.APPLICATION, app.application_id, "d.pdf", PDF)
    path = _lost(body)
    refused = body.central.run("body", "create-evidence-key", "--by", "ada", "--json")
    assert refused.exit_code == 1
    assert "1 in evidence_documents.sealed, 1 in persons.photo_sealed" in refused.output
    assert "restore evidence.key from the backup" in refused.output
    assert not path.exists() and audit_entries(body.central.data_dir, "body.evidence-key") == []


def test_the_checked_columns_are_every_column_sealed_with_the_evidence_key() -> None:
    """Fail closed for later code: every binary ``*sealed`` column is checked unless sealed with
    its own key, and every module that seals with the evidence key owns one of the checked tables."""
    checked = {f"{c.table.name}.{c.name}" for c in evidence_sealed()}
    for owner in ("portal", "staff", "registry", "recertification"):    # every sealed column on the metadata
        importlib.import_module(f"item_bank_sync.{owner}.schema")
    binary = {f"{t.name}.{c.name}" for t in metadata.tables.values() for c in t.columns
              if isinstance(c.type, LargeBinary) and re.fullmatch(r"(.+_)?sealed", c.name)}
    assert binary - OWN_KEY == checked
    sealers = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if "sealing.seal(" in p.read_text())
    assert sealers == ["recertification/cpd.py", "registry/evidence.py", "registry/persons.py"]

"""A small but real central body for tests: keys on disk, a bank with a scheme, a form, answer keys,
an enrolled centre with a published package, and a kiosk that seals real envelopes. Shared by the
intake, results, sync and interop tests under tests/central/ (fixtures in their conftests).

The bank rows are written with the item-bank schema (``item_bank_sync.bank.schema``) directly, because
these tests are about intake and sync, not about authoring; everything cryptographic is real.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from exam_core import certs, envelope, keys, package
from exam_core.jsonio import b64e, canonical_dumps
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.context import CentralContext
from item_bank_sync.trust.evidence_key import create_key
from item_bank_sync.trust.identity import CentralKeys
from tests.support.pki import Pki
from tests.support.central_db import bank_of

#: The repository (tests run the CLIs as processes from here).
REPO = Path(__file__).resolve().parents[2]
BODY_ID = "central"
CENTRE_ID = "centre-1"
KIOSK_ID = "kiosk-7"
FORM_ID = "F1"
FORM_VERSION = 2
PACKAGE_ID = "pkg-1"
#: Answers to the world's three items: q1 and q2 right (3 points), q3 an essay for human marking.
GOOD = {"q1": "A", "q2": ["A", "C"], "q3": "An essay about safety."}

KEYS = {
    "q1": {"response_id": "RESPONSE", "cardinality": "single", "base_type": "identifier",
           "template": "match_correct", "correct": "A"},
    "q2": {"response_id": "RESPONSE", "cardinality": "multiple", "base_type": "identifier",
           "template": "map_response", "mapping": {"A": 1, "C": 1}, "default_value": -1, "lower_bound": 0,
           "max_score": 2},
    "q3": {"response_id": "RESPONSE", "cardinality": "single", "base_type": "string",
           "template": "human", "max_score": 4},
}


@dataclass
class World:
    data_dir: Path
    pki: Pki
    keys: CentralKeys
    package_bytes: bytes
    _seq: int = field(default=0)

    @property
    def context(self) -> CentralContext:
        return CentralContext(data_dir=self.data_dir)

    def payload(self, attempt_id: str, answers: dict[str, Any], **attempt_over: Any) -> dict[str, Any]:
        attempt = {"attempt_id": attempt_id, "candidate_id": f"cand-{attempt_id}", "form_id": FORM_ID,
                   "form_version": FORM_VERSION, "package_id": PACKAGE_ID, "centre_id": CENTRE_ID,
                   "kiosk_id": KIOSK_ID, "option_seed": 7, "state": "submitted", "seat": "A1"}
        attempt.update(attempt_over)
        responses = []
        for seq, (item_id, value) in enumerate(answers.items(), start=1):
            responses.append({"attempt_id": attempt_id, "item_id": item_id, "response_id": "RESPONSE",
                              "value": value, "seq": seq, "wall_time": "2026-11-26T10:00:00Z",
                              "elapsed_ms": 30_000 * seq, "flagged": False})
        return {"format": "invigil-attempt-result", "v": 1, "attempt": attempt, "responses": responses,
                "timings": {"item_time_ms": dict.fromkeys(answers, 30000)},
                "journal_head": {"seq": len(answers) + 3, "hash": "ab" * 32}, "answer_changes": len(answers),
                "journal_chain": b64e(b"".join(bytes.fromhex(journal_row_hash(attempt_id, seq, len(answers) + 3))
                                               for seq in range(1, len(answers) + 4)))}

    def seal(self, attempt_id: str, answers: dict[str, Any], *, payload: dict[str, Any] | None = None,
             **over: Any) -> bytes:
        fields = {"attempt_id": attempt_id, "centre_id": CENTRE_ID, "kiosk_id": KIOSK_ID, "form_id": FORM_ID,
                  "form_version": FORM_VERSION, "package_id": PACKAGE_ID, "kiosk_signing_key": self.pki.kiosk,
                  "chain": self.pki.chain, "results_public": self.pki.results.public_key()}
        fields.update(over)
        return envelope.seal_envelope(payload or self.payload(attempt_id, answers), **fields)


def journal_row_hash(attempt_id: str, seq: int, last: int) -> str:
    """The row hashes ``World.payload`` seals as the journal chain (its last row is the head, ``ab``*32)."""
    return "ab" * 32 if seq == last else hashlib.sha256(f"{attempt_id}:{seq}".encode()).hexdigest()


def make_world_pki(centre: Any = None, centre_hpke: Any = None) -> Pki:
    """Central root, results key, one centre (its keys given, e.g. a real console's) and one kiosk."""
    central, kiosk = keys.generate_signing_key(), keys.generate_signing_key()
    centre = centre or keys.generate_signing_key()
    centre_hpke = centre_hpke or keys.generate_hpke_key(keys.SUITE_X25519)
    results, kiosk_hpke = keys.generate_hpke_key(keys.SUITE_X25519), keys.generate_hpke_key(keys.SUITE_X25519)
    root = certs.make_root_certificate(central, BODY_ID, results.public_key())
    centre_cert = certs.issue_certificate(central, BODY_ID, CENTRE_ID, "centre", centre.public_key(),
                                          centre_hpke.public_key())
    kiosk_cert = certs.issue_certificate(centre, CENTRE_ID, KIOSK_ID, "kiosk", kiosk.public_key(),
                                         kiosk_hpke.public_key())
    return Pki(central, results, centre, centre_hpke, kiosk, kiosk_hpke, root, centre_cert, kiosk_cert)


def build_world(data_dir: Path, cut_score: float = 3.0, centre: Any = None, centre_hpke: Any = None) -> World:
    pki = make_world_pki(centre, centre_hpke)
    context = CentralContext(data_dir=data_dir)
    context.ensure_dirs()
    keys.save_private_key(context.signing_key_path, pki.central)
    keys.save_private_key(context.results_key_path, pki.results)
    context.central_cert_path.write_bytes(pki.root_cert)
    create_key(context.keys_dir)                    # the evidence key, as ``init`` makes it
    context.body_path.write_text(json.dumps({"body_id": BODY_ID, "name": "Test body"}))
    now = utc_now()
    package_bytes, _ = package.build_form_package(
        b"form content " * 50_000, package_id=PACKAGE_ID, form_id=FORM_ID, form_version=FORM_VERSION,
        scheme_id="S1", centre_id=CENTRE_ID, opens=now - timedelta(hours=1), closes=now + timedelta(hours=8),
        signing_key=pki.central, centre_hpke_public=pki.centre_hpke.public_key(), title="Demo")
    (context.packages_dir / f"{PACKAGE_ID}.zip").write_bytes(package_bytes)
    _fill_bank(context, pki, package_bytes, cut_score)
    return World(data_dir, pki, CentralKeys(pki.central, pki.results, BODY_ID), package_bytes)


def _fill_bank(context: CentralContext, pki: Pki, package_bytes: bytes, cut_score: float) -> None:
    import hashlib

    bank = bank_of(context.data_dir)
    now = format_time(utc_now())
    for item_id, response_key in KEYS.items():
        bank["items"].insert({"item_id": item_id, "version": 1, "content_hash": "0" * 64, "status": "approved",
                              "title": item_id, "interaction_types": "choice", "source": "test",
                              "source_format": "yaml", "item_json": "{}",
                              "key_json": json.dumps({"item_id": item_id, "version": 1, "responses": [response_key]}),
                              "created_at": now, "created_by": "test"})
    bank["schemes"].insert({"scheme_id": "S1", "version": 1, "title": "Scheme",
                            "scheme_json": json.dumps({"cut_score": cut_score}), "source_text": "", "created_at": now})
    form = {"form_id": FORM_ID, "version": FORM_VERSION, "scheme_id": "S1", "scheme_version": 1, "title": "Form",
            "duration_seconds": 3600, "items": [{"item_id": i, "version": 1} for i in KEYS]}
    bank["forms"].insert({"form_id": FORM_ID, "version": FORM_VERSION, "scheme_id": "S1", "scheme_version": 1,
                          "build_id": "b1", "seed": 1, "form_json": json.dumps(form), "created_at": now})
    bank["centres"].insert({"centre_id": CENTRE_ID, "name": "Centre", "signing_key_id": keys.key_id(pki.centre),
                            "hpke_key_id": keys.key_id(pki.centre_hpke), "request_json": "{}", "cert_serial": "x",
                            "certificate": pki.centre_cert, "not_after": "2030-01-01T00:00:00Z",
                            "enrolled_at": now})
    bank["packages"].insert({"package_id": PACKAGE_ID, "form_id": FORM_ID, "form_version": FORM_VERSION,
                             "centre_id": CENTRE_ID, "opens": now, "closes": now, "release_code_required": 0,
                             "path": f"packages/{PACKAGE_ID}.zip",
                             "sha256": hashlib.sha256(package_bytes).hexdigest(), "created_at": now})
    bank.conn.close()


def tamper_ciphertext(data: bytes) -> bytes:
    """The envelope with one bit of its ciphertext flipped (the AEAD tag no longer verifies)."""
    outer = json.loads(data)
    raw = bytearray(base64.b64decode(outer["ciphertext"]))
    raw[-5] ^= 1
    outer["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    return canonical_dumps(outer)

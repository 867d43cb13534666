"""A central body ready for the registry and sittings tests: initialised through the real CLI, a
scheme with prerequisites and accommodations added through ``schemes add``, a form of it and an
enrolled centre written as rows (authoring and enrolment have their own tests), and actors."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from PIL import Image

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.context import CentralContext
from item_bank_sync.registry import actors, applications, persons
from item_bank_sync.sittings import sessions
from tests.support.central_cli import Central
from tests.support.central_db import bank_of

SCHEME_ID, SCHEME_VERSION, FORM_ID, CENTRE_ID = "CERT", 1, "CERT-F1", "centre-1"
SCHEME_YAML = f"""format: invigil-scheme/1
id: {SCHEME_ID}
version: {SCHEME_VERSION}
title: Certified Practitioner
duration_minutes: 60
cut_score_percent: 60
accommodations_allowed: [extra_time_percent, large_text, rest_breaks]
max_extra_time_percent: 50
agreement: "<p>I will not disclose exam content.</p>"
prerequisites:
  education: bachelor
  experience_months: 24
  minimum_age: 18
blueprint:
  - {{area: A, items: 1}}
"""
REGISTRAR = actors.staff("rita", actors.REGISTRAR)
REGISTRAR_2 = actors.staff("rex", actors.REGISTRAR)
ADMIN = actors.staff("ada", actors.ADMIN)
AUDITOR = actors.staff("otto", actors.AUDITOR)
MARKER = actors.staff("mark", "marker")


@dataclass
class Body:
    central: Central
    ctx: CentralContext

    def close(self) -> None:
        self.ctx.close()


def make_body(tmp_path: Path) -> Body:
    central = Central(tmp_path / "central")
    central.json("init", "--body-id", "test-body", "--name", "Test Body")
    scheme = tmp_path / "scheme.yaml"
    scheme.write_text(SCHEME_YAML)
    central.json("schemes", "add", scheme)
    bank = bank_of(central.data_dir)
    now = format_time(utc_now())
    bank["forms"].insert({"form_id": FORM_ID, "version": 1, "scheme_id": SCHEME_ID, "scheme_version": SCHEME_VERSION,
                          "build_id": "b1", "seed": 1, "form_json": json.dumps({"form_id": FORM_ID}),
                          "created_at": now})
    bank["centres"].insert({"centre_id": CENTRE_ID, "name": "Centre", "signing_key_id": "k", "hpke_key_id": "h",
                            "request_json": "{}", "cert_serial": "x", "certificate": b"c",
                            "not_after": "2099-01-01T00:00:00Z", "enrolled_at": now})
    return Body(central, CentralContext(data_dir=central.data_dir))


def photo_bytes(kind: str = "PNG", size: tuple[int, int] = (300, 400)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 150, 100)).save(out, kind)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

IN_A_WEEK = format_time(utc_now() + timedelta(days=7))


def planned_session(body: Body, capacity: int = 2, starts_at: str = IN_A_WEEK) -> sessions.Session:
    """A session of the body's form at its centre (a week ahead unless told)."""
    return sessions.plan(body.ctx, REGISTRAR, centre_id=CENTRE_ID, scheme_id=SCHEME_ID, scheme_version=1,
                         form_ids=[FORM_ID], starts_at=starts_at, window_minutes=60, capacity=capacity)


def eligible_persons(body: Body, n: int) -> list[str]:
    """``n`` persons, each with an accepted application."""
    ids = []
    for i in range(n):
        pid = persons.add(body.ctx, REGISTRAR, given_name=f"P{i}", family_name="Doe", email=f"p{i}@example.org",
                          date_of_birth="1990-01-01").person_id
        app = applications.submit(body.ctx, actors.candidate(pid), person_id=pid, scheme_id=SCHEME_ID,
                                  scheme_version=1, answers={"education_level": "master", "experience_months": 30},
                                  accept_code_of_conduct=True, body_rules_version="1")
        applications.decide(body.ctx, REGISTRAR, app.application_id, accept=True, reasons="met")
        ids.append(pid)
    return ids

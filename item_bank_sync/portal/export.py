"""What the portal shows a candidate and what it hands over as their data (the data-subject export).

Every read goes through the registry and sittings services with the candidate actor, so what a
page or the export contains is exactly what those services let the person see: their own records.
The export (GDPR article 15/20) is a ZIP: ``data.json`` (person, consents, applications,
accommodation requests, bookings, documents' metadata, messages) and ``evidence/`` with each
document they uploaded, read (and audited) through :func:`evidence.get`.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.context import CentralContext
from item_bank_sync.forms.schemes import Scheme, SchemeError, SchemeStore
from item_bank_sync.portal import accounts
from item_bank_sync.portal.accounts import Account
from item_bank_sync.registry import accommodations, applications, evidence, persons
from item_bank_sync.registry.actors import Actor
from item_bank_sync.registry.errors import NotFound
from item_bank_sync.sittings import bookings, sessions


def schemes(ctx: CentralContext) -> list[dict[str, Any]]:
    """The schemes a person may apply for (id, version, title)."""
    return SchemeStore(ctx.open_bank_db()).list()


def scheme(ctx: CentralContext, scheme_id: str, version: int) -> Scheme:
    try:
        return SchemeStore(ctx.open_bank_db()).get(scheme_id, version)
    except SchemeError:
        raise NotFound(f"no scheme {scheme_id} version {version}") from None


def _documents(ctx: CentralContext, actor: Actor, kind: str, subject_id: str) -> list[dict[str, Any]]:
    return [d.to_dict() for d in evidence.list_for(ctx, actor, kind, subject_id)]


def overview(ctx: CentralContext, actor: Actor) -> dict[str, Any]:
    """The person's page: record, applications and requests (with their documents), bookings, messages."""
    person_id = str(actor.person_id)
    apps = [{**a.to_dict(), "documents": _documents(ctx, actor, evidence.APPLICATION, a.application_id)}
            for a in applications.list_applications(ctx, actor, person_id=person_id)]
    requests = [{**r.to_dict(), "documents": _documents(ctx, actor, evidence.ACCOMMODATION, r.request_id)}
                for r in accommodations.list_requests(ctx, actor, person_id=person_id)]
    held = [{**b.to_dict(), "session": sessions.get(ctx, b.session_id).to_dict()}
            for b in bookings.list_bookings(ctx, actor, person_id=person_id)]
    return {"person": persons.show(ctx, actor, person_id).to_dict(), "applications": apps,
            "accommodation_requests": requests, "bookings": held,
            "messages": accounts.messages_of(ctx, person_id)}


def bookable(ctx: CentralContext, actor: Actor) -> dict[str, Any]:
    """Upcoming sessions of the scheme versions the person holds an accepted application for, and
    their active bookings (to cancel or move)."""
    person_id = str(actor.person_id)
    accepted = {(a.scheme_id, a.scheme_version) for a in applications.list_applications(
        ctx, actor, person_id=person_id, status=applications.ACCEPTED) if a.valid_on(utc_now())}
    active = [{**b.to_dict(), "session": sessions.get(ctx, b.session_id).to_dict()}
              for b in bookings.list_bookings(ctx, actor, person_id=person_id, active_only=True)]
    held = {b["session_id"] for b in active}
    open_sessions = [s.to_dict() for s in sessions.list_sessions(ctx)
                     if (s.scheme_id, s.scheme_version) in accepted and s.session_id not in held]
    return {"sessions": open_sessions, "active": active}


def data_subject_zip(ctx: CentralContext, actor: Actor, account: Account) -> bytes:
    """The person's own data as a ZIP of ``data.json`` and the evidence they uploaded."""
    data = overview(ctx, actor)
    data["account"] = {"account_id": account.account_id, "email": account.email,
                       "second_factor": account.has_second_factor}
    data["exported_at"] = format_time(utc_now())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, indent=2, sort_keys=True))
        for subject in data["applications"] + data["accommodation_requests"]:
            for doc in subject["documents"]:
                found, content = evidence.get(ctx, actor, doc["document_id"])
                archive.writestr(f"evidence/{found.document_id}-{found.filename}", content)
    return out.getvalue()

"""Publishing: a form, its items and their media, sealed for one test centre.

What goes in is exactly an ``exam_core.model.FormContent`` (the form and its items; items never
hold keys) plus the media the items show; answer keys and scoring rules are never read here.
Only approved item versions are published: an item retired after the form was built stops the
form from being published again. The package is stored under ``DIR/packages/CENTRE/`` (the sync
API serves it from there) and copied to ``--out``; the release code, when asked for, is returned
once and stored nowhere. The signed manifest carries the scheme's accommodation policy (which
accommodations it allows, and how much extra time), so a centre refuses a roster granting more.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from exam_core import formcontent
from exam_core.errors import InvigilError
from exam_core.model import FormContent
from exam_core.package import build_form_package
from exam_core.timestamps import utc_text
from item_bank_sync.bank.schema import packages
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import write
from item_bank_sync.forms.schemes import SchemeStore
from item_bank_sync.forms.store import FormStore, form_instances
from item_bank_sync.trust.centres import centre_hpke_key


class PublishError(InvigilError):
    """The form cannot be published as asked; the message says why."""


def parse_when(text: str, option: str) -> datetime:
    """An ISO 8601 time with an explicit offset (``2026-12-01T09:00:00+01:00`` or ``...Z``)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PublishError(f"{option} {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise PublishError(f"{option} {text!r} needs an explicit offset (Z or +hh:mm)")
    return moment


def form_content(ctx: CentralContext, form_id: str, version: int | None) -> tuple[FormContent, dict[str, bytes]]:
    """The checked FormContent of a form and the bytes of every media file its items show."""
    form = FormStore(ctx.open_bank_db()).get(form_id, version)
    bank = ctx.item_bank()
    not_approved = [f"{r.item_id} v{r.version} ({bank.status(r.item_id, r.version)})" for r in form.items
                    if bank.status(r.item_id, r.version) != "approved"]
    if not_approved:
        raise PublishError(f"form {form.form_id} v{form.version} holds items that are no longer approved: "
                           + ", ".join(not_approved[:10]) + ("..." if len(not_approved) > 10 else ""))
    drawn = form_instances(ctx.open_bank_db(), form.form_id, form.version)  # item families: this form's draw
    items = tuple(drawn[r.item_id][0] if r.item_id in drawn else bank.item(r.item_id, r.version) for r in form.items)
    content = FormContent.from_dict(FormContent(form=form, items=items).to_dict())
    media = {ref.sha256: bank.media.get(ref.sha256)
             for item in items for ref in _all_media(item)}
    return content, media


def _all_media(item: Any) -> list[Any]:
    refs = list(item.media)
    refs += [i.image for i in item.interactions if i.image is not None]
    return refs


def publish(ctx: CentralContext, *, form_id: str, centre_id: str, opens: datetime, closes: datetime,
            release_code: bool, out_dir: Path | None, by: str, form_version: int | None = None) -> dict[str, Any]:
    """Build, store and copy the package; the result holds the release code (shown once) if any."""
    if closes <= opens:
        raise PublishError("--closes must be after --opens")
    if closes <= datetime.now(closes.tzinfo):
        raise PublishError("--closes is in the past")
    hpke_public, serial = centre_hpke_key(ctx, centre_id)
    content, media = form_content(ctx, form_id, form_version)
    form = content.form
    package_id = f"pkg-{secrets.token_hex(10)}"
    data, code = build_form_package(
        formcontent.encode(content.to_dict(), media), package_id=package_id, form_id=form.form_id,
        form_version=form.version, scheme_id=form.scheme_id, centre_id=centre_id, opens=opens, closes=closes,
        signing_key=ctx.load_signing_key(), centre_hpke_public=hpke_public, with_release_code=release_code,
        title=form.title, duration_seconds=form.duration_seconds, item_count=len(form.items),
        accommodation_policy=SchemeStore(ctx.open_bank_db()).get(form.scheme_id, form.scheme_version)
        .accommodation_policy)
    rel = Path("packages") / centre_id / f"{package_id}.zip"
    stored = ctx.data_dir / rel
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    with write(ctx.open_bank_db()) as conn:
        conn.execute(insert(packages).values(
            package_id=package_id, form_id=form.form_id, form_version=form.version, centre_id=centre_id,
            opens=opens.isoformat(), closes=closes.isoformat(), release_code_required=int(code is not None),
            path=rel.as_posix(), sha256=digest, created_at=utc_text()))
    copied = None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        copied = out_dir / f"{package_id}.zip"
        shutil.copyfile(stored, copied)
    ctx.audit_log().append(by, "form.publish", {"package_id": package_id, "form_id": form.form_id,
                                                "form_version": form.version, "centre_id": centre_id,
                                                "centre_serial": serial, "sha256": digest,
                                                "release_code_required": code is not None})
    return {"package_id": package_id, "form_id": form.form_id, "form_version": form.version,
            "centre_id": centre_id, "items": len(form.items), "media": len(media), "bytes": len(data),
            "sha256": digest, "stored": str(stored), "file": str(copied) if copied else None,
            "release_code": code}

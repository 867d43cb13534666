"""What the recertification modules share: the certificate as the registry holds it (with its
scheme's rules) and the holder it belongs to, read once per action."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from item_bank_sync.bank.schema import schemes
from item_bank_sync.certificates.registry import DEFAULT_PERIOD_MONTHS, Certificate, CertificateRegistry
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_one
from item_bank_sync.recertification.rules import Rules
from item_bank_sync.registry.errors import NotFound


@dataclass(frozen=True)
class Held:
    """A certificate and the recertification rules of the scheme version it was issued under
    (``rules`` None: the scheme has none)."""

    certificate: Certificate
    rules: Rules | None


def scheme_doc(ctx: CentralContext, scheme_id: str, version: int) -> dict:
    row = fetch_one(ctx.open_bank_db(), select(schemes.c.scheme_json)
                    .where(schemes.c.scheme_id == scheme_id, schemes.c.version == version))
    if row is None:
        raise NotFound(f"scheme {scheme_id} version {version} is not in the bank")
    return dict(json.loads(row[0]))


def held(ctx: CentralContext, certificate_id: str) -> Held:
    """The certificate ``certificate_id`` (:class:`NotFound` when there is none) and its rules."""
    cert = CertificateRegistry(ctx).find(certificate_id) if isinstance(certificate_id, str) else None
    if cert is None:
        raise NotFound(f"no certificate {certificate_id}")
    doc = scheme_doc(ctx, cert.scheme_id, cert.scheme_version)
    rules = Rules.of_scheme(doc, DEFAULT_PERIOD_MONTHS) if doc.get("recertification") else None
    return Held(cert, rules)

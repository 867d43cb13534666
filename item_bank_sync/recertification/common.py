"""What the recertification modules share: the certificate as the registry holds it, with the
recertification rules in force for it, read once per action."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from item_bank_sync.bank.schema import schemes
from item_bank_sync.certificates.registry import DEFAULT_PERIOD_MONTHS, Certificate, CertificateRegistry
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all
from item_bank_sync.recertification.rules import Rules
from item_bank_sync.registry.errors import NotFound


@dataclass(frozen=True)
class Held:
    """A certificate and the recertification rules in force for it (``rules`` None: no version of
    its scheme has any)."""

    certificate: Certificate
    rules: Rules | None


def rules_for(ctx: CentralContext, scheme_id: str, version: int) -> Rules | None:
    """The rules of the newest version of the scheme that has any, from the certificate's version
    on (a body that adds or tightens recertification does so in a new scheme version, and holders
    of earlier versions are renewed by the rules in force), else the certificate's own version's."""
    rows = fetch_all(ctx.open_bank_db(), select(schemes.c.version, schemes.c.scheme_json)
                     .where(schemes.c.scheme_id == scheme_id, schemes.c.version >= version)
                     .order_by(schemes.c.version.desc()))
    for _version, text in rows:
        doc = json.loads(text)
        if doc.get("recertification"):
            return Rules.of_scheme(doc, DEFAULT_PERIOD_MONTHS)
    return None


def held(ctx: CentralContext, certificate_id: str) -> Held:
    """The certificate ``certificate_id`` (:class:`NotFound` when there is none) and its rules."""
    cert = CertificateRegistry(ctx).find(certificate_id) if isinstance(certificate_id, str) else None
    if cert is None:
        raise NotFound(f"no certificate {certificate_id}")
    return Held(cert, rules_for(ctx, cert.scheme_id, cert.scheme_version))

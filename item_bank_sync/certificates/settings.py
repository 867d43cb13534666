"""The issuer's settings: the public site's address (in every credential and QR code) and the
holder agreement on the use of certificates and marks (ISO/IEC 17024 9.7), with its version.

Kept in ``DATA/certificates.json`` (``certificates setup``) rather than the database because they
are configuration of the body's deployment, like its keys, and must be the same for the issuing
commands and the public site that reads the same data directory.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from exam_core.errors import ValidationError
from item_bank_sync.context import CentralContext

SETTINGS_FILE = "certificates.json"
DEFAULT_PUBLIC_URL = "https://localhost:8444"
DEFAULT_AGREEMENT_VERSION = "holder-agreement/1"
DEFAULT_AGREEMENT = (
    "The holder claims certification only within its stated scope and only while it is valid; stops "
    "using the certificate and any mark of the body while it is suspended or after it is withdrawn or "
    "expired; does not use it in a misleading way; and returns or destroys printed copies when asked.")


@dataclass(frozen=True)
class IssuerSettings:
    public_url: str = DEFAULT_PUBLIC_URL
    agreement_version: str = DEFAULT_AGREEMENT_VERSION
    agreement_text: str = DEFAULT_AGREEMENT


def check_public_url(url: str) -> str:
    """An absolute https URL without query or fragment; no trailing slash."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise ValidationError("public_url", "must be an absolute https:// URL without query or fragment")
    return url.rstrip("/")


def load_settings(ctx: CentralContext) -> IssuerSettings:
    path = ctx.data_dir / SETTINGS_FILE
    if not path.exists():
        return IssuerSettings()
    data = json.loads(path.read_text("utf-8"))
    return IssuerSettings(public_url=check_public_url(data.get("public_url", DEFAULT_PUBLIC_URL)),
                          agreement_version=str(data.get("agreement_version", DEFAULT_AGREEMENT_VERSION)),
                          agreement_text=str(data.get("agreement_text", DEFAULT_AGREEMENT)))


def save_settings(ctx: CentralContext, settings: IssuerSettings) -> None:
    check_public_url(settings.public_url)
    if not settings.agreement_version.strip() or not settings.agreement_text.strip():
        raise ValidationError("agreement", "must have a version and a text")
    (ctx.data_dir / SETTINGS_FILE).write_text(json.dumps(asdict(settings), indent=2), encoding="utf-8")

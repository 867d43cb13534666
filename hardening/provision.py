"""The OS provisioning bundle: every file an administrator needs to turn a fresh Debian machine
into an Invigil kiosk, written to a directory and applied to nothing.

Values substituted into shell scripts and systemd units are validated against narrow character
sets first: a provisioning bundle is run as root, so a user name or command containing a quote or
a newline must be refused, not escaped and hoped for.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from exam_core.errors import ValidationError
from hardening.chromium_policy import kiosk_origin, policy_bytes
from hardening.errors import HardeningError
from hardening.policy import Policy

DEFAULT_URL = "http://127.0.0.1:8470/"
DEFAULT_USER = "invigil-kiosk"
DEFAULT_BINARY = "/opt/invigil/invigil-kiosk"
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_WORD = re.compile(r"[A-Za-z0-9_./:=@%+,-]+")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")

# Each template is written under its own name, with this mode.
FILES = {
    "README.md": 0o644, "install.sh": 0o755, "create-kiosk-user.sh": 0o755,
    "invigil-kiosk-x11.service": 0o644, "invigil-kiosk-cage.service": 0o644, "kiosk-xsession.sh": 0o755,
    "10-invigil-kiosk.conf": 0o644, "Xwrapper.config": 0o644, "99-invigil-block-usb-storage.rules": 0o644,
    "invigil-block-usb-storage.conf": 0o644, "logind-invigil-kiosk.conf": 0o644,
    "sysctl-invigil-kiosk.conf": 0o644,
}
CHROMIUM_POLICY_PATH = "chromium-policy/invigil-kiosk.json"
MANIFEST = "MANIFEST.sha256"


@dataclass(frozen=True)
class BundleSettings:
    url: str = DEFAULT_URL
    user: str = DEFAULT_USER
    kiosk_command: str = f"{DEFAULT_BINARY} run --url {DEFAULT_URL}"
    hardening_command: str = f"{DEFAULT_BINARY} hardening"


def _safe_command(field: str, command: str) -> str:
    words = shlex.split(command)
    if not words or not words[0].startswith("/"):
        raise ValidationError(field, "must start with an absolute path")
    for word in words:
        if not _WORD.fullmatch(word):
            raise ValidationError(field, f"{word!r} holds characters unsafe in a unit or shell script")
    return " ".join(words)


def _values(settings: BundleSettings, policy: Policy) -> dict[str, str]:
    if not _USER.fullmatch(settings.user):
        raise ValidationError("user", f"{settings.user!r} is not a valid system user name")
    origin = kiosk_origin(settings.url)
    if not _WORD.fullmatch(settings.url.replace("?", "").replace("&", "").replace("#", "")):
        raise ValidationError("url", "holds characters unsafe in a unit or shell script")
    journal = policy["lockdown"]["journal"]
    if not journal.startswith("/") or not _WORD.fullmatch(journal):
        raise ValidationError("lockdown.journal", f"{journal!r} is not a safe absolute path")
    return {"url": settings.url, "origin": origin, "user": settings.user, "journal": journal,
            "journal_dir": str(Path(journal).parent),
            "kiosk_command": _safe_command("kiosk_command", settings.kiosk_command),
            "hardening_command": _safe_command("hardening_command", settings.hardening_command)}


def render(template: str, values: dict[str, str]) -> str:
    text = resources.files("hardening.templates").joinpath("provision", template).read_text("utf-8")

    def substitute(match: re.Match) -> str:
        if match.group(1) not in values:
            raise HardeningError(f"template {template}: unknown placeholder {match.group(0)}")
        return values[match.group(1)]

    return _PLACEHOLDER.sub(substitute, text)


def write_bundle(out: str | Path, policy: Policy, settings: BundleSettings = BundleSettings()) -> list[Path]:
    """Write the bundle into ``out`` (created; must be empty if it exists); return the files."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise HardeningError(f"{out}: exists and is not an empty directory")
    values = _values(settings, policy)
    contents = {name: (render(name, values).encode("utf-8"), mode) for name, mode in FILES.items()}
    contents[CHROMIUM_POLICY_PATH] = (policy_bytes(settings.url, policy["lockdown"]["chromium_extra"]), 0o644)
    written = []
    for relative, (data, mode) in contents.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)
        written.append(target)
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {relative}\n"
                       for relative, (data, _) in sorted(contents.items()))
    (out / MANIFEST).write_text(manifest)
    written.append(out / MANIFEST)
    return written

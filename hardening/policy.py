"""The hardening policy: which checks run with which thresholds, and which failures block.

A policy is a small YAML document. The shipped ``default`` policy is complete; a site policy
overrides whole keys inside sections and inherits the rest, so a centre can tighten one threshold
without copying the file. Unknown sections and keys are refused: a misspelt key in a security
policy must fail loudly instead of silently keeping a weaker default.

The exact bytes of the policy file are kept (``Policy.source_bytes``) because the release
attestation measures them together with the code.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from collections.abc import Callable, Mapping

import yaml

from hardening.errors import PolicyError

STATUSES = ("pass", "warn", "fail")
POLICY_MAX_BYTES = 256 * 1024
BUILTIN_POLICIES = ("default", "development")

Validator = Callable[[str, Any], Any]


def _number(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise PolicyError(field, f"must be a non-negative number, got {value!r}")
    return float(value)


def _count(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyError(field, f"must be a non-negative integer, got {value!r}")
    return value


def _status(field: str, value: Any) -> str:
    if value not in STATUSES:
        raise PolicyError(field, f"must be one of {', '.join(STATUSES)}, got {value!r}")
    return value


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 4096:
        raise PolicyError(field, f"must be a non-empty string, got {value!r}")
    return value


def _text_list(field: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise PolicyError(field, "must be a list of strings")
    return tuple(_text(f"{field}[{i}]", item) for i, item in enumerate(value))


def _text_map(field: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise PolicyError(field, "must be a mapping of strings to strings")
    return {_text(field, key): _text(f"{field}.{key}", item) for key, item in value.items()}


def _sha256_map(field: str, value: Any) -> dict[str, str]:
    result = _text_map(field, value)
    for digest in result:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise PolicyError(f"{field}.{digest}", "must be a lower-case hex SHA-256")
    return result


def _json_map(field: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise PolicyError(field, "must be a mapping with string keys")
    return value


SCHEMA: dict[str, dict[str, Validator]] = {
    "virtualisation": {"dmi_markers": _text_list, "mac_prefixes": _text_map, "container": _status},
    "processes": {"names": _text_map, "sha256": _sha256_map, "cmdline_markers": _text_list},
    "displays": {"max": _count, "none_found": _status},
    "cameras": {"virtual_markers": _text_list, "missing": _status},
    "tracer": {"preload": _status},
    "clock_skew": {"warn_seconds": _number, "fail_seconds": _number, "unmeasured": _status,
                   "timeout_seconds": _number},
    "network": {"tunnel_prefixes": _text_list, "tunnel": _status, "max_default_routes": _count,
                "extra_default_routes": _status, "wireless_up": _status},
    "user": {"root": _status},
    "removable_storage": {"mounted": _status},
    "lockdown": {"shortcuts": _text_list, "chromium_extra": _json_map, "chromium_binary": _text,
                 "policy_dir": _text, "journal": _text, "screen_reader_command": _text_list},
}
CHECK_NAMES = tuple(name for name in SCHEMA if name != "lockdown")


@dataclass(frozen=True)
class Policy:
    """A validated policy: ``sections[section][key]`` plus the bytes it was read from."""

    name: str
    source_bytes: bytes
    blocking: frozenset[str]
    sections: Mapping[str, Mapping[str, Any]]

    def __getitem__(self, section: str) -> Mapping[str, Any]:
        return self.sections[section]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source_bytes).hexdigest()


def _parse_yaml(data: bytes, source: str) -> dict[str, Any]:
    if len(data) > POLICY_MAX_BYTES:
        raise PolicyError(source, f"policy file of {len(data)} bytes exceeds {POLICY_MAX_BYTES}")
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PolicyError(source, f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise PolicyError(source, "policy must be a YAML mapping")
    if doc.get("version") != 1:
        raise PolicyError("version", f"must be 1, got {doc.get('version')!r}")
    return doc


def _builtin_bytes(name: str) -> bytes:
    return resources.files("hardening.policies").joinpath(f"{name}.yaml").read_bytes()


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if key in ("version", "blocking"):
            merged[key] = value
        elif key not in SCHEMA:
            raise PolicyError(key, f"unknown section (known: {', '.join(SCHEMA)})")
        elif not isinstance(value, dict):
            raise PolicyError(key, "section must be a mapping")
        else:
            merged[key].update(value)
    return merged


def _validate(doc: dict[str, Any]) -> tuple[frozenset[str], dict[str, dict[str, Any]]]:
    blocking = _text_list("blocking", doc.get("blocking", []))
    for name in blocking:
        if name not in CHECK_NAMES:
            raise PolicyError("blocking", f"{name!r} is not a check (known: {', '.join(CHECK_NAMES)})")
    sections: dict[str, dict[str, Any]] = {}
    for section, keys in SCHEMA.items():
        values = doc.get(section, {})
        for key in values:
            if key not in keys:
                raise PolicyError(f"{section}.{key}", f"unknown key (known: {', '.join(keys)})")
        missing = [key for key in keys if key not in values]
        if missing:
            raise PolicyError(section, f"missing keys: {', '.join(missing)}")
        sections[section] = {key: check(f"{section}.{key}", values[key]) for key, check in keys.items()}
    if sections["clock_skew"]["warn_seconds"] > sections["clock_skew"]["fail_seconds"]:
        raise PolicyError("clock_skew.warn_seconds", "must not exceed fail_seconds")
    return frozenset(blocking), sections


def load_policy(source: str | Path | None = None) -> Policy:
    """Load a builtin policy by name (``default``, ``development``) or a site policy file.

    A site file is laid over the default policy; its bytes are what gets measured.
    """
    source = "default" if source is None else str(source)
    default_doc = _parse_yaml(_builtin_bytes("default"), "default")
    if source in BUILTIN_POLICIES:
        data = _builtin_bytes(source)
        name = source
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > POLICY_MAX_BYTES:
                raise PolicyError(str(path), f"policy file of {size} bytes exceeds {POLICY_MAX_BYTES}")
            data = path.read_bytes()
        except OSError as exc:
            raise PolicyError(str(path), f"cannot read policy file: {exc.strerror}") from None
        name = str(path)
    doc = _merge(default_doc, _parse_yaml(data, name))
    blocking, sections = _validate(doc)
    return Policy(name=name, source_bytes=data, blocking=blocking, sections=sections)

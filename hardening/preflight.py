"""Run every preflight check and decide whether an exam may start on this machine."""

from __future__ import annotations

import ssl
import sys
from dataclasses import dataclass
from typing import Any

from hardening.checks import ALL_CHECKS, FAIL, CheckResult, check_clock_skew
from hardening.host import Host
from hardening.policy import Policy, load_policy


def current_host() -> Host:
    """The host implementation for the running operating system.

    It lives here, beside its one caller, and not in ``hardening.host``: the interface module must
    not import its own implementations (that was an import circle host <-> linux).
    """
    if sys.platform.startswith("linux"):
        from hardening.linux import LinuxHost

        return LinuxHost()
    raise NotImplementedError(f"hardening has no host implementation for {sys.platform}")


@dataclass
class PreflightReport:
    checks: list[CheckResult]
    blocking: list[str]

    @property
    def ok(self) -> bool:
        return not self.blocking

    def to_dict(self) -> dict[str, Any]:
        return {"checks": [check.to_dict() for check in self.checks], "blocking": self.blocking}


def run_preflight(policy: Policy | None = None, host: Host | None = None,
                  console: str | None = None, cafile: str | None = None,
                  context: ssl.SSLContext | None = None) -> PreflightReport:
    """All checks, in a fixed order; a check that raises fails with the error as its evidence."""
    policy = policy or load_policy()
    host = host or current_host()
    results = []
    for name, check in ALL_CHECKS.items():
        try:
            if check is check_clock_skew:
                result = check(host, policy, console=console, cafile=cafile, context=context)
            else:
                result = check(host, policy)
        except Exception as exc:  # noqa: BLE001 - fail closed, and say why
            error = f"{type(exc).__name__}: {exc}"
            result = CheckResult(name, FAIL, {"summary": f"check failed: {error}", "error": error})
        results.append(result)
    blocking = [r.name for r in results if r.status == FAIL and r.name in policy.blocking]
    return PreflightReport(results, blocking)

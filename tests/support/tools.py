"""Where the repository is, and what a test does when a tool it needs is missing.

A missing tool (Xvfb, Chromium, espeak-ng, ...) makes its tests *skip* on a developer's machine,
with the command that installs it, but *fail* in CI (``CI=true``), where a skipped suite would
pass silently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    """True in CI, where a missing tool must fail the run instead of skipping tests."""
    return os.environ.get("CI", "").lower() == "true"


def missing_tool(what: str, install: str) -> NoReturn:
    """Skip the test on a developer's machine, fail it in CI; ``install`` says how to fix it."""
    message = f"{what} is not installed ({install}; scripts/test installs it)"
    if in_ci():
        pytest.fail(f"CI: {message}", pytrace=False)
    pytest.skip(message)

"""Fixtures of the central body's tests: the shared QTI samples and an initialised central body
driven through its real CLI (helpers in tests/support/central_cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.central_cli import SAMPLES, Central


@pytest.fixture(scope="session")
def samples() -> Path:
    """../shared/qti-samples next to the repository; skipped with the reason when absent."""
    if not SAMPLES.is_dir():
        pytest.skip(f"QTI samples not found at {SAMPLES.resolve()} (the repo's ../shared/qti-samples); "
                    "they are shared material, not part of the repository")
    return SAMPLES.resolve()


@pytest.fixture
def central(tmp_path: Path) -> Central:
    """A freshly initialised central body (x25519 results key: quicker, same code paths)."""
    c = Central(tmp_path / "central")
    c.json("init", "--body-id", "test-body", "--name", "Test Body")
    return c

"""Fixtures for exam_core tests: keys are generated once per session (ML-KEM keygen is not free)."""

from __future__ import annotations

import pytest

from exam_core import keys


def _session_key(make):
    return pytest.fixture(scope="session")(lambda: make())


signing_key = _session_key(keys.generate_signing_key)
other_signing_key = _session_key(keys.generate_signing_key)
hpke_key = _session_key(keys.generate_hpke_key)
other_hpke_key = _session_key(keys.generate_hpke_key)
x25519_key = _session_key(lambda: keys.generate_hpke_key(keys.SUITE_X25519))


@pytest.fixture(scope="session")
def pki():
    from tests.support.pki import make_pki
    return make_pki()

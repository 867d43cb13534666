"""Fixtures of this folder, defined in tests/support (the tests import their helpers from there)."""

from tests.support.public_site import site  # noqa: F401 - pytest finds fixtures by name here

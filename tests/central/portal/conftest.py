"""Fixtures of this folder, defined in tests/support (the tests import their helpers from there)."""

from tests.support.portal_site import portal  # noqa: F401 - pytest finds fixtures by name here

"""Fixtures of the sync tests: a real console, a central world enrolled for it, and the hub serving
that world over HTTPS on 127.0.0.1 (tests/support/central_sync.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from proctor_console.context import ConsoleContext
from tests.support.central_sync import Hub
from tests.support.central_world import CENTRE_ID, World, build_world


@pytest.fixture
def console(tmp_path) -> ConsoleContext:
    ctx = ConsoleContext(tmp_path / "console")
    ctx.initialise(CENTRE_ID, "Centre One")
    return ctx


@pytest.fixture
def world(tmp_path, console: ConsoleContext) -> World:
    w = build_world(tmp_path / "central", centre=console.signing_key, centre_hpke=console.hpke_key)
    console.install_certificate(w.pki.centre_cert, w.pki.root_cert)
    return w


@pytest.fixture
def hub(world: World) -> Iterator[Hub]:
    h = Hub(world.data_dir, tls=True)
    yield h
    h.stop()

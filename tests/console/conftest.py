"""Console fixtures: a certified console set up with its own CLI, the in-process app over it, and
the real server process.

The world they build (central body, console data directory, running console, simulated kiosks) is
described in ``tests/support/console_world.py``.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Iterator

import pytest

from proctor_console.app import Console, build_console
from proctor_console.context import ConsoleContext
from tests.support.console_world import (Central, ConsoleSetup, RunningConsole, make_central, make_console,
                                         set_up_console, start_console)


@pytest.fixture(scope="session")
def central() -> Central:
    return make_central()


@pytest.fixture(scope="module")
def console_setup(tmp_path_factory: pytest.TempPathFactory, central: Central) -> ConsoleSetup:
    """An initialised, certified console with users, a roster and one open package ``pkg-open``.

    Module-scoped (set-up runs eight CLI processes): tests in a module share it and use their own
    kiosk ids.
    """
    return set_up_console(tmp_path_factory.mktemp("console"), central)


@pytest.fixture(scope="module")
def server(console_setup: ConsoleSetup) -> Console:
    """The console app built in-process over ``console_setup`` (threading mode, no sockets): routes
    through Flask's test client, services directly."""
    return build_console(ConsoleContext(console_setup.data), async_mode="threading")


@pytest.fixture
def bare_console(tmp_path: Path, central: Central) -> ConsoleSetup:
    """A certified console of its own, made in-process (no users, roster or package)."""
    return make_console(tmp_path, central)


@pytest.fixture(scope="module")
def running_console(console_setup: ConsoleSetup) -> Iterator[RunningConsole]:
    server = start_console(console_setup.data, console_setup.data.parent)
    try:
        yield RunningConsole(console_setup, server)
    finally:
        server.stop()

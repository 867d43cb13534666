"""The fault suite's world: a central body and a serving test centre, stopped whatever happens."""

from __future__ import annotations

import signal

import pytest

from tests.support.demo_run import kill_leftovers
from tests.support.faults_world import build_world


@pytest.fixture
def world(tmp_path):
    demo = build_world(tmp_path / "run")
    yield demo
    for node in demo.supervisor.nodes:
        node.signal_group(signal.SIGCONT)  # a test may have left the console stopped
    demo.supervisor.stop_all()
    if demo.proctor is not None:
        demo.proctor.close()
    kill_leftovers(tmp_path / "run")

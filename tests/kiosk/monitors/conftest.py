"""Fixtures of the monitor tests: real photographs, the real detectors, a scripted clock."""

from __future__ import annotations

import pytest

from kiosk.monitors.clock import ManualClock
from kiosk.monitors.config import WebcamThresholds
from kiosk.monitors.detectors import HaarDetector, YuNetDetector
from kiosk.monitors.events import MonitorEvent
from tests.support.monitors import YUNET_MODEL, YUNET_SHA256


@pytest.fixture(scope="session")
def haar() -> HaarDetector:
    return HaarDetector()


@pytest.fixture(scope="session")
def yunet() -> YuNetDetector:
    if not YUNET_MODEL.is_file():
        pytest.skip(f"YuNet model not found at {YUNET_MODEL} (it ships in no wheel; see "
                    "../shared/models/README.md)")
    return YuNetDetector(str(YUNET_MODEL), YUNET_SHA256)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def thresholds() -> WebcamThresholds:
    return WebcamThresholds()


class Recorder:
    """An event sink that keeps what it is given (the kiosk's outbox does this durably)."""

    def __init__(self) -> None:
        self.events: list[MonitorEvent] = []

    def __call__(self, event) -> None:
        self.events.append(event)

    def of(self, type_: str, state: str | None = None) -> list:
        return [e for e in self.events if e.type == type_ and (state is None or e.state == state)]

    def types(self) -> list[str]:
        return [e.type for e in self.events]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()

"""The kiosk tests' world: ``simulators.trust_world.TrustWorld`` around a real kiosk ``Device`` in
the test's data directory, the kiosk runtime over it, and the sample form as the kiosk holds it.

The trust world and the sample form live in ``simulators/`` because the kiosk benchmark uses them
too (bench never imports tests); what needs the kiosk package itself is here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.content import FormBundle
from kiosk.device import Device
from kiosk.runtime import KeyOpener, KioskRuntime
from kiosk.session import ExamSession
from simulators.forms import make_content
from simulators.trust_world import TrustWorld


class World(TrustWorld[Device]):
    """A trust world whose kiosk is a real ``Device`` kept in ``data_dir`` (kiosk id ``K01``)."""

    def __init__(self, data_dir: Path, kiosk_id: str = "K01", attempt_id: str = "ATT1",
                 content: Any = None, **accommodations: Any) -> None:
        super().__init__(Device.load_or_create(data_dir, kiosk_id), attempt_id, content, **accommodations)


def make_runtime(world: World, data_dir: Path, **kwargs: Any) -> KioskRuntime:
    """The kiosk runtime over the world's device, as ``kiosk run`` builds it."""
    return KioskRuntime(data_dir, world.device.kiosk_id, KeyOpener(world.device.unwrap, world.device.decrypt),
                        world.device, **kwargs)


def start_exam(runtime: KioskRuntime, world: World) -> ExamSession:
    """Admit, cache the package, confirm identity, release the key, accept and begin: the live session."""
    assert runtime.handle_command(world.admit()).ok
    runtime.store_package("P1", world.package_bytes)
    runtime.confirm_identity()
    ack = runtime.handle_command(world.release())
    assert ack.ok, ack.reason
    session = runtime.require_session()
    session.accept_agreement()
    session.begin()
    return session


def make_bundle(**kwargs: Any) -> FormBundle:
    """The sample form (``simulators.forms.make_content(**kwargs)``) as the kiosk holds it once opened."""
    content, media = make_content(**kwargs)
    return FormBundle(content, media)

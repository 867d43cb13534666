"""How ``kiosk run`` assembles its parts: monitors feeding the outbox and the heartbeat, device files."""

from __future__ import annotations

import json
import stat
import time

from kiosk.app import KioskOptions, _monitors

from tests.support.kiosk_world import World, make_runtime


def test_monitor_events_go_to_the_outbox_and_thumbnails_to_the_heartbeat(tmp_path):
    world = World(tmp_path)
    runtime = make_runtime(world, tmp_path)
    hub = _monitors(KioskOptions(data_dir=str(tmp_path), camera="synthetic"), runtime)
    try:
        assert hub is not None
        deadline = time.monotonic() + 15
        while runtime.thumbnail_b64 is None and time.monotonic() < deadline:
            time.sleep(0.1)
        beat = runtime.heartbeat()
        assert beat.thumbnail_jpeg and runtime.heartbeat().thumbnail_jpeg is None  # sent once
        types = [json.loads(e.body)["type"] for e in runtime.outbox.pending()]
        assert "monitor.started" in types
        assert runtime.handle_command(world.admit()).ok
        assert hub.events.attempt_id == "ATT1"  # events are stamped with the admitted attempt
    finally:
        hub.stop()


def test_device_keys_are_private_files(tmp_path):
    World(tmp_path)
    device_dir = tmp_path / "device"
    assert stat.S_IMODE(device_dir.stat().st_mode) == 0o700
    for name in ("signing.key", "hpke.key", "kiosk.cert", "centre.cert", "central.cert", "pairing.json"):
        assert stat.S_IMODE((device_dir / name).stat().st_mode) == 0o600, name

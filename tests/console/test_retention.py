"""Retention of webcam thumbnails and evidence snapshots: the period, and the purge."""

from __future__ import annotations

import os
import time

import pytest

from proctor_console import services
from proctor_console.context import ConsoleContext
from proctor_console.errors import InvalidRequest
from proctor_console.retention import DEFAULT_PHOTO_RETENTION_DAYS
from tests.support.console_world import ConsoleSetup


def test_retention_purges_old_media(bare_console: ConsoleSetup) -> None:
    ctx = ConsoleContext(bare_console.data)
    old = ctx.media_dir / "snapshots" / "kiosk-x-1.jpg"
    new = ctx.media_dir / "thumbnails" / "kiosk-x.jpg"
    old.write_bytes(b"\xff\xd8old")
    new.write_bytes(b"\xff\xd8new")
    os.utime(old, (time.time() - 40 * 86400,) * 2)
    removed = services.retention(ctx).purge("test", days=30)
    assert removed == {"thumbnails": 0, "snapshots": 1, "photos": 0} and not old.exists() and new.exists()


def test_the_period_is_kept_checked_and_audited(bare_console: ConsoleSetup) -> None:
    ctx = ConsoleContext(bare_console.data)
    retention = services.retention(ctx)
    assert retention.days() == 30
    retention.set_days(7, "admin")
    assert services.retention(ctx).days() == 7
    for days in (0, 3651):
        with pytest.raises(InvalidRequest, match="1 to 3650"):
            retention.set_days(days, "admin")
    assert [(e.actor, e.action, e.data) for e in ctx.audit.entries() if e.action == "retention.set"] == [
        ("admin", "retention.set", {"days": 7})]


def test_the_photo_period_is_kept_checked_and_audited(bare_console: ConsoleSetup) -> None:
    ctx = ConsoleContext(bare_console.data)
    retention = services.retention(ctx)
    assert retention.photo_days() == DEFAULT_PHOTO_RETENTION_DAYS == 7
    retention.set_photo_days(2, "admin")
    assert services.retention(ctx).photo_days() == 2
    for days in (0, 366):
        with pytest.raises(InvalidRequest, match="1 to 365"):
            retention.set_photo_days(days, "admin")
    assert [(e.actor, e.data) for e in ctx.audit.entries() if e.action == "retention.set_photos"] == [
        ("admin", {"days": 2})]

"""Form package import: the manifest signature and the centre are checked before anything is kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exam_core.timestamps import utc_now
from exam_core.package import build_form_package
from proctor_console import services
from proctor_console.context import ConsoleContext
from proctor_console.errors import Conflict, InvalidRequest
from tests.support.console_world import ConsoleSetup, make_package


def test_package_import_refuses_tampered_and_foreign(bare_console: ConsoleSetup) -> None:
    ctx = ConsoleContext(bare_console.data)
    packages = services.packages(ctx)
    data = bytearray(make_package(bare_console, "pkg-open").read_bytes())
    index = data.find(b"Form 1")
    data[index] ^= 0x20
    with pytest.raises(InvalidRequest):
        packages.import_package(bytes(data), "tampered.zip", "test")
    foreign, _ = build_form_package(b"x", package_id="pkg-foreign", form_id="f", form_version=1, scheme_id="scheme-a",
                                    centre_id="centre-2", opens=utc_now(), closes=utc_now() + timedelta(hours=1),
                                    signing_key=bare_console.central.key,
                                    centre_hpke_public=ctx.hpke_key.public_key())
    with pytest.raises(InvalidRequest, match="centre-2"):
        packages.import_package(foreign, "foreign.zip", "test")
    assert packages.listing() == [] and "package.import" not in [e.action for e in ctx.audit.entries()]


def test_a_package_is_kept_whole_and_reloaded_only_unchanged(bare_console: ConsoleSetup) -> None:
    ctx = ConsoleContext(bare_console.data)
    packages = services.packages(ctx)
    data = make_package(bare_console, "pkg-open").read_bytes()
    imported = packages.import_package(data, "pkg-open.zip", "admin")
    assert imported["package_id"] == "pkg-open" and not imported["duplicate"]
    assert packages.import_package(data, "again.zip", "admin")["duplicate"]
    assert [p["package_id"] for p in packages.listing()] == ["pkg-open"]
    package, stored = packages.load("pkg-open")
    assert package.manifest.package_id == "pkg-open" and stored["size"] == len(data)
    path, _, _ = packages.stored_file("pkg-open")
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(Conflict, match="changed since import"):
        packages.load("pkg-open")
    assert ("admin", "package.import") in [(e.actor, e.action) for e in ctx.audit.entries()]

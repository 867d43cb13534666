"""The certificate and recertification staff pages' world: a holder's certificate (tests/support/
recert_world.py: the attempt passed the real way, the holder a registry person through a booking),
the staff application and the public site (a real process, ``python -m item_bank_sync public``)
over the same central body, and a forged POST that carries a signed-in page's own CSRF token (to
show a service refuses what a page does not offer)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from item_bank_sync.certificates.settings import IssuerSettings, save_settings
from tests.support.central_db import central_db, execute
from tests.support.public_site import pinned_context
from tests.support.recert_world import Held, holder_world
from tests.support.staff_web import StaffWeb

#: Staff accounts (sign-in names) that proctored and marked the holder's attempt: :func:`involve`
#: records them on it beside the world's own proctor and markers, whose names have spaces.
INVOLVED = {"pat.proctor": "proctor", "mia.marker": "marker"}


def involve(held: Held) -> None:
    """Record :data:`INVOLVED` on the holder's attempt, as intake and marking record their people."""
    for person, role in INVOLVED.items():
        execute(central_db(held.passed.world.data_dir).results, "INSERT INTO attempt_roles (attempt_id, person, role) "
                "VALUES (?, ?, ?)", held.passed.attempt_id, person, role)


@dataclass
class Public:
    """The public site of the body on ``url`` (trusting exactly the body's certificate)."""

    url: str
    tls: Any

    def verification(self, certificate_id: str) -> dict[str, Any]:
        """The verification JSON a verifier gets for a certificate id."""

        with urllib.request.urlopen(f"{self.url}/api/v1/certificates/{certificate_id}", context=self.tls,
                                    timeout=10) as response:
            return json.loads(response.read())


def public_site(held: Held, live_server: Any, port: int) -> Public:
    """Start the public site over the holder's body on ``port`` (stopped by ``live_server``)."""
    url = f"https://127.0.0.1:{port}"
    save_settings(held.ctx, IssuerSettings(public_url=url))
    data_dir = held.passed.world.data_dir
    live_server("item_bank_sync", "--data", str(data_dir), "public", "--port", "{port}", port=port)
    return Public(url, pinned_context(data_dir / "tls" / "sync.crt"))


def forged_post(page: Any, path: str, fields: dict[str, str]) -> tuple[int, str]:
    """POST ``fields`` to ``path`` from the page with its session's CSRF token (the sign-out form's):
    what a person could send without the page's form; returns status and body text."""
    return tuple(page.evaluate("""async ([path, fields]) => {
        const body = new URLSearchParams(fields);
        body.set('csrf', document.querySelector('input[name=csrf]').value);
        const r = await fetch(path, {method: 'POST', body, redirect: 'manual'});
        return [r.status, await r.text()];
    }""", [path, fields]))


@pytest.fixture(name="held")
def held_fixture(tmp_path: Path) -> Iterator[Held]:
    """The holder's body (tests/support/recert_world.py) with :data:`INVOLVED` on the attempt."""
    made = holder_world(tmp_path)
    involve(made)
    try:
        yield made
    finally:
        made.ctx.close()


@pytest.fixture(name="staff_web")
def staff_web_fixture(held: Held) -> Iterator[StaffWeb]:
    """The staff application over the holder's body (replaces tests/central/web/conftest.py's)."""
    web = StaffWeb(held.passed.world.data_dir)
    try:
        yield web
    finally:
        web.close()

"""Key release: the package window, the release code, conflicts of interest, and the audit chain
(through the proctor actions, in-process: what they check does not depend on the transport)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from proctor_console.accounts import User
from proctor_console.app import Console
from proctor_console.errors import Conflict, ConsoleError, Forbidden
from tests.support.console_world import ADMIN, PROCTOR, PROCTOR2, ConsoleSetup, make_package, pair_kiosk


def test_key_release_window_release_code_and_conflicts(server: Console, console_setup: ConsoleSetup) -> None:
    later = make_package(console_setup, "pkg-later", opens_in=timedelta(hours=2), closes_in=timedelta(hours=5))
    coded = make_package(console_setup, "pkg-coded", release_code=True)
    for path in (later, coded):
        server.core.packages.import_package(path.read_bytes(), path.name, "test")
    paula, peter, admin = User(PROCTOR, "proctor"), User(PROCTOR2, "proctor"), User(ADMIN, "centre_admin")
    actions = server.actions
    pair_kiosk(server.registry, "kiosk-w1")
    pair_kiosk(server.registry, "kiosk-w2")

    actions.perform(paula, {"type": "admit", "kiosk_id": "kiosk-w1", "candidate_id": "cand-1",
                            "package_id": "pkg-later", "identity_checked": True})
    with pytest.raises(Conflict, match="opens at"):
        actions.perform(paula, {"type": "start", "kiosk_id": "kiosk-w1"})
    assert "key.release_refused" in [e.action for e in server.ctx.audit.entries()]

    actions.perform(paula, {"type": "declare_conflict", "candidate_id": "cand-2", "reason": "my cousin"})
    admit = {"type": "admit", "kiosk_id": "kiosk-w2", "candidate_id": "cand-2", "package_id": "pkg-coded",
             "identity_checked": True}
    with pytest.raises(Forbidden, match="conflict of interest"):
        actions.perform(paula, admit)
    actions.perform(peter, admit)
    with pytest.raises(Conflict, match="release code"):
        actions.perform(peter, {"type": "start", "kiosk_id": "kiosk-w2"})
    with pytest.raises(Forbidden, match="centre admin"):
        actions.perform(peter, {"type": "release_code", "package_id": "pkg-coded", "code": "x"})
    with pytest.raises(ConsoleError, match="refused"):
        actions.perform(admin, {"type": "release_code", "package_id": "pkg-coded", "code": "2345-6789-ABCD-EFGH"})
    actions.perform(admin, {"type": "release_code", "package_id": "pkg-coded",
                            "code": console_setup.release_codes["pkg-coded"]})
    with pytest.raises(Forbidden, match="conflict of interest"):
        actions.perform(paula, {"type": "start", "kiosk_id": "kiosk-w2"})
    with pytest.raises(Forbidden, match="centre admin"):
        actions.perform(peter, {"type": "override_conflict", "proctor": PROCTOR, "candidate_id": "cand-2",
                                "reason": "x"})
    actions.perform(admin, {"type": "override_conflict", "proctor": PROCTOR, "candidate_id": "cand-2",
                            "reason": "no other proctor in the room"})
    started = actions.perform(paula, {"type": "start", "kiosk_id": "kiosk-w2"})
    body = json.loads(server.ctx.db.execute("SELECT body FROM commands WHERE command_id = ?",
                                            [started["command_id"]]).fetchone()[0])
    assert body["type"] == "start" and body["args"]["wrapped_key"]
    audit = [(e.actor, e.action) for e in server.ctx.audit.entries()]
    assert (ADMIN, "conflict.override") in audit and (PROCTOR, "key.release") in audit
    server.ctx.audit.checkpoint(server.ctx.signing_key)
    assert server.ctx.audit.verify(server.ctx.signing_key.public_key()).entries == len(audit)

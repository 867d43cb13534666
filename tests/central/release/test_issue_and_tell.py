"""Certificates issued at release and the one e-mail on release (issue 17, items 1 and 2): a pass
decision alone issues nothing; releasing the pass issues once (again or after a stopped release:
still once); a decision on a result already released issues at once; the public site verifies the
certificate only once released; the candidate gets one mail through a real SMTP relay on the
loopback (aiosmtpd) without the score, and a relay that refuses is recorded and retried, never
doubled."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from exam_core.timestamps import utc_text
from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.certificates.schema import certificates
from item_bank_sync.certificates.settings import IssuerSettings, save_settings
from item_bank_sync.mail import MailSettings
from item_bank_sync.mail import save_settings as save_mail
from item_bank_sync.release.holds import ReleaseRefused, release
from item_bank_sync.release.issuing import decide
from item_bank_sync.release.notices import not_told
from tests.support.central_certificates import pass_attempt
from tests.support.central_db import audit_of, central_db, execute
from tests.support.central_release import FAILED, PASSED, Results, book_person, results_world
from tests.support.central_world import CENTRE_ID
from tests.support.portal_site import Inbox, body_text
from tests.support.ports import find_free_port
from tests.support.public_site import pinned_context
from tests.support.recert_world import CANDIDATE, holder_world

RELEASER = "Rita Releaser"
EMAIL = "ann@example.org"


@pytest.fixture
def results(tmp_path) -> Iterator[Results]:
    r = results_world(tmp_path / "central")
    yield r
    r.ctx.close()


def issued_for(results: Results, attempt_id: str) -> int:
    with results.ctx.open_bank_db().connect() as conn:
        return int(conn.execute(select(func.count()).where(certificates.c.attempt_id == attempt_id)).scalar_one())


def audited(results: Results, action: str) -> list[dict[str, Any]]:
    return [e.data for e in audit_of(results.world.data_dir).entries() if e.action == action]


def test_a_pass_is_certified_at_release_once_and_a_decision_after_release_issues_at_once(results):
    ctx = results.ctx
    recorded = decide(ctx, PASSED, "Dee Decider", "pass", "confirmed on review")
    assert recorded.certificate_id is None and issued_for(results, PASSED) == 0
    done = release(ctx, RELEASER, "results day", centre=CENTRE_ID)
    cid = done.settled.certificates[PASSED]
    assert FAILED not in done.settled.certificates and issued_for(results, PASSED) == 1
    assert CertificateRegistry(ctx).get(cid).issued_by == "rita releaser"
    with pytest.raises(ReleaseRefused, match="no unreleased attempt"):
        release(ctx, RELEASER, "results day again", centre=CENTRE_ID)
    assert issued_for(results, PASSED) == 1 and [d["attempt_id"] for d in audited(results, "certificate.issue")] \
        == [PASSED]
    CertificateRegistry(ctx).withdraw(cid, "Sam Supervisor", "appeal upheld against the pass")
    again = decide(ctx, PASSED, "Dee Decider", "pass", "appeal re-score confirms the pass")
    assert again.certificate_id not in (None, cid) and issued_for(results, PASSED) == 2


def test_a_retry_finishes_a_release_that_stopped_before_issuing_and_issues_once(results):
    pass_attempt(results.world, "att-3")
    execute(central_db(results.world.data_dir).results,      # what a release stopped after its own commit leaves
            "INSERT INTO result_releases (attempt_id, released_by, reason, released_at) VALUES (?, ?, ?, ?)",
            "att-3", "rita releaser", "results day", utc_text())
    assert issued_for(results, "att-3") == 0
    done = release(results.ctx, RELEASER, "results day (retry)", attempt_id="att-3")
    assert done.released == () and "att-3" in done.settled.certificates and done.settled.told == {"att-3": "no_address"}
    with pytest.raises(ReleaseRefused):
        release(results.ctx, RELEASER, "results day (retry)", attempt_id="att-3")
    assert issued_for(results, "att-3") == 1


def test_the_public_site_verifies_the_certificate_only_once_released(tmp_path, live_server):
    port = find_free_port()
    url = f"https://127.0.0.1:{port}"
    results = results_world(tmp_path / "central")
    try:
        save_settings(results.ctx, IssuerSettings(public_url=url))
        live_server("item_bank_sync", "--data", str(results.world.data_dir), "public", "--port", "{port}", port=port)
        tls = pinned_context(results.world.data_dir / "tls" / "sync.crt")
        assert CertificateRegistry(results.ctx).listing() == []       # decided pass, nothing to verify yet
        cid = release(results.ctx, RELEASER, "results day", attempt_id=PASSED).settled.certificates[PASSED]
        with urllib.request.urlopen(f"{url}/api/v1/certificates/{cid}", context=tls, timeout=10) as answer:
            assert json.loads(answer.read())["status"] == "valid"
    finally:
        results.ctx.close()


@pytest.fixture
def relay() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), find_free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_one_mail_without_the_score_after_a_double_release(results, relay):
    inbox, port = relay
    book_person(results, PASSED, EMAIL)
    save_mail(results.world.data_dir, MailSettings("127.0.0.1", port, "results@body.example"))
    done = release(results.ctx, RELEASER, "results day", centre=CENTRE_ID)
    assert done.settled.told == {PASSED: "sent", FAILED: "no_address"}
    with pytest.raises(ReleaseRefused):
        release(results.ctx, RELEASER, "results day", centre=CENTRE_ID)
    [mail] = inbox.to(EMAIL)
    text = body_text(mail)
    assert "/portal/results" in text and "appeal" in text and mail["Subject"].endswith("result is available")
    assert "6 of 7" not in text and "pass" not in text.lower() and "score:" not in text.lower()
    assert len(inbox.to(EMAIL, timeout=1, count=2)) == 1
    assert [n["attempt_id"] for n in not_told(results.ctx)] == [FAILED]
    assert audited(results, "results.notify") == [{"attempts": sorted([FAILED, PASSED]), "sent": [PASSED]}]
    assert EMAIL not in json.dumps(audited(results, "results.notify"))


def test_a_refused_mail_is_recorded_and_a_retry_sends_it_once(results):
    book_person(results, PASSED, EMAIL)
    port = find_free_port()                          # nothing listens yet: the relay refuses
    save_mail(results.world.data_dir, MailSettings("127.0.0.1", port, "results@body.example"))
    done = release(results.ctx, RELEASER, "results day", attempt_id=PASSED)
    assert done.settled.told == {PASSED: "failed"}
    assert [(n["attempt_id"], n["status"]) for n in not_told(results.ctx)] == [(PASSED, "failed")]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        again = release(results.ctx, RELEASER, "tell the candidate again", attempt_id=PASSED)
        assert again.released == () and again.settled.told == {PASSED: "sent"}
        with pytest.raises(ReleaseRefused):
            release(results.ctx, RELEASER, "and again", attempt_id=PASSED)
        assert len(inbox.to(EMAIL, timeout=1, count=2)) == 1
    finally:
        controller.stop()
    assert not_told(results.ctx) == []


def test_a_released_pass_on_a_re_examination_renews_the_holders_certificate_instead(tmp_path):
    held = holder_world(tmp_path)
    try:
        pass_attempt(held.passed.world, "att-2", decided=False)
        execute(central_db(held.passed.world.data_dir).results,
                "UPDATE attempts SET candidate_id = ? WHERE attempt_id = ?", CANDIDATE, "att-2")
        assert decide(held.ctx, "att-2", "Dee Decider", "pass", "at or above the cut").certificate_id is None
        done = release(held.ctx, RELEASER, "results day", attempt_id="att-2")
        assert done.settled.certificates == {"att-2": held.cert.certificate_id}
        with held.ctx.open_bank_db().connect() as conn:
            assert conn.execute(select(func.count()).select_from(certificates)).scalar_one() == 1
        with pytest.raises(ReleaseRefused):             # a retry neither renews again nor issues
            release(held.ctx, RELEASER, "results day", attempt_id="att-2")
        assert [h["action"] for h in held.passed.registry().history(held.cert.certificate_id)] == ["issue", "renew"]
    finally:
        held.ctx.close()

"""Page-versus-CLI parity of ``recert renew``: the staff page's renew action (web/recertification.py)
and the CLI command call the same decision path, so each writes one ``recert.renew`` audit entry with
the same actor and the same fields (the renewal, the certificate, the CPD records it used, the new
end date), and both extend the certificate."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from item_bank_sync.recertification import cpd
from item_bank_sync.registry import actors
from tests.support.body_pages import audit_entries
from tests.support.central_certificates import DECIDER, pass_attempt
from tests.support.central_cli import Central
from tests.support.central_db import central_db, execute
from tests.support.recert_pages import held_fixture, staff_web_fixture  # noqa: F401 - this file's fixtures
from tests.support.recert_world import CANDIDATE, Held

pytestmark = pytest.mark.timeout(300)


def _credits(held: Held, certificate_id: str, valid_from: str) -> list[str]:
    """CPD records that meet the scheme's rule (10 training, 5 practice) for ``certificate_id``."""
    return [cpd.add(held.ctx, actors.candidate(held.person_id), certificate_id, category=category, credits=credits,
                    activity_date=valid_from[:10], description=f"{category} course").record_id
            for category, credits in (("training", 12), ("practice", 8))]


def _second_certificate(held: Held) -> str:
    """Another certificate of the same holder (a second passed attempt, issued)."""
    pass_attempt(held.passed.world, "att-3")
    execute(central_db(held.passed.world.data_dir).results,
            "UPDATE attempts SET candidate_id = ? WHERE attempt_id = ?", CANDIDATE, "att-3")
    return held.passed.registry().issue("att-3", DECIDER).certificate_id


def test_renew_on_the_page_writes_the_audit_entry_the_cli_writes(held, staff_web, signed_in_page) -> None:
    on_page = held.cert.certificate_id
    by_cli = _second_certificate(held)
    page_records = _credits(held, on_page, held.cert.valid_from)
    cli_records = _credits(held, by_cli, held.passed.registry().get(by_cli).valid_from)
    dana = signed_in_page("dana", ("decision_maker",))
    dana.goto(f"{staff_web.url}/recertification/standing/{on_page}")
    dana.get_by_role("button", name="Renew the certificate").click()
    expect(dana.get_by_role("status")).to_contain_text(f"Certificate {on_page} renewed until")
    done = Central(held.passed.world.data_dir).run("recert", "renew", by_cli, "--by", "dana", "--json")
    assert done.exit_code == 0, done.output
    page_entry, cli_entry = audit_entries(held.passed.world.data_dir, "recert.renew")
    assert page_entry["actor"] == cli_entry["actor"] == "dana"
    assert sorted(page_entry["data"]) == sorted(cli_entry["data"])
    assert (page_entry["data"]["certificate_id"], sorted(page_entry["data"]["records"])) == (on_page,
                                                                                            sorted(page_records))
    assert (cli_entry["data"]["certificate_id"], sorted(cli_entry["data"]["records"])) == (by_cli, sorted(cli_records))
    registry = held.passed.registry()
    assert registry.get(on_page).valid_until > held.cert.valid_until
    assert registry.get(by_cli).valid_until == cli_entry["data"]["valid_until"]

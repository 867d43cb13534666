"""The ``certificates`` commands and a pass decision's certificate issued at ``release results``, through the
real CLI (click's runner in-process), and the scheme's certification period in the dates."""

from __future__ import annotations

import json

from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.context import CentralContext
from item_bank_sync.forms.schemes import parse_scheme
from tests.support.central_certificates import DECIDER, MARKERS, PROCTOR, pass_attempt
from tests.support.central_cli import Central
from tests.support.central_db import central_db, execute
from tests.support.central_world import build_world

SCHEME = """format: invigil-scheme/1
id: S1
version: 1
title: Electrical Safety Inspector
duration_minutes: 60
cut_score_percent: 60
certification_period_months: 24
blueprint:
  - {area: wiring, items: 2, title: Domestic wiring}
  - {area: testing, items: 1, title: Inspection and testing}
"""


def test_a_released_pass_issues_and_the_status_commands_act_with_json(tmp_path):
    world = build_world(tmp_path / "central", cut_score=3.0)
    pass_attempt(world, "att-1", "Grace Hopper", decided=False)
    cli = Central(world.data_dir)
    cli.json("certificates", "setup", "--public-url", "https://verify.example.test/", "--by", "Ivy Admin")
    decision = cli.json("decide", "att-1", "--outcome", "pass", "--by", DECIDER, "--reason", "meets the standard")
    assert "certificate_id" not in decision and cli.json("certificates", "list") == []    # issued at release
    released = cli.json("release", "results", "--attempt", "att-1", "--by", "Rita Releaser", "--reason", "results day")
    cid = released["certificates"]["att-1"]
    shown = cli.json("certificates", "show", cid)
    assert shown["holder_name"] == "Grace Hopper" and shown["state"] == "valid" and "jwt" not in shown
    assert shown["verify_url"] == f"https://verify.example.test/verify/{cid}"
    assert cli.run("certificates", "show", cid, "--jwt").output.count(".") == 2
    for person in (PROCTOR, *MARKERS):
        refused = cli.json("certificates", "suspend", cid, "--by", person, "--reason", "complaint",
                           "--until", "2099-01-01", code=1)
        assert "impartiality" in refused["error"]
    assert cli.json("certificates", "suspend", cid, "--by", "Sam Supervisor", "--reason", "complaint",
                    "--until", "2099-01-01")["state"] == "suspended"
    assert [c["certificate_id"] for c in cli.json("certificates", "list", "--state", "suspended")] == [cid]
    assert cli.json("certificates", "restore", cid, "--by", "Sam Supervisor", "--reason", "cleared")["state"] == "valid"
    assert cli.json("certificates", "expire-due", "--by", "Sam Supervisor") == {"expired": [],
                                                                                 "suspensions_overdue": []}
    out = tmp_path / "cert.pdf"
    assert cli.json("certificates", "pdf", cid, "--out", out)["pdf"] == str(out) and out.read_bytes()[:5] == b"%PDF-"
    assert cli.json("certificates", "rotate-key", "--by", "Ivy Admin")["kid"]
    jwks = json.loads(cli.run("certificates", "jwks").output)
    assert len(jwks["keys"]) == 2 and {k["kty"] for k in jwks["keys"]} == {"OKP"}
    assert cli.json("certificates", "withdraw", cid, "--by", "Sam Supervisor", "--reason", "fraud")["state"] == \
        "withdrawn"
    assert cli.json("certificates", "restore", cid, "--by", "Sam Supervisor", "--reason", "no", code=1)["error"]


def test_the_scheme_names_the_period_and_the_scope(tmp_path):
    world = build_world(tmp_path / "central", cut_score=3.0)
    scheme = parse_scheme(SCHEME.encode(), "s.yaml")
    assert scheme.certification_period_months == 24 and scheme.to_dict()["certification_period_months"] == 24
    assert "certification_period_months" not in parse_scheme(SCHEME.replace(
        "certification_period_months: 24\n", "").encode(), "s.yaml").to_dict()
    execute(central_db(world.data_dir).bank, "UPDATE schemes SET title = ?, scheme_json = ? WHERE scheme_id = 'S1'",
            scheme.title, json.dumps(scheme.to_dict()))       # the world's scheme row, as a real scheme file
    pass_attempt(world, "att-1")
    ctx = CentralContext(data_dir=world.data_dir)
    try:
        cert = CertificateRegistry(ctx).issue("att-1", DECIDER)
    finally:
        ctx.close()
    assert cert.scope == ["Domestic wiring", "Inspection and testing"]
    assert cert.scheme_title == "Electrical Safety Inspector"
    assert int(cert.valid_until[:4]) * 12 + int(cert.valid_until[5:7]) - \
        (int(cert.valid_from[:4]) * 12 + int(cert.valid_from[5:7])) == 24


def test_once_the_body_has_staff_accounts_only_a_decision_maker_or_admin_acts(tmp_path):
    from item_bank_sync.staff.accounts import StaffBook

    world = build_world(tmp_path / "central", cut_score=3.0)
    pass_attempt(world, "att-1")
    ctx = CentralContext(data_dir=world.data_dir)
    try:
        cid = CertificateRegistry(ctx).issue("att-1", DECIDER).certificate_id
        book = StaffBook(ctx)
        book.add("ivy.admin", "a long enough password 1", ["admin"], "test-setup")
        book.add("rex.registrar", "a long enough password 2", ["registrar"], "test-setup")
    finally:
        ctx.close()
    cli = Central(world.data_dir)
    args = ("certificates", "suspend", cid, "--reason", "complaint", "--until", "2099-01-01", "--by")
    assert "role" in cli.json(*args, "rex.registrar", code=1)["error"]
    assert cli.json(*args, "ivy.admin")["state"] == "suspended"
    assert "role" in cli.json("certificates", "rotate-key", "--by", "rex.registrar", code=1)["error"]

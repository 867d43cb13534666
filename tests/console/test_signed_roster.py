"""The signed roster from the central body's session to the console (issue 16, item 4), with real
parts: a central body with a scheme added through its CLI, persons, an approved accommodation and
bookings through its services, ``sessions publish``, its sync API on its production server (TLS) on
127.0.0.1, and a real console pulling with its own sync client; then the air-gap bundle both ways.

The console takes in only what verifies: a roster changed in transit (on the hub, after signing) is
refused and the one held stays; a roster for another centre is refused; an older version never
replaces a newer one; a grant beyond what a package of the scheme held here allows is refused at
import. A cancelled booking leaves the roster with the next version. Someone not on the roster is
put on it only by a centre admin with a reason (audited), never by a proctor.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest

from exam_core import package, roster_wire, sync_wire
from exam_core.errors import InvigilError, TamperedError, WrongKeyError
from exam_core.model import AccommodationPolicy, Accommodations
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.registry import accommodations, actors, applications, persons
from item_bank_sync.sittings import bookings, sessions
from item_bank_sync.sittings.publish import publish, roster_path
from item_bank_sync.sync.bundle import export_bundle
from item_bank_sync.sync.store import SyncStore
from proctor_console import services
from proctor_console.accounts import User
from proctor_console.context import ConsoleContext
from proctor_console.errors import Conflict, Forbidden, InvalidRequest
from proctor_console.sync.bundle import import_bundle
from proctor_console.sync.run import run_sync
from tests.support.registry_body import SCHEME_YAML, photo_bytes
from tests.support.central_cli import Central
from tests.support.central_db import bank_of
from tests.support.central_sync import Hub, client_for
from tests.support.central_world import CENTRE_ID, World, build_world

SCHEME, FORM = "CERT", "CERT-F1"
REGISTRAR = actors.staff("rita", actors.REGISTRAR)
ADMIN_USER, PROCTOR_USER = User("admin", "centre_admin"), User("proctor", "proctor")


@dataclass
class Setup:
    console: ConsoleContext
    world: World
    hub: Hub
    session: sessions.Session
    booked: list[bookings.Booking]


def _add_scheme_and_form(world: World, tmp_path: Path) -> None:
    """The scheme of the registry tests (extra time up to 50 %, large text, rest breaks) through the
    central CLI, and a form of it (authoring has its own tests)."""
    scheme = tmp_path / "scheme.yaml"
    scheme.write_text(SCHEME_YAML)
    Central(world.data_dir).json("schemes", "add", scheme)
    bank = bank_of(world.data_dir)
    bank["forms"].insert({"form_id": FORM, "version": 1, "scheme_id": SCHEME, "scheme_version": 1, "build_id": "b2",
                          "seed": 1, "form_json": json.dumps({"form_id": FORM}), "created_at": format_time(utc_now())})
    bank.conn.close()


def _book(world: World, session_id: str, n: int) -> list[bookings.Booking]:
    """``n`` eligible persons booked; the first with a photo, the second with 50 % extra time approved."""
    ctx = world.context
    made = []
    for i in range(n):
        pid = persons.add(ctx, REGISTRAR, given_name=f"Pat{i}", family_name="Doe", email=f"pat{i}@example.org",
                          date_of_birth="1990-01-01").person_id
        app = applications.submit(ctx, actors.candidate(pid), person_id=pid, scheme_id=SCHEME, scheme_version=1,
                                  answers={"education_level": "master", "experience_months": 30},
                                  accept_code_of_conduct=True, body_rules_version="1")
        applications.decide(ctx, REGISTRAR, app.application_id, accept=True, reasons="met")
        if i == 0:
            persons.set_photo(ctx, REGISTRAR, pid, photo_bytes())
        if i == 1:
            req = accommodations.request(ctx, REGISTRAR, person_id=pid, scheme_id=SCHEME, scheme_version=1,
                                         requested={"extra_time_percent": 50}, reason="report")
            accommodations.approve(ctx, REGISTRAR, req.request_id, reasons="ok",
                                   expires_on=(utc_now() + timedelta(days=30)).date().isoformat())
        made.append(bookings.book(ctx, REGISTRAR, session_id, pid))
    ctx.close()
    return made


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    console = ConsoleContext(tmp_path / "console")
    console.initialise(CENTRE_ID, "Centre One")
    world = build_world(tmp_path / "central", centre=console.signing_key, centre_hpke=console.hpke_key)
    console.install_certificate(world.pki.centre_cert, world.pki.root_cert)
    _add_scheme_and_form(world, tmp_path)
    session = sessions.plan(world.context, REGISTRAR, centre_id=CENTRE_ID, scheme_id=SCHEME, scheme_version=1,
                            form_ids=[FORM], starts_at=format_time(utc_now() + timedelta(days=7)), window_minutes=60,
                            capacity=5)
    booked = _book(world, session.session_id, 3)
    hub = Hub(world.data_dir, tls=True)
    try:
        yield Setup(console, world, hub, session, booked)
    finally:
        hub.stop()


def _sync(s: Setup) -> dict:
    return run_sync(s.console, client_for(s.console, s.hub)).to_dict()


def _candidates(console: ConsoleContext) -> dict[str, dict]:
    return {c["candidate_id"]: c for c in services.candidates(console).listing()}


def _tampered(document: bytes) -> bytes:
    """The signed roster with one letter of a candidate's name changed (still well-formed JSON)."""
    doc = json.loads(document)
    payload = bytearray(base64.b64decode(doc["payload"]))
    payload[payload.index(b"Pat1")] = ord("Q")
    doc["payload"] = base64.b64encode(bytes(payload)).decode()
    return json.dumps(doc).encode()


def test_published_roster_travels_with_the_sync_and_is_taken_in(setup: Setup) -> None:
    s = setup
    before = _sync(s)
    assert (before["rosters_imported"], before["packages_imported"]) == ([], ["pkg-1"])   # nothing published yet
    assert publish(s.world.context, REGISTRAR, s.session.session_id)["version"] == 1
    report = _sync(s)                                            # the roster comes with the packages
    assert report["rosters_imported"] == [{"session_id": s.session.session_id, "version": 1}]
    assert report["rosters_failed"] == [] and report["packages_present"] == 1
    rows = _candidates(s.console)
    first, second, third = (rows[b.candidate_id] for b in s.booked)
    assert (first["name"], first["seat"], first["scheme_id"], first["roster"]["origin"], first["roster"]["photo"]) == \
        ("Pat0 Doe", "1", SCHEME, "signed", True)
    assert second["accommodations"] == {"extra_time_percent": 50} and not second["roster"]["photo"]
    assert third["roster"]["session_id"] == s.session.session_id
    photo = services.signed_rosters(s.console).photo(s.booked[0].candidate_id)
    assert photo is not None and photo.startswith(b"\xff\xd8\xff")
    assert persons.photo(s.world.context, REGISTRAR, s.booked[0].person_id) == photo
    assert _sync(s)["rosters_present"] == 1                      # the same roster again changes nothing
    imports = [e for e in s.console.audit.entries() if e.action == "roster.signed_import"]
    assert len(imports) == 1 and "Pat" not in json.dumps(imports[0].data)


def test_a_roster_tampered_in_transit_is_refused_and_the_one_held_stays(setup: Setup) -> None:
    s = setup
    publish(s.world.context, REGISTRAR, s.session.session_id)
    _sync(s)
    publish(s.world.context, REGISTRAR, s.session.session_id)
    path = roster_path(s.world.context, CENTRE_ID, s.session.session_id)
    path.write_bytes(_tampered(path.read_bytes()))               # changed after signing, on its way
    report = _sync(s)
    assert report["rosters_imported"] == [] and "TamperedError" in report["rosters_failed"][0]["reason"]
    assert [r["version"] for r in services.signed_rosters(s.console).sessions()] == [1]
    assert _candidates(s.console)[s.booked[1].candidate_id]["name"] == "Pat1 Doe"


def test_another_centre_an_older_version_and_a_grant_beyond_the_scheme_are_refused(setup: Setup) -> None:
    s = setup
    signed = services.signed_rosters(s.console)
    publish(s.world.context, REGISTRAR, s.session.session_id)
    first = roster_path(s.world.context, CENTRE_ID, s.session.session_id).read_bytes()
    bookings.cancel(s.world.context, REGISTRAR, s.booked[2].booking_id, reason="moved abroad")
    publish(s.world.context, REGISTRAR, s.session.session_id)
    assert _sync(s)["rosters_imported"] == [{"session_id": s.session.session_id, "version": 2}]
    assert s.booked[2].candidate_id not in _candidates(s.console)          # cancelled: gone with version 2
    with pytest.raises(Conflict, match="not newer"):
        signed.import_document(first, "old bundle", "admin")
    with pytest.raises(TamperedError):
        signed.import_document(_tampered(first), "usb", "admin")
    key = s.world.pki.central
    roster = roster_wire.open_roster(first, key.public_key(), CENTRE_ID)
    with pytest.raises(WrongKeyError, match="centre"):
        signed.import_document(roster_wire.make_roster(key, replace(roster, centre_id="centre-2", version=9)),
                               "misdelivered", "admin")
    # a package of the scheme held here allows less than the roster grants: refused at import
    narrow = AccommodationPolicy(accommodations_allowed=("large_text",))
    data, _ = package.build_form_package(
        b"form content", package_id="pkg-cert", form_id=FORM, form_version=1, scheme_id=SCHEME, centre_id=CENTRE_ID,
        opens=utc_now() - timedelta(hours=1), closes=utc_now() + timedelta(hours=8), signing_key=key,
        centre_hpke_public=s.console.hpke_key.public_key(), title="CERT", accommodation_policy=narrow)
    services.packages(s.console).import_package(data, "test", "admin")
    with pytest.raises(InvalidRequest, match="extra_time_percent 50"):
        signed.import_document(roster_wire.make_roster(key, replace(roster, version=3)), "usb", "admin")
    assert [r["version"] for r in signed.sessions()] == [2]


def test_a_later_version_keeps_who_already_sat(setup: Setup) -> None:
    """A booking cancelled after its candidate sat (the record is evidence): version 2 leaves them."""
    s = setup
    publish(s.world.context, REGISTRAR, s.session.session_id)
    _sync(s)
    sat, gone = s.booked[0].candidate_id, s.booked[1].candidate_id
    s.console.db.table("attempts").insert({"attempt_id": "att-sat", "candidate_id": sat, "kiosk_id": "kiosk-1",
                                           "package_id": "pkg-1", "state": "submitted", "body": "{}",
                                           "admitted_by": "proctor", "admitted_at": format_time(utc_now()),
                                           "started_at": format_time(utc_now())})
    for booking in s.booked[:2]:
        bookings.cancel(s.world.context, REGISTRAR, booking.booking_id, reason="left")
    publish(s.world.context, REGISTRAR, s.session.session_id)
    report = _sync(s)
    assert report["rosters_imported"] == [{"session_id": s.session.session_id, "version": 2}]
    held = _candidates(s.console)
    assert sat in held and gone not in held and s.booked[2].candidate_id in held
    entry = [e for e in s.console.audit.entries() if e.action == "roster.signed_import"][-1]
    assert (entry.data["version"], entry.data["removed"]) == (2, 1)


def test_the_roster_also_travels_in_the_air_gap_bundle(setup: Setup, tmp_path: Path) -> None:
    s = setup
    publish(s.world.context, REGISTRAR, s.session.session_id)
    out = tmp_path / "to-centre.bundle"
    assert export_bundle(s.world.data_dir, CENTRE_ID, out)["rosters"] == 1
    report = import_bundle(s.console, out).to_dict()
    assert report["rosters_imported"] == [{"session_id": s.session.session_id, "version": 1}]
    assert {b.candidate_id for b in s.booked} <= set(_candidates(s.console))


def test_someone_not_on_the_roster_is_added_only_by_a_centre_admin_with_a_reason(setup: Setup) -> None:
    s = setup
    signed = services.signed_rosters(s.console)
    with pytest.raises(Forbidden):
        signed.override(PROCTOR_USER, candidate_id="late-1", name="Lee Late", scheme_id=SCHEME, seat="9",
                        reason="booked after the roster was sent")
    with pytest.raises(InvigilError, match="reason"):
        signed.override(ADMIN_USER, candidate_id="late-1", name="Lee Late", scheme_id=SCHEME, seat="9", reason=" ")
    signed.override(ADMIN_USER, candidate_id="late-1", name="Lee Late", scheme_id=SCHEME, seat="9",
                    reason="booked after the roster was sent")
    row = _candidates(s.console)["late-1"]
    assert row["roster"] | {"session_id": None} == {"origin": "override", "session_id": None, "photo": False,
                                                    "override_by": "admin",
                                                    "override_reason": "booked after the roster was sent"}
    assert row["accommodations"] == {}                              # never a grant by override
    entry = [e for e in s.console.audit.entries() if e.action == "roster.override"][-1]
    assert (entry.actor, entry.data["reason"]) == ("admin", "booked after the roster was sent")
    with pytest.raises(Conflict, match="already on the roster"):
        signed.override(ADMIN_USER, candidate_id="late-1", name="Lee", scheme_id=SCHEME, seat="", reason="again")
    assert services.roster(s.console).get("late-1").accommodations == Accommodations()


def test_bundle_commands_carry_the_roster_and_a_refused_one_exits_1(setup: Setup, tmp_path: Path) -> None:
    """``item_bank_sync export-bundle`` and ``proctor_console import-bundle``: the roster arrives; a
    bundle (signed and sealed as the body would) carrying a roster for another centre is refused
    with exit status 1, its other content still taken in."""
    from click.testing import CliRunner

    from item_bank_sync.cli.main import main as central_cli
    from proctor_console.cli.main import main as console_cli

    s, runner = setup, CliRunner()
    publish(s.world.context, REGISTRAR, s.session.session_id)
    back = tmp_path / "to-centre.bundle"
    step = runner.invoke(central_cli, ["--data", str(s.world.data_dir), "export-bundle", "--centre", CENTRE_ID,
                                       "--out", str(back), "--json"])
    assert step.exit_code == 0 and json.loads(step.output)["rosters"] == 1, step.output
    step = runner.invoke(console_cli, ["--data", str(s.console.data), "import-bundle", str(back)])
    assert step.exit_code == 0 and f"roster of session {s.session.session_id}: version 1 imported" in step.output
    document = roster_path(s.world.context, CENTRE_ID, s.session.session_id).read_bytes()
    key = s.world.pki.central
    foreign = roster_wire.make_roster(key, replace(roster_wire.open_roster(document, key.public_key(), CENTRE_ID),
                                                   centre_id="centre-2", version=2))
    revocations = SyncStore(s.world.data_dir).revocation_list()
    bundle = sync_wire.CentreBundle(CENTRE_ID, format_time(utc_now()), (), revocations, (), (), (foreign,))
    wrong = tmp_path / "wrong.bundle"
    wrong.write_bytes(sync_wire.seal_bundle(bundle, key, s.console.hpke_key.public_key()))
    step = runner.invoke(console_cli, ["--data", str(s.console.data), "import-bundle", str(wrong)])
    assert step.exit_code == 1 and "roster 0 refused: WrongKeyError" in step.output
    assert [r["version"] for r in services.signed_rosters(s.console).sessions()] == [1]

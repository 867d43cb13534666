"""The central root is checked against the clock once, when installed; sealing never asks the clock.

Real certificates and real envelopes throughout. A kiosk clock that is wrong is produced without
faking time: a root that expires a second after installation stands for a clock that ran past it,
and certificates issued "in the future" stand for a kiosk clock behind the console that issued them.
The same fault with a really set-back clock (libfaketime) is tests/faults/test_network_and_clock.py.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from exam_core import certs, envelope, keys
from exam_core.errors import ExpiredError, TamperedError, UntrustedError
from exam_core.jsonio import b64d, b64e, canonical_dumps
from exam_core.timestamps import parse_time, utc_now

from kiosk.device import Device

from simulators.forms import ANSWERS
from tests.support.kiosk_world import World, make_runtime, start_exam


def _short_lived_root(world: World, seconds: float) -> bytes:
    now = utc_now().replace(microsecond=0)
    return certs.make_root_certificate(world.central_key, "central", world.results_key.public_key(),
                                       not_before=now - timedelta(hours=1), not_after=now + timedelta(seconds=seconds))


def _sit_and_submit(world: World, tmp_path) -> bytes:
    rt = make_runtime(world, tmp_path)
    session = start_exam(rt, world)
    for item_id, value in ANSWERS.items():
        session.answer(item_id, "R1", value)
    session.submit()
    (entry,) = [e for e in rt.outbox.pending() if e.kind == "envelope"]
    return b64d(json.loads(entry.body)["envelope"])


def test_a_root_outside_its_window_by_the_kiosk_clock_still_opens_forms_and_seals(tmp_path):
    world = World(tmp_path)
    root = _short_lived_root(world, 2)
    world.device.install_central_certificate(root)
    expiry = certs.read_unverified_certificate(root).not_after
    while utc_now() < parse_time(expiry):
        time.sleep(0.1)
    # A restart repeats `--central-cert` with the same file: no clock check, no failure.
    device = Device.load_or_create(tmp_path)
    device.install_central_certificate(root)
    assert device.central().key_id == keys.key_id(world.central_key.public_key())
    world.device = device
    data = _sit_and_submit(world, tmp_path)   # key release decrypts (manifest key) and submit seals
    header, payload = envelope.open_envelope(data, world.results_key, world.central_key.public_key(),
                                             at=parse_time(expiry) - timedelta(seconds=1))
    assert payload["responses"] and header.attempt_id == world.attempt.attempt_id


def test_installing_checks_the_window_and_the_results_key(tmp_path):
    world = World(tmp_path)
    now = utc_now().replace(microsecond=0)
    expired = certs.make_root_certificate(world.central_key, "central", world.results_key.public_key(),
                                          not_before=now - timedelta(days=2), not_after=now - timedelta(days=1))
    with pytest.raises(ExpiredError):
        world.device.install_central_certificate(expired)
    with pytest.raises(UntrustedError, match="results key"):
        world.device.install_central_certificate(certs.make_root_certificate(world.central_key, "central"))
    with pytest.raises(UntrustedError):
        world.device.install_central_certificate(world.centre_cert)
    assert (tmp_path / "device" / "central.cert").read_bytes() == world.root_cert  # the old root stays


def test_an_installed_root_with_another_results_key_is_refused_at_load(tmp_path):
    """The cached trust is the file's signature, re-checked at load: swapping the results key in
    ``central.cert`` (to read the responses) breaks it."""
    world = World(tmp_path)
    document = json.loads(world.root_cert)
    fields = json.loads(b64d(document["payload"]))
    attacker = keys.generate_hpke_key(keys.SUITE_X25519).public_key()
    fields["hpke_key"] = {"public": b64e(keys.public_bytes(attacker)), "suite": keys.SUITE_X25519}
    document["payload"] = b64e(canonical_dumps(fields))
    (tmp_path / "device" / "central.cert").write_bytes(json.dumps(document).encode())
    with pytest.raises(TamperedError):
        Device.load_or_create(tmp_path).central()


def test_a_kiosk_clock_behind_its_certificates_seals_no_earlier_than_they_were_issued(tmp_path):
    world = World(tmp_path)
    issued = utc_now().replace(microsecond=0) + timedelta(hours=1)  # the console's clock, an hour ahead
    kiosk_cert = certs.issue_certificate(world.centre_key, "CENTRE1", "K01", certs.ROLE_KIOSK,
                                         world.device.signing_key.public_key(),
                                         world.device.hpke_key.public_key(), not_before=issued)
    world.device.save_pairing(world.device.pairing, {"kiosk.cert": kiosk_cert})
    data = _sit_and_submit(world, tmp_path)
    header = envelope.read_envelope_header(data, root_public=world.central_key.public_key())
    assert parse_time(header.created) == issued  # verified at `created`: accepted
    _, payload = envelope.open_envelope(data, world.results_key, world.central_key.public_key())
    assert parse_time(payload["sealed"]["kiosk_clock"]) < issued  # the clock's own reading is kept


def test_pairing_checks_the_chain_against_the_root_and_this_kiosks_keys(tmp_path):
    world = World(tmp_path)
    device = world.device
    kiosk_cert = device.file("kiosk.cert").read_bytes()
    device.check_pairing_chain(world.centre_cert, kiosk_cert)  # the chain the console issued
    stranger = keys.generate_signing_key()
    other_keys = certs.issue_certificate(world.centre_key, "CENTRE1", "K01", certs.ROLE_KIOSK,
                                         stranger.public_key(), device.hpke_key.public_key())
    with pytest.raises(UntrustedError, match="other keys"):
        device.check_pairing_chain(world.centre_cert, other_keys)
    rogue_root = keys.generate_signing_key()  # a console whose centre is not certified by this root
    rogue_centre = certs.issue_certificate(rogue_root, "central", "CENTRE1", certs.ROLE_CENTRE,
                                           world.centre_key.public_key())
    with pytest.raises(UntrustedError):
        device.check_pairing_chain(rogue_centre, kiosk_cert)

from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st

from exam_core import certs, keys, signing
from exam_core.errors import (ArtefactError, ExpiredError, MalformedError, RevokedError,
                              TamperedError, UntrustedError, WrongPurposeError)
from exam_core.jsonio import b64e
from exam_core.timestamps import utc_now
from tests.support.pki import make_pki


def test_chain_round_trip(pki):
    centre, kiosk = certs.verify_chain(pki.chain, pki.central.public_key(), leaf_role="kiosk")
    assert (centre.cert.subject, centre.cert.role) == ("centre-1", "centre")
    assert (kiosk.cert.subject, kiosk.cert.issuer_subject) == ("kiosk-7", "centre-1")
    assert kiosk.key_id == keys.key_id(pki.kiosk)
    assert kiosk.hpke_public == pki.kiosk_hpke.public_key()
    root = certs.verify_root_certificate(pki.root_cert, pki.central.public_key())
    assert root.hpke_public == pki.results.public_key()
    assert certs.read_unverified_certificate(pki.kiosk_cert).subject == "kiosk-7"


def test_wrong_root_untrusted(pki):
    other = keys.generate_signing_key()
    with pytest.raises(UntrustedError):
        certs.verify_chain(pki.chain, other.public_key())


def test_role_rules(pki):
    # a kiosk cannot certify anything, the root cannot directly certify a kiosk
    rogue = certs.issue_certificate(pki.kiosk, "kiosk-7", "kiosk-8", "kiosk", keys.generate_signing_key().public_key())
    with pytest.raises(UntrustedError, match="cannot certify"):
        certs.verify_chain([*pki.chain, rogue], pki.central.public_key())
    direct = certs.issue_certificate(pki.central, "central", "kiosk-9", "kiosk", pki.kiosk.public_key())
    with pytest.raises(UntrustedError, match="cannot certify"):
        certs.verify_chain([direct], pki.central.public_key())
    with pytest.raises(UntrustedError, match="expected a kiosk"):
        certs.verify_chain([pki.centre_cert], pki.central.public_key(), leaf_role="kiosk")
    with pytest.raises(UntrustedError):
        certs.verify_chain([pki.kiosk_cert], pki.central.public_key())
    with pytest.raises(UntrustedError):
        certs.verify_chain([], pki.central.public_key())


def test_issuer_subject_must_match(pki):
    lying = certs.issue_certificate(pki.centre, "centre-2", "kiosk-7", "kiosk", pki.kiosk.public_key())
    with pytest.raises(UntrustedError, match="issuer_subject"):
        certs.verify_chain([pki.centre_cert, lying], pki.central.public_key())


def test_expired_and_not_yet_valid():
    now = utc_now().replace(microsecond=0)
    past = make_pki(now - timedelta(days=10), now - timedelta(days=1))
    with pytest.raises(ExpiredError, match="expired"):
        certs.verify_chain(past.chain, past.central.public_key())
    certs.verify_chain(past.chain, past.central.public_key(), at=now - timedelta(days=5))
    future = make_pki(now + timedelta(days=1), now + timedelta(days=10))
    with pytest.raises(ExpiredError, match="not valid before"):
        certs.verify_chain(future.chain, future.central.public_key())


def test_revocation_by_root_and_by_issuer(pki):
    kiosk_serial = certs.read_unverified_certificate(pki.kiosk_cert).serial
    centre_serial = certs.read_unverified_certificate(pki.centre_cert).serial
    by_centre = certs.issue_revocation_list(pki.centre, "centre-1", [kiosk_serial], 3)
    with pytest.raises(RevokedError, match="kiosk"):
        certs.verify_chain(pki.chain, pki.central.public_key(), revocations=[by_centre])
    by_root = certs.issue_revocation_list(pki.central, "central", [centre_serial], 1)
    with pytest.raises(RevokedError, match="centre"):
        certs.verify_chain(pki.chain, pki.central.public_key(), revocations=[by_root])
    parsed = certs.read_revocation_list(by_root, pki.central.public_key())
    assert parsed.sequence == 1 and centre_serial in parsed.serials
    with pytest.raises(RevokedError):
        certs.verify_chain(pki.chain, pki.central.public_key(), revocations=[parsed])
    # the kiosk cannot revoke its issuer; a stranger's list is irrelevant
    by_kiosk = certs.issue_revocation_list(pki.kiosk, "kiosk-7", [centre_serial], 1)
    stranger = certs.issue_revocation_list(keys.generate_signing_key(), "x", [centre_serial, kiosk_serial], 1)
    certs.verify_chain(pki.chain, pki.central.public_key(), revocations=[by_kiosk, stranger])


def test_tampered_revocation_list_fails_closed(pki):
    serial = certs.read_unverified_certificate(pki.kiosk_cert).serial
    rl = bytearray(certs.issue_revocation_list(pki.central, "central", [serial], 1))
    doc = signing.read_unverified(bytes(rl))
    forged = bytes(rl).replace(b64e(doc.signature).encode(), b64e(bytes(64)).encode())
    with pytest.raises(TamperedError):
        certs.verify_chain(pki.chain, pki.central.public_key(), revocations=[forged])


def test_certificate_wrong_purpose(pki):
    receipt_like = signing.make_signed(pki.central, "receipt", signing.read_unverified(pki.centre_cert).payload_bytes)
    with pytest.raises(WrongPurposeError):
        certs.verify_chain([receipt_like], pki.central.public_key())
    with pytest.raises(WrongPurposeError):
        certs.read_certificate(receipt_like, pki.central.public_key())


def test_issuer_refuses_bad_fields(pki):
    with pytest.raises(MalformedError):
        certs.issue_certificate(pki.central, "central", "bad subject!", "centre", pki.centre.public_key())
    payload = {"format": "invigil-cert", "v": 1, "serial": "zz"}
    with pytest.raises(MalformedError):
        certs.read_certificate(signing.make_signed(pki.central, "certificate", payload), pki.central.public_key())


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_flipped_byte_rejected(pki, data):
    which = data.draw(st.sampled_from([0, 1]))
    chain = list(pki.chain)
    pos = data.draw(st.integers(0, len(chain[which]) - 1))
    bad = bytearray(chain[which])
    bad[pos] ^= 1 << data.draw(st.integers(0, 7))
    chain[which] = bytes(bad)
    with pytest.raises(ArtefactError):
        certs.verify_chain(chain, pki.central.public_key())


# ----- the verified-chain cache ------------------------------------------------------------------

def test_cached_chain_still_expires():
    now = utc_now().replace(microsecond=0)
    short = make_pki(now - timedelta(days=10), now - timedelta(days=1))
    certs.verify_chain(short.chain, short.central.public_key(), at=now - timedelta(days=5))  # cached now
    with pytest.raises(ExpiredError):
        certs.verify_chain(short.chain, short.central.public_key(), at=now)
    with pytest.raises(ExpiredError, match="not valid before"):
        certs.verify_chain(short.chain, short.central.public_key(), at=now - timedelta(days=11))


def test_cached_chain_is_checked_against_each_revocation_list(pki):
    certs.verify_chain(pki.chain, pki.central.public_key())  # cached without revocations
    serial = certs.read_unverified_certificate(pki.kiosk_cert).serial
    first = certs.issue_revocation_list(pki.centre, "centre-1", [], 1)
    certs.verify_chain(pki.chain, pki.central.public_key(), revocations=[first])
    newer = certs.issue_revocation_list(pki.centre, "centre-1", [serial], 2)  # same issuer, new list
    for _ in range(2):
        with pytest.raises(RevokedError):
            certs.verify_chain(pki.chain, pki.central.public_key(), revocations=[first, newer])
        with pytest.raises(RevokedError):
            certs.verify_chain(pki.chain, pki.central.public_key(),
                               revocations=[certs.read_revocation_list(newer, pki.centre.public_key())])


def test_failures_are_not_cached_and_keys_are_exact(pki):
    other_root = keys.generate_signing_key()
    for _ in range(2):
        with pytest.raises(UntrustedError):
            certs.verify_chain(pki.chain, other_root.public_key())
        with pytest.raises(UntrustedError, match="expected a centre"):
            certs.verify_chain(pki.chain, pki.central.public_key(), leaf_role="centre")
    forged = bytearray(pki.kiosk_cert)
    forged[-20] ^= 1
    certs.verify_chain(pki.chain, pki.central.public_key())
    with pytest.raises(ArtefactError):
        certs.verify_chain([pki.centre_cert, bytes(forged)], pki.central.public_key())


def test_chain_cache_is_bounded(pki, monkeypatch):
    cache = certs._ChainCache(2)
    monkeypatch.setattr(certs, "_CHAIN_CACHE", cache)
    for role in (None, "kiosk", None, "kiosk"):
        certs.verify_chain(pki.chain, pki.central.public_key(), leaf_role=role)
    certs.verify_chain([pki.centre_cert], pki.central.public_key())
    assert len(cache) == 2

"""Every single-byte change of small real artefacts is refused with an ArtefactError.

The hypothesis tests beside each module sample positions; these walk all of them (one bit per
byte for envelopes, all eight bits for packages and receipts), which is what "any byte" means.
"""

import pytest

from exam_core import certs, envelope, package, receipt
from exam_core.errors import ArtefactError
from tests.support.pki import build, seal


def _refused_everywhere(data: bytes, check, bits=range(8)) -> int:
    refused = 0
    for pos in range(len(data)):
        for bit in bits:
            bad = bytearray(data)
            bad[pos] ^= 1 << bit
            try:
                check(bytes(bad))
            except ArtefactError:
                refused += 1
                continue
            pytest.fail(f"byte {pos} bit {bit} changed and was accepted")
    return refused


@pytest.mark.slow
def test_every_bit_of_a_package(pki):
    data, _ = build(pki.central, pki.centre_hpke.public_key(), content=b"x" * 300)
    _refused_everywhere(data, lambda d: package.open_form_package(d, pki.central.public_key(), pki.centre_hpke))


def test_every_byte_of_an_envelope(pki):
    sealed = seal(pki, payload={"r": [1, 2, 3]})
    for pos in range(len(sealed)):
        bad = bytearray(sealed)
        bad[pos] ^= 1 << (pos % 8)
        with pytest.raises(ArtefactError):
            envelope.open_envelope(bytes(bad), pki.results, pki.central.public_key())


def test_every_bit_of_a_receipt_and_a_certificate(pki):
    sealed = seal(pki, payload={"r": [1]})
    signed = receipt.issue_receipt(pki.central, sealed, "central")
    _refused_everywhere(signed, lambda d: receipt.verify_receipt(d, sealed, pki.central.public_key()))
    _refused_everywhere(pki.kiosk_cert, lambda d: certs.verify_chain([pki.centre_cert, d], pki.central.public_key()))

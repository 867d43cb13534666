"""Certificates of the central body (ISO/IEC 17024 9.4-9.7): issue on a pass decision, the Open
Badges 3.0 credential as a VC-JWT, the issuer's keys, the Bitstring Status Lists, the registry
of certificates with their status history, and the printable PDF.

::

    schema.py       tables (bank store; Alembic revision bank_0009)
    keys.py         the issuer's Ed25519 keys (files) and their JWKS (rotation keeps old keys)
    credential.py   the OpenBadgeCredential and its compact JWS (OB 3.0 section 8.2)
    status_list.py  W3C Bitstring Status List v1.0: the bitstring, its encoding, its credential
    registry.py     the service: issue, status actions, lookups (what the CLI and the public site call)
    pdf.py          the printable certificate with a QR code to the public verification page

The public verification site is :mod:`item_bank_sync.public`.
"""

"""Who the central body trusts, and how it knows: its own keys and root certificate (``identity``),
enrolled test centres and their revocation (``centres``), kiosks a centre revoked
(``kiosk_revocations``) and the kiosk release builds it accepts (``release_allowlist``).
"""

"""What every Invigil web sign-in shares: the proctor console's and the central staff application's.

Both faces must be equally hard to get into, so the pieces live here once instead of being copied:

``passwords``  Argon2id password hashes and the password policy.
``throttle``   ``Backoff``: failed guesses slow only their key (a name at an address, an address).
``headers``    the security headers and strict CSP (no inline script or style) of every answer.
``csrf``       the per-session CSRF token and its constant-time check.
``bodylimit``  refusing a request body above a limit before any of it reaches a view.
``totp``       the second factor: RFC 6238 codes, enrolment QR code, one use per code, recovery codes.
"""

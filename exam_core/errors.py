"""Every failure exam_core can report, as distinct exception classes.

Callers decide what to do by the class, never by parsing messages: a console that receives a
``TamperedError`` quarantines the artefact, an ``ExpiredError`` asks for a new certificate, a
``WrongKeyError`` means the artefact was meant for someone else. All of them derive from
``InvigilError`` so a boundary can still catch everything at once.
"""

from __future__ import annotations


class InvigilError(Exception):
    """Base class of every error raised on purpose by Invigil code."""


class ValidationError(InvigilError, ValueError):
    """An input value is unacceptable; ``field`` names it, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class ArtefactError(InvigilError):
    """A signed, sealed or packaged artefact was refused.

    ``field`` (optional) names the part of the artefact that failed, for messages such as
    ``manifest.json: closes: not a timestamp``.
    """

    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"{field}: {reason}" if field else reason)


class TamperedError(ArtefactError):
    """A signature, hash or AEAD tag does not match: the bytes were changed after sealing."""


class WrongKeyError(ArtefactError):
    """The artefact names (or was made for) a different key than the one supplied."""


class WrongPurposeError(ArtefactError):
    """The artefact was signed or sealed for another purpose than the one the caller expects."""


class ExpiredError(ArtefactError):
    """The artefact is outside its validity window (expired, or not valid yet)."""


class RevokedError(ArtefactError):
    """A certificate in the chain is listed in a valid revocation list."""


class UnknownVersionError(ArtefactError):
    """The artefact declares a format, version or suite this code does not know."""


class TooLargeError(ArtefactError):
    """A size limit (bytes, members, depth) from ``exam_core.limits`` was exceeded."""


class MalformedError(ArtefactError):
    """The artefact cannot be parsed: bad JSON, bad base64, missing or unexpected fields."""


class UntrustedError(ArtefactError):
    """The signer is unknown or its certificate chain does not lead to the trusted root."""


class KeyFileError(InvigilError):
    """A key file cannot be used: unsafe permissions, bad content, missing passphrase."""


class WrongPassphraseError(KeyFileError):
    """The passphrase does not decrypt the key file (or the encrypted file was modified)."""


class AuditTamperedError(TamperedError):
    """An audit log's chain or checkpoints do not verify; ``seq`` is the first entry found wrong."""

    def __init__(self, seq: int, reason: str) -> None:
        self.seq = seq
        super().__init__(reason, field=f"audit entry {seq}")


class ReleaseCodeError(WrongKeyError):
    """A form package needs its release code and none, or a wrong one, was given.

    ``missing`` tells the two apart (ask for the code vs. say it is wrong).
    """

    def __init__(self, reason: str, missing: bool = False) -> None:
        self.missing = missing
        super().__init__(reason, "release_code")

"""Refusals of the registry and sittings services, by class so a web page can map them to a status
(404, 403, 409/422) without parsing messages."""

from __future__ import annotations

from exam_core.errors import InvigilError


class RegistryError(InvigilError):
    """Base class of every refusal of the registry and sittings services."""


class NotFound(RegistryError):
    """The record does not exist (or the actor may not know it exists: portals answer the same)."""


class Forbidden(RegistryError):
    """The actor's roles do not allow this action on this record."""


class ConflictOfInterest(Forbidden):
    """The staff member declared a relationship with the person acted on (ISO/IEC 17024 4.3)."""


class Refused(RegistryError):
    """The request breaks a rule (invalid input, not eligible, beyond the scheme, session full...)."""

"""The strict record reader every wire and disk format of Invigil is written in.

A format is a frozen dataclass deriving from :class:`Record`: ``to_dict()`` gives plain JSON-ready
values and a ``from_dict(data, path)`` classmethod reads one JSON object through :class:`Fields`,
which accepts exactly the documented fields, checks every type, length and enumerated value, and
raises :class:`~exam_core.errors.ValidationError` naming the offending field by its full path (for
example ``items[3].interactions[0].choices[1].id: must match ...``). Strictness is the point: these
records cross trust boundaries, and a field silently ignored today is a field someone smuggles
data in tomorrow.

Why a reader rather than a schema library: the rules are few and exact, the error path is what
users see, unknown fields must be refused (not dropped), and the same few lines serve the item
model (:mod:`exam_core.model`), the kiosk <-> console protocol (:mod:`exam_core.protocol`,
:mod:`exam_core.pairing`) and the console <-> central formats (:mod:`exam_core.sync_wire`,
:mod:`exam_core.result`).
"""

from __future__ import annotations

import builtins
import math
import re
from dataclasses import fields
from typing import Any, ClassVar, Self, TypeVar
from collections.abc import Iterable

from exam_core.errors import ArtefactError, ValidationError
from exam_core.jsonio import b64d

#: Default bounds of the reader: names, titles and reasons; entries of a list; keys of an object.
MAX_SHORT = 1_000
MAX_LIST = 10_000
MAX_DICT = 10_000

RecordT = TypeVar("RecordT", bound="Record")


class Record:
    """Base of every wire record: ``to_dict`` gives JSON-ready plain values, ``from_dict`` reads."""

    #: Fields added after records were stored: left out of ``to_dict`` while they hold their
    #: default, so a record without them keeps its bytes (and content hash).
    OMIT_AT_DEFAULT: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """Every field by name (but :attr:`OMIT_AT_DEFAULT` ones at their default); nested records
        by their own ``to_dict`` (which may leave fields out)."""
        out = {f.name: to_plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]
        for name in self.OMIT_AT_DEFAULT:
            if getattr(self, name) == self.__dataclass_fields__[name].default:  # type: ignore[attr-defined]
                del out[name]
        return out

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Self:
        """Read ``data`` strictly; every subclass defines it with :class:`Fields`."""
        raise NotImplementedError(f"{cls.__name__}.from_dict")


class Fields:
    """Reads one JSON object field by field, so every error carries the field's full path.

    Call one reader method per known field, then :meth:`done`, which refuses any field that no
    method asked for. A ``default`` makes a field optional; without one it is required.
    """

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ValidationError(path or "<root>", "must be an object")
        self.data: dict[str, Any] = data
        self.path = path
        self.seen: set[str] = set()

    def where(self, name: builtins.str) -> builtins.str:
        """The full path of field ``name`` (``parent.name``), for error messages."""
        return f"{self.path}.{name}" if self.path else name

    def raw(self, name: builtins.str, default: Any = ..., *, nullable: bool = False) -> Any:
        """The unchecked value (``default`` when absent; required when there is no default)."""
        self.seen.add(name)
        if name not in self.data:
            if default is ...:
                raise ValidationError(self.where(name), "is required")
            return default
        value = self.data[name]
        if value is None and not nullable:
            if default is not ... and default is None:
                return None
            raise ValidationError(self.where(name), "must not be null")
        return value

    def str(self, name: builtins.str, default: Any = ..., *, max_len: int = MAX_SHORT,
            pattern: re.Pattern[builtins.str] | None = None, choices: Iterable[builtins.str] | None = None,
            nullable: bool = False) -> Any:
        value = self.raw(name, default, nullable=nullable)
        if value is None or (value is default and default is not ...):
            return value
        return check_str(value, self.where(name), max_len=max_len, pattern=pattern, choices=choices)

    def int(self, name: builtins.str, default: Any = ..., *, minimum: builtins.int | None = None,
            maximum: builtins.int | None = None, nullable: bool = False) -> Any:
        value = self.raw(name, default, nullable=nullable)
        if value is None or (value is default and default is not ...):
            return value
        return check_int(value, self.where(name), minimum=minimum, maximum=maximum)

    def float(self, name: builtins.str, default: Any = ..., *, nullable: bool = False) -> Any:
        value = self.raw(name, default, nullable=nullable)
        if value is None or (value is default and default is not ...):
            return value
        return check_number(value, self.where(name))

    def bool(self, name: builtins.str, default: Any = ...) -> Any:
        value = self.raw(name, default)
        if not isinstance(value, builtins.bool):
            raise ValidationError(self.where(name), "must be true or false")
        return value

    def list(self, name: builtins.str, default: Any = ..., *, max_len: builtins.int = MAX_LIST) -> Any:
        value = self.raw(name, default)
        if not isinstance(value, builtins.list):
            raise ValidationError(self.where(name), "must be a list")
        if len(value) > max_len:
            raise ValidationError(self.where(name), f"has more than {max_len} entries")
        return value

    def dict(self, name: builtins.str, default: Any = ..., *, max_len: builtins.int = MAX_DICT) -> Any:
        value = self.raw(name, default)
        if not isinstance(value, builtins.dict):
            raise ValidationError(self.where(name), "must be an object")
        if len(value) > max_len:
            raise ValidationError(self.where(name), f"has more than {max_len} entries")
        return value

    def records(self, name: builtins.str, cls: type[RecordT], default: Any = ..., *,
                max_len: builtins.int = MAX_LIST) -> tuple[RecordT, ...]:
        """A list of ``cls`` records, each read with its index in the path."""
        values = self.list(name, default, max_len=max_len)
        where = self.where(name)
        return tuple(cls.from_dict(v, f"{where}[{i}]") for i, v in enumerate(values))

    def record(self, name: builtins.str, cls: type[RecordT], default: Any = ...) -> Any:
        """One nested ``cls`` record (``None`` when the default is None and it is absent or null)."""
        value = self.raw(name, default, nullable=default is None)
        if value is None:
            return None
        return cls.from_dict(value, self.where(name))

    def b64(self, name: builtins.str, max_bytes: builtins.int, default: Any = ...) -> Any:
        """A base64 field, checked canonical and at most ``max_bytes`` decoded, returned as text
        (decode it with ``exam_core.jsonio.b64d``); None when the default is None and it is absent."""
        value = self.raw(name, default, nullable=default is None)
        if value is None:
            return None
        try:
            b64d(value, self.where(name), max_bytes)
        except ArtefactError as exc:  # MalformedError or TooLargeError
            raise ValidationError(self.where(name), exc.reason) from None
        return value

    def version(self, expected: builtins.int, name: builtins.str = "v") -> builtins.int:
        """The format version field, which must be exactly ``expected``."""
        if self.int(name, minimum=0) != expected:
            raise ValidationError(self.where(name), f"unsupported version (this side speaks {expected})")
        return expected

    def constant(self, name: builtins.str, expected: builtins.str) -> builtins.str:
        """A field that must hold exactly ``expected`` (a document's ``format`` name)."""
        value = self.raw(name)
        if value != expected:
            raise ValidationError(self.where(name), f"must be {expected!r}")
        return expected

    def done(self) -> None:
        """Refuse the object if it holds a field no reader method asked for."""
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise ValidationError(self.where(unknown[0]), "is not a known field")


def check_str(value: Any, where: str, *, max_len: int = MAX_SHORT,
              pattern: re.Pattern[str] | None = None, choices: Iterable[str] | None = None) -> str:
    """Validate one string value; shared by the reader and by list checks."""
    if not isinstance(value, str):
        raise ValidationError(where, "must be a string")
    if len(value) > max_len:
        raise ValidationError(where, f"is longer than {max_len} characters")
    if pattern is not None and not pattern.match(value):
        raise ValidationError(where, f"must match {pattern.pattern}")
    if choices is not None and value not in choices:
        raise ValidationError(where, f"must be one of {', '.join(choices)}")
    return value


def check_int(value: Any, where: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Validate one integer (``True``/``False`` are not integers here) within optional bounds."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(where, "must be an integer")
    if minimum is not None and value < minimum:
        raise ValidationError(where, f"must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise ValidationError(where, f"must be <= {maximum}")
    return value


def check_number(value: Any, where: str) -> float:
    """Validate one finite number (an int or a float, never a bool, NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(where, "must be a finite number")
    return value


def check_unique(ids: Iterable[str], where: str) -> None:
    """Refuse a list of identifiers that uses one twice."""
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise ValidationError(where, f"identifier {value!r} is used twice")
        seen.add(value)


def to_plain(value: Any) -> Any:
    """Records become their ``to_dict()`` and tuples lists, so that ``to_dict()`` output is exactly
    what JSON round-trips to."""
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value

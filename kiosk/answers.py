"""Validation of a candidate's answer against the interaction that declared it.

The page is not trusted: every value it posts is checked here before it is journaled. First the
JSON shape (``exam_core.model.check_response_value``), then the meaning: identifiers must name
this interaction's choices, no more than ``max_choices`` may be chosen, pairs must join a source
and a target that exist, a choice may be used at most ``match_max`` times, a point must lie on the
image, a slider's value must be one it offers, a play count stays within the item's limit and
never goes down, a drawing is a PNG. A value that fails is refused with a
:class:`ValidationError` naming the field.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from typing import Any

from exam_core.errors import ValidationError
from exam_core.model import GRAPHIC_TYPES, ORDER_TYPES, Interaction, check_response_value

MAX_TEXT_ENTRY = 1_000
MAX_EXTENDED_TEXT = 100_000
_MARKED_ID = re.compile(r'data-(hottext|gap)="([A-Za-z_][A-Za-z0-9_.\-]{0,127})"')


def _marked_ids(content_html: str, kind: str) -> set[str]:
    return {ident for k, ident in _MARKED_ID.findall(content_html) if k == kind}


def _identifier_domain(interaction: Interaction) -> set[str]:
    if interaction.type in GRAPHIC_TYPES:
        return {h.id for h in interaction.hotspots}
    ids = {c.id for c in interaction.choices}
    if interaction.type == "hottext":
        ids |= _marked_ids(interaction.content_html, "hottext")
    return ids


def _pair_domains(interaction: Interaction) -> tuple[set[str], set[str]]:
    sources = {c.id for c in interaction.choices}
    spots = {h.id for h in interaction.hotspots}
    if interaction.type == "graphic_associate":
        return spots, spots
    if interaction.type == "graphic_gap_match":
        return sources, spots
    if interaction.type == "gap_match":
        return sources, {t.id for t in interaction.targets} | _marked_ids(interaction.content_html, "gap")
    if interaction.type == "associate":
        return sources, sources
    return sources, {t.id for t in interaction.targets}


def check_answer(interaction: Interaction, value: Any, where: str = "value",
                 image_size: tuple[int, int] | None = None, previous: Any = None) -> Any:
    """Return the value if it is a valid answer to ``interaction``; raise ``ValidationError`` if not.

    ``image_size`` is the ``(width, height)`` pixel space of a point interaction's image
    (:meth:`kiosk.content.FormBundle.image_size`); points must lie on it, edges included.
    ``previous`` is the value saved before: a media interaction's play count only goes up.
    """
    if interaction.player is not None:
        return _check_plays(interaction, value, where, previous)
    value = check_response_value(value, interaction.cardinality, interaction.base_type, where)
    if value is None:
        return None
    values = value if interaction.cardinality != "single" else [value]
    base = interaction.base_type
    if base == "identifier":
        _check_identifiers(interaction, values, where)
    elif base in ("pair", "directedPair"):
        _check_pairs(interaction, values, where)
    elif base == "point":
        _check_points(interaction, values, where, image_size)
    elif base == "string":
        limit = MAX_EXTENDED_TEXT if interaction.type == "extended_text" else MAX_TEXT_ENTRY
        for i, text in enumerate(values):
            if len(text) > limit:
                raise ValidationError(where, f"text {i} is longer than {limit} characters")
    elif base == "file":
        _check_drawing(values[0], where)
    elif interaction.slider is not None:
        _check_slider(interaction, values, where)
    _check_count(interaction, values, where)
    return value


def _check_count(interaction: Interaction, values: list, where: str) -> None:
    if interaction.cardinality == "single":
        return
    limit = interaction.max_choices
    if interaction.type not in ORDER_TYPES and limit and len(values) > limit:
        raise ValidationError(where, f"at most {limit} may be chosen, got {len(values)}")


def _check_identifiers(interaction: Interaction, values: list[str], where: str) -> None:
    domain = _identifier_domain(interaction)
    for i, ident in enumerate(values):
        if ident not in domain:
            raise ValidationError(f"{where}[{i}]" if interaction.cardinality != "single" else where,
                                  f"{ident!r} is not an option of {interaction.response_id}")
    if len(set(values)) != len(values):
        raise ValidationError(where, "an option is chosen twice")
    if interaction.type in ORDER_TYPES and len(values) != len(domain):
        raise ValidationError(where, f"an order must list all {len(domain)} options")


def _check_drawing(value: str, where: str) -> None:
    """A drawing is a PNG (the data URL's shape was checked by the model): its bytes must say so."""
    try:
        data = base64.b64decode(value.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(where, "is not base64") from None
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValidationError(where, "is not a PNG image")


def _check_slider(interaction: Interaction, values: list[float], where: str) -> None:
    """Only a value the slider offers (in range, on a step): the page offers no other."""
    slider = interaction.slider
    if slider is None:
        return
    for value in values:
        if not slider.offers(value):
            raise ValidationError(where, f"{value} is not a value of the slider ({slider.lower:g} to "
                                         f"{slider.upper:g} by {slider.step or 1:g})")


def _check_plays(interaction: Interaction, value: Any, where: str, previous: Any) -> int:
    """A play count: a whole number, at most the item's ``max_plays``, never below the saved one (a
    page that lowered it could play the media again)."""
    player = interaction.player
    if player is None or not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError(where, "must be a play count (a whole number from 1)")
    if player.max_plays and value > player.max_plays:
        raise ValidationError(where, f"{value} plays: the item allows at most {player.max_plays}")
    if isinstance(previous, int) and value < previous:
        raise ValidationError(where, f"{value} plays: {previous} were recorded already")
    return value


def _check_pairs(interaction: Interaction, pairs: list[list[str]], where: str) -> None:
    sources, targets = _pair_domains(interaction)
    seen: set[tuple[str, ...]] = set()
    for i, (left, right) in enumerate(pairs):
        if left not in sources or right not in targets:
            raise ValidationError(f"{where}[{i}]", f"{left} {right} is not a possible pair")
        key = tuple(sorted((left, right))) if interaction.base_type == "pair" else (left, right)
        if left == right or key in seen:
            raise ValidationError(f"{where}[{i}]", f"{left} {right} is repeated or pairs an option with itself")
        seen.add(key)
    uses = Counter(x for pair in pairs for x in pair)
    limits = {c.id: c.match_max for c in interaction.choices + interaction.targets}
    limits.update({h.id: h.match_max for h in interaction.hotspots})
    for ident, count in uses.items():
        limit = limits.get(ident, 0)
        if limit and count > limit:
            raise ValidationError(where, f"{ident} is used {count} times, at most {limit} allowed")


def _check_points(interaction: Interaction, points: list[list[float]], where: str,
                  image_size: tuple[int, int] | None) -> None:
    if image_size is None:
        raise ValidationError(where, "the image's size is unknown, so no point on it can be accepted")
    width, height = image_size
    for i, (x, y) in enumerate(points):
        if not (0 <= x <= width and 0 <= y <= height):
            raise ValidationError(f"{where}[{i}]" if interaction.cardinality != "single" else where,
                                  f"point ({x}, {y}) lies outside the {width} x {height} image")

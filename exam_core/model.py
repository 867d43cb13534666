"""The wire data model that every tier shares: items, answer keys, forms, attempts, responses.

Each record is a frozen :class:`~exam_core.records.Record` with ``to_dict()`` (plain JSON-ready
values) and a strict ``from_dict()`` written with :class:`~exam_core.records.Fields`: exactly the
documented fields, every type, length and enumerated value checked, errors naming the offending
field by its full path (for example ``items[3].interactions[0].choices[1].id: must match ...``).

Response values (``Response.value`` and answer keys) use one JSON shape per QTI base type and
cardinality, so the kiosk, scoring and item analysis agree without translation:

================  ==========================  =====================================
base type         single                      multiple / ordered
================  ==========================  =====================================
identifier        ``"A"``                     ``["A", "C"]`` (ordered: in order)
pair, directedPair ``["A", "G1"]``            ``[["A", "G1"], ["B", "G2"]]``
point             ``[102, 113]``              ``[[102, 113], ...]``
string            ``"text"``                  ``["a", "b"]``
file (a drawing)  ``"data:image/png;base64,..."``
integer, float    ``3`` / ``2.5``             ``[1, 2]``
================  ==========================  =====================================

``None`` means "no response". Pairs of a ``pair`` base type are unordered for scoring; map keys for
pairs are the two identifiers joined by one space (``"A G1"``), as in QTI.

Item bodies are a sanitised XHTML fragment (see ``ALLOWED_BODY_TAGS``). Each interaction is placed
where ``<div data-interaction="RESPONSE_ID"></div>`` (block) or ``<span data-interaction="..."></span>``
(inline: inline choice, text entry) stands. Hot text and gap match keep their own text in
``Interaction.content_html``, where ``<span data-hottext="ID">words</span>`` and
``<span data-gap="ID"></span>`` mark the choices and gaps. Images refer to media as
``<img src="media:SHA256" alt="...">``. A recording in the body or a prompt that is not an
interaction (a listening item's "Listen, then choose") stands as ``<div data-player="N"></div>``
(or ``span`` inside a paragraph): ``Item.players[N - 1]`` is played there with the kiosk's own
buttons.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from exam_core.errors import ValidationError
from exam_core.records import MAX_LIST, MAX_SHORT, Fields, Record, check_number, check_str, check_unique

IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# ISO 8601 with an explicit UTC offset; parsing to datetime is left to the caller's clock logic.
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")

INTERACTION_TYPES = (
    "choice", "inline_choice", "text_entry", "extended_text", "order", "match",
    "associate", "gap_match", "hottext", "hotspot", "slider", "graphic_order", "graphic_associate",
    "graphic_gap_match", "media", "drawing",
)
#: Interactions drawn over an image whose areas (``Interaction.hotspots``) are the options
#: (graphic gap match: the gaps its choices are placed in).
GRAPHIC_TYPES = ("hotspot", "graphic_order", "graphic_associate", "graphic_gap_match")
#: Interactions whose answer lists every option in the candidate's order.
ORDER_TYPES = ("order", "graphic_order")
SLIDER_ORIENTATIONS = ("horizontal", "vertical")
#: The most positions a slider may have: each is a value the kiosk offers by keyboard.
MAX_SLIDER_POSITIONS = 100_000
CARDINALITIES = ("single", "multiple", "ordered")
BASE_TYPES = ("identifier", "pair", "directedPair", "point", "string", "integer", "float", "file")
#: A ``file`` response (a drawing) is a PNG as a data URL, at most this many characters (about
#: 75 KB of PNG, the longest string a Response carries): strokes on a transparent canvas compress
#: to far less.
MAX_FILE_VALUE = 100_000
FILE_VALUE_RE = re.compile(r"^data:image/png;base64,[A-Za-z0-9+/]+={0,2}$")
#: ``unscored``: a response recorded but worth nothing (a media interaction's play count that no
#: rule scores: the item's other interactions carry its score).
SCORING_TEMPLATES = ("match_correct", "map_response", "map_response_point", "human", "unscored")
HOTSPOT_SHAPES = ("rect", "circle", "ellipse", "poly", "default")
ITEM_STATUSES = ("draft", "reviewed", "approved", "retired")
SEVERITIES = ("info", "low", "medium", "high", "critical")
ATTEMPT_STATES = (
    "waiting", "admitted", "agreement", "instructions", "in_progress", "paused",
    "submitted", "ended",
)
CERT_ROLES = ("central", "centre", "kiosk")
ALLOWED_BODY_TAGS = frozenset({
    "p", "br", "em", "strong", "b", "i", "u", "sub", "sup", "span", "div", "ul", "ol", "li",
    "blockquote", "pre", "code", "table", "thead", "tbody", "tr", "th", "td", "caption",
    "h1", "h2", "h3", "h4", "h5", "h6", "img", "hr", "q", "cite", "abbr", "dl", "dt", "dd",
    "math", "figure", "figcaption",
})
#: MathML elements kept inside ``<math>`` (and only there): what MathML Core renders, without
#: links, actions or anything that runs.
MATHML_TAGS = frozenset({
    "mi", "mo", "mn", "ms", "mtext", "mrow", "mfrac", "msqrt", "mroot", "msup", "msub", "msubsup",
    "munder", "mover", "munderover", "mtable", "mtr", "mtd", "mspace", "mpadded", "mphantom",
    "mfenced", "menclose", "mstyle", "semantics", "annotation",
})
#: Presentation attributes a MathML element keeps.
MATH_ATTRS = frozenset({"mathvariant", "display", "stretchy", "fence", "separator", "accent",
                        "linethickness", "notation", "open", "close", "encoding"})

MAX_TEXT = 1_000_000          # one HTML fragment
#: What a media file may be: a picture, a recording, or the WebVTT captions of a recording.
MEDIA_MIME_RE = re.compile(r"^((image|audio|video)/[a-z0-9.+\-]{1,60}|text/vtt)$")
#: Where an item's player N stands in its body or a prompt.
_PLAYER_PLACE = re.compile(r'\bdata-player="(\d{1,3})"')
#: Kinds of timed text a recording may carry (HTML ``track@kind``): text shown with the recording.
TRACK_KINDS = ("captions", "subtitles")


# --- response values -------------------------------------------------------------------------

def check_response_value(value: Any, cardinality: str, base_type: str, where: str) -> Any:
    """Check that a response value has the JSON shape its declaration demands (see module doc)."""
    if value is None:
        return None
    if cardinality == "single":
        return _check_single_value(value, base_type, where)
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise ValidationError(where, f"must be a list for cardinality {cardinality}")
    return [_check_single_value(v, base_type, f"{where}[{i}]") for i, v in enumerate(value)]


def _check_single_value(value: Any, base_type: str, where: str) -> Any:
    if base_type == "identifier":
        return check_str(value, where, pattern=IDENTIFIER_RE)
    if base_type in ("pair", "directedPair"):
        if not isinstance(value, list) or len(value) != 2:
            raise ValidationError(where, "must be a list of two identifiers")
        return [check_str(v, f"{where}[{i}]", pattern=IDENTIFIER_RE) for i, v in enumerate(value)]
    if base_type == "point":
        if not isinstance(value, list) or len(value) != 2:
            raise ValidationError(where, "must be a list [x, y]")
        return [check_number(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if base_type == "string":
        return check_str(value, where, max_len=100_000)
    if base_type == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationError(where, "must be an integer")
        return value
    if base_type == "float":
        return check_number(value, where)
    if base_type == "file":
        return check_str(value, where, max_len=MAX_FILE_VALUE, pattern=FILE_VALUE_RE)
    raise ValidationError(where, f"unknown base type {base_type}")


# --- items -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class MediaRef(Record):
    """A media file an item shows; the bytes travel in the form package, addressed by hash."""

    sha256: str
    mime: str
    name: str = ""
    width: int | None = None
    height: int | None = None
    #: What the image shows, for a screen reader (an interaction image's fallback text); the file
    #: ``name`` stands in when empty. Left out of ``to_dict`` when empty: older items keep their bytes.
    alt: str = ""

    OMIT_AT_DEFAULT = ("alt",)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> MediaRef:
        r = Fields(data, path)
        out = cls(
            sha256=r.str("sha256", pattern=SHA256_RE),
            mime=r.str("mime", pattern=MEDIA_MIME_RE),
            name=r.str("name", "", max_len=255),
            width=r.int("width", None, minimum=1, maximum=20_000),
            height=r.int("height", None, minimum=1, maximum=20_000),
            alt=r.str("alt", "", max_len=MAX_SHORT),
        )
        r.done()
        return out


@dataclass(frozen=True)
class Choice(Record):
    """An option, a hot text, a gap text, a match or associate set member."""

    id: str
    html: str = ""
    fixed: bool = False
    match_max: int = 1

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Choice:
        r = Fields(data, path)
        out = cls(
            id=r.str("id", pattern=IDENTIFIER_RE),
            html=r.str("html", "", max_len=MAX_TEXT),
            fixed=r.bool("fixed", False),
            match_max=r.int("match_max", 1, minimum=0, maximum=MAX_LIST),
        )
        r.done()
        return out


@dataclass(frozen=True)
class Hotspot(Record):
    """A selectable area of an image, in image pixel coordinates (QTI shapes)."""

    id: str
    shape: str
    coords: tuple[float, ...] = ()
    label: str = ""
    #: How many associations the area may take part in (QTI ``associableHotspot@matchMax``; 0: any).
    match_max: int = 1

    #: Without ``match_max`` when it is 1, so hotspots stored before it keep their bytes.
    OMIT_AT_DEFAULT = ("match_max",)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Hotspot:
        r = Fields(data, path)
        coords = r.list("coords", [], max_len=2_000)
        out = cls(
            id=r.str("id", pattern=IDENTIFIER_RE),
            shape=r.str("shape", choices=HOTSPOT_SHAPES),
            coords=tuple(check_number(c, f"{r.where('coords')}[{i}]") for i, c in enumerate(coords)),
            label=r.str("label", "", max_len=MAX_SHORT),
            match_max=r.int("match_max", 1, minimum=0, maximum=MAX_LIST),
        )
        r.done()
        return out


@dataclass(frozen=True)
class SliderRange(Record):
    """The values a slider offers (QTI ``sliderInteraction``): ``lower`` to ``upper`` by ``step``.

    The answer is a single integer or float on that grid; the kiosk refuses any other value, so a
    tampered page cannot post a number the slider never offered. ``step_label``, ``orientation``
    and ``reverse`` are the item's presentation hints, kept so that an export says what the import
    read.
    """

    lower: float
    upper: float
    step: float | None = None
    step_label: bool = False
    orientation: str = "horizontal"
    reverse: bool = False

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> SliderRange:
        r = Fields(data, path)
        out = cls(
            lower=r.float("lower"),
            upper=r.float("upper"),
            step=r.float("step", None),
            step_label=r.bool("step_label", False),
            orientation=r.str("orientation", "horizontal", choices=SLIDER_ORIENTATIONS),
            reverse=r.bool("reverse", False),
        )
        r.done()
        if not out.lower < out.upper:
            raise ValidationError(r.where("upper"), "must be above lower")
        if out.step is not None and out.step <= 0:
            raise ValidationError(r.where("step"), "must be above zero")
        if out.positions() > MAX_SLIDER_POSITIONS:
            raise ValidationError(r.where("step"), f"gives more than {MAX_SLIDER_POSITIONS} positions")
        return out

    def positions(self) -> int:
        """How many values the slider offers (one per step, both ends included)."""
        step = self.step or 1.0
        return math.floor((self.upper - self.lower) / step + 1e-9) + 1

    def offers(self, value: float) -> bool:
        """Whether ``value`` is one of the slider's values (within the range and on a step)."""
        if not self.lower <= value <= self.upper:
            return False
        steps = (value - self.lower) / (self.step or 1.0)
        return abs(steps - round(steps)) < 1e-6


@dataclass(frozen=True)
class CaptionTrack(Record):
    """Timed text of a recording (HTML ``<track>``): a WebVTT file from the package, by hash.

    ``srclang`` and ``label`` name it in the kiosk's caption list; ``default`` shows it from the
    start (the candidate may switch it off).
    """

    media: MediaRef
    kind: str = "captions"
    srclang: str = ""
    label: str = ""
    default: bool = False

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> CaptionTrack:
        r = Fields(data, path)
        out = cls(
            media=r.record("media", MediaRef),
            kind=r.str("kind", "captions", choices=TRACK_KINDS),
            srclang=r.str("srclang", "", max_len=35, pattern=re.compile(r"^([A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)?$")),
            label=r.str("label", "", max_len=200),
            default=r.bool("default", False),
        )
        r.done()
        if out.media.mime != "text/vtt":
            raise ValidationError(r.where("media.mime"), "must be text/vtt")
        return out


@dataclass(frozen=True)
class MediaPlayer(Record):
    """Audio or video a candidate plays from the form package (QTI ``mediaInteraction``).

    The response is how many times it was started. ``max_plays`` (0: no limit) is enforced by the
    kiosk's page and checked by its server; ``min_plays`` is what the item asks before answering
    (told to the candidate, not forced). ``autostart`` and ``loop`` are kept as the item says; the
    kiosk never starts sound by itself (it would talk over a screen reader, WCAG 1.4.2).
    """

    media: MediaRef
    min_plays: int = 0
    max_plays: int = 0
    loop: bool = False
    autostart: bool = False
    #: Captions or subtitles (WebVTT files in the package) the candidate may switch on; left out
    #: of ``to_dict`` when none, so items stored before them keep their bytes (and content hash).
    tracks: tuple[CaptionTrack, ...] = ()

    OMIT_AT_DEFAULT = ("tracks",)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> MediaPlayer:
        r = Fields(data, path)
        out = cls(
            media=r.record("media", MediaRef),
            min_plays=r.int("min_plays", 0, minimum=0, maximum=1_000),
            max_plays=r.int("max_plays", 0, minimum=0, maximum=1_000),
            loop=r.bool("loop", False),
            autostart=r.bool("autostart", False),
            tracks=r.records("tracks", CaptionTrack, [], max_len=20),
        )
        r.done()
        if sum(t.default for t in out.tracks) > 1:
            raise ValidationError(r.where("tracks"), "at most one track may be the default")
        if not out.media.mime.startswith(("audio/", "video/")):
            raise ValidationError(r.where("media.mime"), "must be audio or video")
        if out.max_plays and out.min_plays > out.max_plays:
            raise ValidationError(r.where("min_plays"), "must not be above max_plays")
        return out


@dataclass(frozen=True)
class Interaction(Record):
    """One response-bearing interaction of an item, as the candidate sees it (never its key)."""

    type: str
    response_id: str
    cardinality: str
    base_type: str
    prompt_html: str = ""
    content_html: str = ""
    choices: tuple[Choice, ...] = ()
    targets: tuple[Choice, ...] = ()
    hotspots: tuple[Hotspot, ...] = ()
    image: MediaRef | None = None
    shuffle: bool = False
    min_choices: int = 0
    max_choices: int = 1
    expected_length: int | None = None
    expected_lines: int | None = None
    pattern_mask: str | None = None
    #: The slider's range (type ``slider`` only); left out of ``to_dict`` when None.
    slider: SliderRange | None = None
    #: The audio or video and its play limits (type ``media`` only); left out when None.
    player: MediaPlayer | None = None

    #: ``slider`` and ``player`` only for their types, so items stored before them keep their
    #: bytes (and their content hash).
    OMIT_AT_DEFAULT = ("slider", "player")

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Interaction:
        r = Fields(data, path)
        out = cls(
            type=r.str("type", choices=INTERACTION_TYPES),
            response_id=r.str("response_id", pattern=IDENTIFIER_RE),
            cardinality=r.str("cardinality", choices=CARDINALITIES),
            base_type=r.str("base_type", choices=BASE_TYPES),
            prompt_html=r.str("prompt_html", "", max_len=MAX_TEXT),
            content_html=r.str("content_html", "", max_len=MAX_TEXT),
            choices=r.records("choices", Choice, []),
            targets=r.records("targets", Choice, []),
            hotspots=r.records("hotspots", Hotspot, []),
            image=r.record("image", MediaRef, None),
            shuffle=r.bool("shuffle", False),
            min_choices=r.int("min_choices", 0, minimum=0, maximum=MAX_LIST),
            max_choices=r.int("max_choices", 1, minimum=0, maximum=MAX_LIST),
            expected_length=r.int("expected_length", None, minimum=1, maximum=100_000),
            expected_lines=r.int("expected_lines", None, minimum=1, maximum=10_000),
            pattern_mask=r.str("pattern_mask", None, max_len=500),
            slider=r.record("slider", SliderRange, None),
            player=r.record("player", MediaPlayer, None),
        )
        r.done()
        if (out.type == "slider") != (out.slider is not None):
            raise ValidationError(r.where("slider"), "is required for a slider and only for a slider")
        if (out.type == "media") != (out.player is not None):
            raise ValidationError(r.where("player"), "is required for a media interaction and only for one")
        check_unique([c.id for c in out.choices + out.targets] + [h.id for h in out.hotspots],
                      r.where("choices"))
        return out


@dataclass(frozen=True)
class Item(Record):
    """An item as delivered to candidates: content only, never the answer key."""

    item_id: str
    version: int
    title: str
    body_html: str
    interactions: tuple[Interaction, ...]
    media: tuple[MediaRef, ...] = ()
    language: str = "en"
    competency_area: str | None = None
    #: Recordings placed in the body or a prompt by ``data-player="N"`` (from 1), not interactions:
    #: nothing is recorded when they are played. Left out of ``to_dict`` when none, so items stored
    #: before them keep their bytes (and content hash).
    players: tuple[MediaPlayer, ...] = ()

    OMIT_AT_DEFAULT = ("players",)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Item:
        r = Fields(data, path)
        out = cls(
            item_id=r.str("item_id", pattern=IDENTIFIER_RE),
            version=r.int("version", minimum=1),
            title=r.str("title", max_len=MAX_SHORT),
            body_html=r.str("body_html", max_len=MAX_TEXT),
            interactions=r.records("interactions", Interaction, max_len=50),
            media=r.records("media", MediaRef, []),
            language=r.str("language", "en", max_len=35),
            competency_area=r.str("competency_area", None, max_len=MAX_SHORT),
            players=r.records("players", MediaPlayer, [], max_len=20),
        )
        r.done()
        if not out.interactions:
            raise ValidationError(r.where("interactions"), "must hold at least one interaction")
        check_unique([i.response_id for i in out.interactions], r.where("interactions"))
        if out.players:
            html = out.body_html + "".join(i.prompt_html for i in out.interactions)
            placed = sorted(int(n) for n in _PLAYER_PLACE.findall(html))
            if placed != list(range(1, len(out.players) + 1)):
                raise ValidationError(r.where("players"), 'each must be placed once, by data-player="N" (N from 1) '
                                                          "in the body or a prompt")
        return out

    def interaction(self, response_id: str) -> Interaction:
        for candidate in self.interactions:
            if candidate.response_id == response_id:
                return candidate
        raise KeyError(response_id)


@dataclass(frozen=True)
class AreaMapEntry(Record):
    """One scored area for map_response_point (QTI areaMapping)."""

    shape: str
    coords: tuple[float, ...]
    value: float

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> AreaMapEntry:
        r = Fields(data, path)
        coords = r.list("coords", max_len=2_000)
        out = cls(
            shape=r.str("shape", choices=HOTSPOT_SHAPES),
            coords=tuple(check_number(c, f"{r.where('coords')}[{i}]") for i, c in enumerate(coords)),
            value=r.float("value"),
        )
        r.done()
        return out


TOLERANCE_MODES = ("absolute", "relative")


@dataclass(frozen=True)
class Tolerance(Record):
    """A numeric match_correct within a tolerance (QTI ``equal`` with ``toleranceMode``).

    QTI: ``equal(x, y)`` is true when y lies in [x - low, x + high] (absolute) or
    [x * (1 - low/100), x * (1 + high/100)] (relative), each bound included unless said
    otherwise. ``around`` names which operand is x: ``response`` for ``equal(RESPONSE,
    correct)``, the usual spelling, or ``correct`` for ``equal(correct, RESPONSE)``.
    """

    mode: str
    low: float
    high: float
    include_lower: bool = True
    include_upper: bool = True
    around: str = "response"

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Tolerance:
        r = Fields(data, path)
        out = cls(mode=r.str("mode", choices=TOLERANCE_MODES), low=r.float("low"), high=r.float("high"),
                  include_lower=r.bool("include_lower", True), include_upper=r.bool("include_upper", True),
                  around=r.str("around", "response", choices=("response", "correct")))
        r.done()
        if out.low < 0 or out.high < 0:
            raise ValidationError(r.where("low"), "a tolerance is two numbers of at least 0")
        return out

    def holds(self, response: float, correct: float) -> bool:
        """Whether ``response`` equals ``correct`` within this tolerance (QTI ``equal``)."""
        x, y = (response, correct) if self.around == "response" else (correct, response)
        if self.mode == "absolute":
            low, high = x - self.low, x + self.high
        else:
            low, high = sorted((x * (1 - self.low / 100), x * (1 + self.high / 100)))
        above = y >= low if self.include_lower else y > low
        below = y <= high if self.include_upper else y < high
        return above and below


@dataclass(frozen=True)
class ResponseKey(Record):
    """How one response of an item is scored. Lives only at the central body."""

    response_id: str
    cardinality: str
    base_type: str
    template: str
    correct: Any = None
    mapping: dict[str, float] = field(default_factory=dict)
    default_value: float = 0.0
    lower_bound: float | None = None
    upper_bound: float | None = None
    area_mapping: tuple[AreaMapEntry, ...] = ()
    case_sensitive: bool = True
    max_score: float = 1.0
    #: match_correct of a single integer or float within a tolerance (None: exact).
    tolerance: Tolerance | None = None

    #: Without ``tolerance`` when None, so keys stored before it existed keep their bytes.
    OMIT_AT_DEFAULT = ("tolerance",)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> ResponseKey:
        r = Fields(data, path)
        cardinality = r.str("cardinality", choices=CARDINALITIES)
        base_type = r.str("base_type", choices=BASE_TYPES)
        mapping = r.dict("mapping", {})
        out = cls(
            response_id=r.str("response_id", pattern=IDENTIFIER_RE),
            cardinality=cardinality,
            base_type=base_type,
            template=r.str("template", choices=SCORING_TEMPLATES),
            correct=check_response_value(r.raw("correct", None, nullable=True), cardinality,
                                         base_type, r.where("correct")),
            mapping={check_str(k, f"{r.where('mapping')}.{k}", max_len=100_000):
                     check_number(v, f"{r.where('mapping')}.{k}") for k, v in mapping.items()},
            default_value=r.float("default_value", 0.0),
            lower_bound=r.float("lower_bound", None),
            upper_bound=r.float("upper_bound", None),
            area_mapping=r.records("area_mapping", AreaMapEntry, []),
            case_sensitive=r.bool("case_sensitive", True),
            max_score=r.float("max_score", 1.0),
            tolerance=r.record("tolerance", Tolerance, None),
        )
        r.done()
        if out.tolerance is not None and (out.template != "match_correct" or out.cardinality != "single"
                                          or out.base_type not in ("integer", "float")):
            raise ValidationError(r.where("tolerance"), "applies only to match_correct of a single integer or float")
        return out


@dataclass(frozen=True)
class TemplateFamily(Record):
    """An item family (QTI template processing): the item's QTI text as imported.

    Why on the key: the family's template processing computes the answer (``setCorrectResponse``),
    so it is as secret as the key and never leaves the central body. Form build draws one instance
    from it per form version (``item_bank_sync.items.qti.families``); the item stored in the bank is
    a preview instance drawn with ``preview_seed``. Media in the text are named ``media:SHA256``
    (files of the bank's media store), so the text does not depend on the file names of an import.
    """

    qti: str
    preview_seed: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> TemplateFamily:
        r = Fields(data, path)
        out = cls(qti=r.str("qti", max_len=MAX_TEXT), preview_seed=r.str("preview_seed", "", max_len=64))
        r.done()
        return out


@dataclass(frozen=True)
class AnswerKey(Record):
    """The scoring rules of one item version. Never leaves the central body.

    ``rubric_html`` holds the item's rubric for scorers (marking guide, model answer; sanitised
    XHTML): it is for the people who mark, so it travels with the key, never with the item.
    """

    item_id: str
    version: int
    responses: tuple[ResponseKey, ...]
    rubric_html: str = ""
    #: The item family when the item is a QTI template (its responses are then the preview's).
    family: TemplateFamily | None = None

    #: Without ``rubric_html`` when empty and ``family`` when None, so keys written before they
    #: existed keep their bytes (and content hash).
    OMIT_AT_DEFAULT = ("rubric_html", "family")

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> AnswerKey:
        r = Fields(data, path)
        out = cls(
            item_id=r.str("item_id", pattern=IDENTIFIER_RE),
            version=r.int("version", minimum=1),
            responses=r.records("responses", ResponseKey, max_len=50),
            rubric_html=r.str("rubric_html", "", max_len=MAX_TEXT),
            family=r.record("family", TemplateFamily, None),
        )
        r.done()
        return out


# --- forms and packages ----------------------------------------------------------------------

@dataclass(frozen=True)
class FormItemRef(Record):
    """One slot of a form: which item version, in which blueprint area."""

    item_id: str
    version: int
    area: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> FormItemRef:
        r = Fields(data, path)
        out = cls(item_id=r.str("item_id", pattern=IDENTIFIER_RE),
                  version=r.int("version", minimum=1),
                  area=r.str("area", "", max_len=MAX_SHORT))
        r.done()
        return out


CALCULATORS = ("none", "basic", "scientific")


@dataclass(frozen=True)
class CandidateTools(Record):
    """The candidate tools a scheme allows on its forms; all off unless the scheme says otherwise.

    Each is a setting of the scheme because whether a tool is fair depends on what the exam
    measures (no calculator in an arithmetic exam, no read-aloud in a reading exam).
    ``text_to_speech`` permits reading aloud as an accommodation: a candidate gets it only when
    the roster also grants it (``Accommodations.text_to_speech``). A form without ``tools`` (every
    package made before they existed) has none.
    """

    calculator: str = "none"
    scratch_pad: bool = False
    highlighter: bool = False
    strike_through: bool = False
    line_reader: bool = False
    text_to_speech: bool = False

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> CandidateTools:
        r = Fields(data, path)
        out = cls(calculator=r.str("calculator", "none", choices=CALCULATORS),
                  scratch_pad=r.bool("scratch_pad", False), highlighter=r.bool("highlighter", False),
                  strike_through=r.bool("strike_through", False), line_reader=r.bool("line_reader", False),
                  text_to_speech=r.bool("text_to_speech", False))
        r.done()
        return out


@dataclass(frozen=True)
class Form(Record):
    """A fixed linear form assembled from a scheme's blueprint."""

    form_id: str
    version: int
    scheme_id: str
    scheme_version: int
    title: str
    duration_seconds: int
    items: tuple[FormItemRef, ...]
    instructions_html: str = ""
    agreement_html: str = ""
    tools: CandidateTools = field(default_factory=CandidateTools)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Form:
        r = Fields(data, path)
        out = cls(
            form_id=r.str("form_id", pattern=IDENTIFIER_RE),
            version=r.int("version", minimum=1),
            scheme_id=r.str("scheme_id", pattern=IDENTIFIER_RE),
            scheme_version=r.int("scheme_version", minimum=1),
            title=r.str("title"),
            duration_seconds=r.int("duration_seconds", minimum=1, maximum=7 * 24 * 3600),
            items=r.records("items", FormItemRef),
            instructions_html=r.str("instructions_html", "", max_len=MAX_TEXT),
            agreement_html=r.str("agreement_html", "", max_len=MAX_TEXT),
            tools=r.record("tools", CandidateTools, None) or CandidateTools(),
        )
        r.done()
        if not out.items:
            raise ValidationError(r.where("items"), "must hold at least one item")
        check_unique([i.item_id for i in out.items], r.where("items"))
        return out


@dataclass(frozen=True)
class FormContent(Record):
    """What a form package decrypts to: the form and its items (no keys). Media travel beside it."""

    form: Form
    items: tuple[Item, ...]

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> FormContent:
        r = Fields(data, path)
        out = cls(form=r.record("form", Form), items=r.records("items", Item))
        r.done()
        wanted = {(i.item_id, i.version) for i in out.form.items}
        present = {(i.item_id, i.version) for i in out.items}
        if wanted != present:
            missing = sorted(wanted - present) or sorted(present - wanted)
            raise ValidationError(r.where("items"), f"do not match the form's item list: {missing[0]}")
        return out


@dataclass(frozen=True)
class FormPackageManifest(Record):
    """The signed, public description of one form package for one test centre."""

    package_id: str
    form_id: str
    form_version: int
    scheme_id: str
    centre_id: str
    opens: str
    closes: str
    created: str
    content_size: int
    title: str = ""
    duration_seconds: int = 0
    item_count: int = 0
    release_code_required: bool = False
    #: The scheme's accommodation policy; None in packages made before it travelled (then the
    #: centre knows no policy and cannot check a roster's grants against the scheme).
    accommodation_policy: AccommodationPolicy | None = None
    #: ``accommodation_policy`` only when known, so a manifest without one reads and writes as it
    #: did before the field existed.
    OMIT_AT_DEFAULT = ("accommodation_policy",)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> FormPackageManifest:
        r = Fields(data, path)
        out = cls(
            package_id=r.str("package_id", pattern=IDENTIFIER_RE),
            form_id=r.str("form_id", pattern=IDENTIFIER_RE),
            form_version=r.int("form_version", minimum=1),
            scheme_id=r.str("scheme_id", pattern=IDENTIFIER_RE),
            centre_id=r.str("centre_id", pattern=IDENTIFIER_RE),
            opens=r.str("opens", pattern=TIMESTAMP_RE),
            closes=r.str("closes", pattern=TIMESTAMP_RE),
            created=r.str("created", pattern=TIMESTAMP_RE),
            content_size=r.int("content_size", minimum=0),
            title=r.str("title", ""),
            duration_seconds=r.int("duration_seconds", 0, minimum=0),
            item_count=r.int("item_count", 0, minimum=0),
            release_code_required=r.bool("release_code_required", False),
            accommodation_policy=r.record("accommodation_policy", AccommodationPolicy, None),
        )
        r.done()
        return out


# --- delivery --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Accommodations(Record):
    """What a candidate is granted; the attempt records which were actually used."""

    extra_time_percent: int = 0
    large_text: bool = False
    high_contrast: bool = False
    zoom_percent: int = 100
    rest_breaks: int = 0
    rest_break_minutes: int = 0
    monitor_profile: str = ""
    text_to_speech: bool = False    # questions read aloud, where the form's scheme permits it
    screen_reader: bool = False     # the kiosk's lockdown runs the screen reader (Orca) for this candidate

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Accommodations:
        r = Fields(data, path)
        out = cls(
            extra_time_percent=r.int("extra_time_percent", 0, minimum=0, maximum=400),
            large_text=r.bool("large_text", False),
            high_contrast=r.bool("high_contrast", False),
            zoom_percent=r.int("zoom_percent", 100, minimum=50, maximum=400),
            rest_breaks=r.int("rest_breaks", 0, minimum=0, maximum=20),
            rest_break_minutes=r.int("rest_break_minutes", 0, minimum=0, maximum=240),
            monitor_profile=r.str("monitor_profile", "", max_len=100),
            text_to_speech=r.bool("text_to_speech", False),
            screen_reader=r.bool("screen_reader", False),
        )
        r.done()
        return out


#: Accommodation names, as a scheme's ``accommodations_allowed`` lists them.
ACCOMMODATION_NAMES = tuple(Accommodations.__dataclass_fields__)
#: Settings that only shape another accommodation: allowed together with it.
_PART_OF = {"rest_break_minutes": "rest_breaks"}


def allowed_seconds(duration_seconds: int, accommodations: Accommodations) -> int:
    """The exam time a candidate is allowed: the form's duration with the extra-time accommodation.

    The one place an accommodation turns into time. Each tier used to do its own sum, and the
    console's stretched duration was stretched again by the kiosk (issue 13: 100 % extra on a
    30-minute exam gave two hours). The console calls this once at admission and stores the result
    in ``Attempt.duration_seconds``; kiosk and central body read it through
    :meth:`Attempt.allowed_seconds`. Whole seconds, rounded down; proctor extensions come on top.
    """
    return duration_seconds * (100 + accommodations.extra_time_percent) // 100


@dataclass(frozen=True)
class AccommodationPolicy(Record):
    """What a certification scheme allows (its ``accommodations_allowed`` and
    ``max_extra_time_percent``), carried in the signed manifest of its form packages so a test
    centre can refuse a roster grant the scheme does not allow, before anyone sits."""

    accommodations_allowed: tuple[str, ...] = ()
    max_extra_time_percent: int = 0

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> AccommodationPolicy:
        r = Fields(data, path)
        names = r.list("accommodations_allowed", [], max_len=len(ACCOMMODATION_NAMES))
        where = r.where("accommodations_allowed")
        out = cls(accommodations_allowed=tuple(check_str(n, f"{where}[{i}]", choices=ACCOMMODATION_NAMES)
                                               for i, n in enumerate(names)),
                  max_extra_time_percent=r.int("max_extra_time_percent", 0, minimum=0, maximum=400))
        r.done()
        check_unique(list(out.accommodations_allowed), where)
        return out

    def refusals(self, granted: Accommodations) -> list[str]:
        """Why ``granted`` goes beyond this policy, one plain reason per accommodation (empty: all
        allowed). A setting left at its default is no grant and needs no permission."""
        allowed = set(self.accommodations_allowed)
        default = Accommodations()
        reasons = []
        for name in ACCOMMODATION_NAMES:
            value = getattr(granted, name)
            if value == getattr(default, name):
                continue
            if name not in allowed and _PART_OF.get(name) not in allowed:
                reasons.append(f"{name} {_setting_text(value)}: the scheme does not allow this accommodation")
            elif name == "extra_time_percent" and value > self.max_extra_time_percent:
                reasons.append(f"extra_time_percent {value}: the scheme allows at most "
                               f"{self.max_extra_time_percent}")
        return reasons


def _setting_text(value: Any) -> str:
    """A setting as the roster writes it (``true``, ``150``, ``"name"``), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value!r}" if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Attempt(Record):
    """One candidate's sitting of one form on one kiosk."""

    attempt_id: str
    candidate_id: str
    form_id: str
    form_version: int
    package_id: str
    centre_id: str
    kiosk_id: str
    option_seed: int
    state: str = "waiting"
    candidate_name: str = ""
    seat: str = ""
    accommodations: Accommodations = field(default_factory=Accommodations)
    #: Exam time allowed, the extra-time accommodation applied (:func:`allowed_seconds`); 0: not stated.
    duration_seconds: int = 0

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Attempt:
        r = Fields(data, path)
        out = cls(
            attempt_id=r.str("attempt_id", pattern=IDENTIFIER_RE),
            candidate_id=r.str("candidate_id", pattern=IDENTIFIER_RE),
            form_id=r.str("form_id", pattern=IDENTIFIER_RE),
            form_version=r.int("form_version", minimum=1),
            package_id=r.str("package_id", pattern=IDENTIFIER_RE),
            centre_id=r.str("centre_id", pattern=IDENTIFIER_RE),
            kiosk_id=r.str("kiosk_id", pattern=IDENTIFIER_RE),
            option_seed=r.int("option_seed", minimum=0, maximum=2**63 - 1),
            state=r.str("state", "waiting", choices=ATTEMPT_STATES),
            candidate_name=r.str("candidate_name", "", max_len=300),
            seat=r.str("seat", "", max_len=50),
            accommodations=r.record("accommodations", Accommodations, None) or Accommodations(),
            duration_seconds=r.int("duration_seconds", 0, minimum=0),
        )
        r.done()
        return out

    def allowed_seconds(self, form_duration_seconds: int) -> int:
        """The exam time this candidate is allowed, proctor extensions not included.

        ``duration_seconds`` already is that time (the console sets it at admission with
        :func:`allowed_seconds`, the extra-time accommodation applied), so no tier stretches it
        again. An attempt without it (0: made by test tools or before the field) gets the form's
        duration stretched here, by the same function.
        """
        return self.duration_seconds or allowed_seconds(form_duration_seconds, self.accommodations)


@dataclass(frozen=True)
class Response(Record):
    """One answer change, as journaled by the kiosk and carried in the sealed envelope."""

    attempt_id: str
    seq: int
    item_id: str
    response_id: str
    value: Any
    wall_time: str
    elapsed_ms: int
    flagged: bool = False

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Response:
        r = Fields(data, path)
        value = r.raw("value", None, nullable=True)
        out = cls(
            attempt_id=r.str("attempt_id", pattern=IDENTIFIER_RE),
            seq=r.int("seq", minimum=0),
            item_id=r.str("item_id", pattern=IDENTIFIER_RE),
            response_id=r.str("response_id", pattern=IDENTIFIER_RE),
            value=_check_any_value(value, r.where("value")),
            wall_time=r.str("wall_time", pattern=TIMESTAMP_RE),
            elapsed_ms=r.int("elapsed_ms", minimum=0),
            flagged=r.bool("flagged", False),
        )
        r.done()
        return out


def _check_any_value(value: Any, where: str, depth: int = 0) -> Any:
    """A response value before its declaration is known: scalars or lists of them, two deep."""
    if value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool)):
        if isinstance(value, str):
            check_str(value, where, max_len=100_000)
        elif isinstance(value, float):
            check_number(value, where)
        return value
    if isinstance(value, list) and depth < 2 and len(value) <= MAX_LIST:
        return [_check_any_value(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    raise ValidationError(where, "must be a string, number, or a list of them (two levels at most)")


@dataclass(frozen=True)
class Event(Record):
    """A monitoring or lifecycle event from a kiosk; seq is per kiosk and makes delivery idempotent."""

    kiosk_id: str
    seq: int
    type: str
    severity: str
    wall_time: str
    mono_time: float
    attempt_id: str | None = None
    rule: str = ""
    thresholds: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Event:
        r = Fields(data, path)
        out = cls(
            kiosk_id=r.str("kiosk_id", pattern=IDENTIFIER_RE),
            seq=r.int("seq", minimum=0),
            type=r.str("type", pattern=re.compile(r"^[a-z][a-z0-9_.]{0,63}$")),
            severity=r.str("severity", choices=SEVERITIES),
            wall_time=r.str("wall_time", pattern=TIMESTAMP_RE),
            mono_time=r.float("mono_time"),
            attempt_id=r.str("attempt_id", None, pattern=IDENTIFIER_RE, nullable=True),
            rule=r.str("rule", "", max_len=100),
            thresholds=r.dict("thresholds", {}, max_len=50),
            evidence=r.dict("evidence", {}, max_len=20),
            data=r.dict("data", {}, max_len=100),
        )
        r.done()
        return out


@dataclass(frozen=True)
class HpkePublicKeyInfo(Record):
    suite: str
    public: str  # base64

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> HpkePublicKeyInfo:
        r = Fields(data, path)
        out = cls(suite=r.str("suite", choices=("mlkem768-x25519", "x25519")),
                  public=r.str("public", max_len=8_000))
        r.done()
        return out


@dataclass(frozen=True)
class Certificate(Record):
    """A signed statement that a subject holds these public keys in this role for this period.

    This is the parsed payload; the signed bytes and their verification live in exam_core.certs.
    """

    serial: str
    subject: str
    role: str
    signing_key: str  # base64 Ed25519 public key
    hpke_key: HpkePublicKeyInfo | None
    not_before: str
    not_after: str
    issuer_key_id: str
    issuer_subject: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Certificate:
        r = Fields(data, path)
        out = cls(
            serial=r.str("serial", pattern=re.compile(r"^[0-9a-f]{8,64}$")),
            subject=r.str("subject", pattern=IDENTIFIER_RE),
            role=r.str("role", choices=CERT_ROLES),
            signing_key=r.str("signing_key", max_len=100),
            hpke_key=r.record("hpke_key", HpkePublicKeyInfo, None),
            not_before=r.str("not_before", pattern=TIMESTAMP_RE),
            not_after=r.str("not_after", pattern=TIMESTAMP_RE),
            issuer_key_id=r.str("issuer_key_id", pattern=re.compile(r"^[0-9a-f]{32}$")),
            issuer_subject=r.str("issuer_subject", pattern=IDENTIFIER_RE),
        )
        r.done()
        return out

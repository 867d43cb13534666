"""A sample form for the kiosk: one item per interaction type of exam_core.model, real PNG media,
and the answers a scripted candidate gives. For tests, the kiosk benchmark and demos.

Built from exam_core.model records (strict from_dict), as item_bank_sync's importer produces
them, so the kiosk is tested against the shared model and not against a private shape. Like every
simulator it imports only ``exam_core``: tests wrap the content in the kiosk's own ``FormBundle``
(tests/support/kiosk_world.py).
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import Any

from exam_core.model import Attempt, FormContent


def png(width: int, height: int, seed: int = 0) -> bytes:
    """A real (decodable) RGB PNG with a gradient; ``seed`` changes the bytes."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(((x + seed) % 256, (y * 2) % 256, (x * y + seed) % 256)) for x in range(width))
        for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _choices(*ids: str, fixed: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{"id": i, "html": f"<p>Option {i}</p>", "fixed": i in fixed} for i in ids]


def item_dicts(image_sha: str) -> list[dict[str, Any]]:
    """Ten items, one per interaction type, in the order of model.INTERACTION_TYPES."""
    def item(n: int, title: str, body: str, interaction: dict[str, Any], media: list | None = None) -> dict:
        return {"item_id": f"Q{n:02d}", "version": 1, "title": title, "body_html": body,
                "interactions": [interaction], "media": media or []}

    image_ref = {"sha256": image_sha, "mime": "image/png", "name": "Diagram of four areas",
                 "width": 200, "height": 100}
    return [
        item(1, "Single choice", '<p>Which option is the first?</p><div data-interaction="R1"></div>',
             {"type": "choice", "response_id": "R1", "cardinality": "single", "base_type": "identifier",
              "prompt_html": "Choose one option.", "shuffle": True,
              "choices": _choices("A", "B", "C", "D", fixed=("D",)), "max_choices": 1}),
        item(2, "Inline choice", '<p>The sky is <span data-interaction="R1"></span> on a clear day.</p>',
             {"type": "inline_choice", "response_id": "R1", "cardinality": "single", "base_type": "identifier",
              "shuffle": True, "choices": [{"id": "blue", "html": "blue"}, {"id": "green", "html": "green"},
                                           {"id": "red", "html": "red"}]}),
        item(3, "Text entry", '<p>The capital of France is <span data-interaction="R1"></span>.</p>',
             {"type": "text_entry", "response_id": "R1", "cardinality": "single", "base_type": "string",
              "expected_length": 20}),
        item(4, "Extended text", '<p>Explain the purpose of an audit trail.</p><div data-interaction="R1"></div>',
             {"type": "extended_text", "response_id": "R1", "cardinality": "single", "base_type": "string",
              "prompt_html": "Write a short paragraph.", "expected_lines": 5}),
        item(5, "Order", '<p>Put the steps in order.</p><div data-interaction="R1"></div>',
             {"type": "order", "response_id": "R1", "cardinality": "ordered", "base_type": "identifier",
              "prompt_html": "Order from first to last.", "shuffle": True,
              "choices": _choices("S1", "S2", "S3"), "max_choices": 0}),
        item(6, "Match", '<p>Match each term to its definition.</p><div data-interaction="R1"></div>',
             {"type": "match", "response_id": "R1", "cardinality": "multiple", "base_type": "directedPair",
              "prompt_html": "Match terms and definitions.", "shuffle": True, "max_choices": 0,
              "choices": [{"id": "T1", "html": "Hash"}, {"id": "T2", "html": "Signature"}],
              "targets": [{"id": "D1", "html": "Fixed-size digest"}, {"id": "D2", "html": "Proof of origin"}]}),
        item(7, "Associate", '<p>Pair the related concepts.</p><div data-interaction="R1"></div>',
             {"type": "associate", "response_id": "R1", "cardinality": "multiple", "base_type": "pair",
              "prompt_html": "Make pairs.", "max_choices": 2,
              "choices": [{"id": "K1", "html": "Key"}, {"id": "K2", "html": "Lock"},
                          {"id": "K3", "html": "Pen"}, {"id": "K4", "html": "Paper"}]}),
        item(8, "Gap match", '<p>Fill the gaps.</p><div data-interaction="R1"></div>',
             {"type": "gap_match", "response_id": "R1", "cardinality": "multiple", "base_type": "directedPair",
              "prompt_html": "Choose a word for each gap.",
              "content_html": '<p>Water boils at <span data-gap="G1"></span> degrees and freezes at '
                              '<span data-gap="G2"></span>.</p>',
              "choices": [{"id": "W100", "html": "100"}, {"id": "W0", "html": "0"}, {"id": "W50", "html": "50"}],
              "targets": [{"id": "G1"}, {"id": "G2"}], "max_choices": 0}),
        item(9, "Hot text", '<p>Select the two verbs.</p><div data-interaction="R1"></div>',
             {"type": "hottext", "response_id": "R1", "cardinality": "multiple", "base_type": "identifier",
              "prompt_html": "Select the verbs.", "max_choices": 2,
              "content_html": '<p>The <span data-hottext="H1">cat</span> <span data-hottext="H2">sat</span> and '
                              '<span data-hottext="H3">slept</span> on the <span data-hottext="H4">mat</span>.</p>',
              "choices": [{"id": "H1", "html": "cat"}, {"id": "H2", "html": "sat"},
                          {"id": "H3", "html": "slept"}, {"id": "H4", "html": "mat"}]}),
        item(10, "Hotspot", f'<p>Select the top-left area.</p><img src="media:{image_sha}" alt="Diagram">'
                            '<div data-interaction="R1"></div>',
             {"type": "hotspot", "response_id": "R1", "cardinality": "single", "base_type": "identifier",
              "prompt_html": "Select one area of the diagram.", "image": image_ref,
              "hotspots": [{"id": "TL", "shape": "rect", "coords": [0, 0, 100, 50], "label": "Top left"},
                           {"id": "TR", "shape": "rect", "coords": [100, 0, 200, 50], "label": "Top right"},
                           {"id": "BL", "shape": "circle", "coords": [50, 75, 25], "label": "Bottom left"},
                           {"id": "BR", "shape": "poly", "coords": [100, 50, 200, 50, 200, 100, 100, 100],
                            "label": "Bottom right"}]},
             media=[image_ref]),
    ]


#: One valid answer per item, keyed by item id (what a scripted candidate gives).
ANSWERS: dict[str, Any] = {
    "Q01": "B", "Q02": "blue", "Q03": "Paris", "Q04": "It records who did what and when.",
    "Q05": ["S1", "S2", "S3"], "Q06": [["T1", "D1"], ["T2", "D2"]], "Q07": [["K1", "K2"], ["K3", "K4"]],
    "Q08": [["W100", "G1"], ["W0", "G2"]], "Q09": ["H2", "H3"], "Q10": "TL",
}


def make_content(duration_seconds: int = 3600, extra_items: int = 0,
                 tools: dict[str, Any] | None = None) -> tuple[FormContent, dict[str, bytes]]:
    """Form ``F1`` (the ten items, plus ``extra_items`` single-choice ones for size) and its media by
    SHA-256; ``tools`` are what the form's scheme permits."""
    image = png(200, 100)
    sha = hashlib.sha256(image).hexdigest()
    items = item_dicts(sha)
    for n in range(extra_items):
        items.append({"item_id": f"X{n:03d}", "version": 1, "title": f"Extra {n}",
                      "body_html": f"<p>Extra question {n}</p>",
                      "interactions": [{"type": "choice", "response_id": "R1", "cardinality": "single",
                                        "base_type": "identifier", "shuffle": True,
                                        "choices": _choices("A", "B", "C", "D")}]})
    form = {"form_id": "F1", "version": 1, "scheme_id": "S1", "scheme_version": 1,
            "title": "Test form", "duration_seconds": duration_seconds,
            "items": [{"item_id": i["item_id"], "version": 1} for i in items],
            "instructions_html": "<p>Answer every question. Use the navigator to move between items.</p>",
            "agreement_html": "<p>I will not copy, record or share any exam content.</p>", "tools": tools or {}}
    return FormContent.from_dict({"form": form, "items": items}), {sha: image}


def make_attempt(attempt_id: str = "ATT1", **accommodations: Any) -> Attempt:
    """Ada Lovelace's attempt at form ``F1`` on kiosk ``K01``, with the accommodations given."""
    return Attempt.from_dict({
        "attempt_id": attempt_id, "candidate_id": "C123", "form_id": "F1", "form_version": 1,
        "package_id": "P1", "centre_id": "CENTRE1", "kiosk_id": "K01", "option_seed": 424242,
        "state": "admitted", "candidate_name": "Ada Lovelace", "seat": "A1",
        "accommodations": accommodations,
    })

"""Questions read aloud on the kiosk itself: espeak-ng, offline, audio served only to 127.0.0.1.

Why espeak-ng on the kiosk and not the browser's ``speechSynthesis``: Debian's Chromium has no
voice of its own (``speechSynthesis.getVoices()`` is empty there without speech-dispatcher), and
an exam room has no network a cloud voice could use. espeak-ng is in Debian, needs nothing else,
speaks over a hundred languages and turns a question into a WAV in a few tens of milliseconds.

What is read: the question as the candidate sees it (its text, each interaction's prompt, the
options in the candidate's own order, "blank" for a gap) and nothing else: never the answer
given, never the key (items carry none). The text reaches espeak-ng on its standard input with a
fixed argument list (no shell, no SSML), and the audio only ever lives in memory.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import threading
from collections import OrderedDict
from typing import Any

import lxml.html

from exam_core.model import GRAPHIC_TYPES

ESPEAK = "espeak-ng"
RATES = {"slow": 130, "normal": 165, "fast": 210}   # words per minute
MAX_TEXT_CHARS = 8_000                               # about nine minutes of speech
TIMEOUT_SECONDS = 30.0
CACHE_ENTRIES = 8
_VOICE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


class SpeechUnavailable(RuntimeError):
    """espeak-ng is missing or failed; the page says so instead of playing nothing."""


def _text_of(html: str) -> str:
    if not html.strip():
        return ""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for gap in root.xpath(".//*[@data-gap] | .//span[@data-interaction]"):   # a gap in a sentence
        gap.text = " blank "
    return " ".join(root.text_content().split())


def _alt_of(html: str) -> str:
    """The alt text of a picture choice (QTI gapImg), which has no text of its own."""
    if "<img" not in html:
        return ""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return " ".join(" ".join(img.get("alt", "") for img in root.iter("img")).split())


def _number(value: float) -> str:
    return f"{value:g}"


def _interaction_text(interaction: dict[str, Any]) -> str:
    parts = [_text_of(interaction.get("prompt_html", "")), _text_of(interaction.get("content_html", ""))]
    choices = [_text_of(c.get("html", "")) or _alt_of(c.get("html", "")) or c["id"]
               for c in interaction.get("choices", [])]
    kind = interaction["type"]
    if kind in ("choice", "inline_choice", "order", "associate", "gap_match", "match", "graphic_gap_match"):
        parts += [f"Option {n}: {text}." for n, text in enumerate(choices, 1)]
    if kind == "match":
        parts += [f"Target {n}: {_text_of(t.get('html', '')) or t['id']}."
                  for n, t in enumerate(interaction["targets"], 1)]
    if kind in GRAPHIC_TYPES:
        parts += [f"Area {n}: {h.get('label') or 'unnamed'}." for n, h in enumerate(interaction.get("hotspots", []), 1)]
    slider, player = interaction.get("slider"), interaction.get("player")
    if kind == "slider" and slider:
        parts.append(f"A scale from {_number(slider['lower'])} to {_number(slider['upper'])}"
                     f" in steps of {_number(slider.get('step') or 1)}.")
    if kind == "media" and player:
        limit = f" It may be played {player['max_plays']} times." if player.get("max_plays") else ""
        parts.append(f"A recording: {player.get('alt') or 'no description'}.{limit}")
    if kind == "drawing":
        parts.append(f"Draw on the picture: {(interaction.get('image') or {}).get('alt') or 'no description'}.")
    return " ".join(p for p in parts if p)


def question_text(view: dict[str, Any], number: int, total: int) -> str:
    """What is read for one item view (:func:`kiosk.presentation.item_view`)."""
    parts = [f"Question {number} of {total}.", _text_of(view.get("body_html", ""))]
    parts += [f"A recording: {p.get('alt') or 'no description'}." for p in view.get("players") or [] if p]
    parts += [_interaction_text(i) for i in view.get("interactions", [])]
    text = " ".join(p for p in parts if p)
    return text[:MAX_TEXT_CHARS]


def voice_for(language: str) -> str:
    """An espeak-ng voice for the item's language (``en`` when it names none espeak-ng could take)."""
    lang = (language or "").lower()
    return lang if _VOICE_RE.match(lang) else "en"


def synthesise(text: str, rate: str = "normal", voice: str = "en") -> bytes:
    """WAV bytes (16-bit mono PCM) of ``text`` spoken by espeak-ng; SpeechUnavailable if it cannot."""
    binary = shutil.which(ESPEAK)
    if binary is None:
        raise SpeechUnavailable("espeak-ng is not installed on this kiosk")
    argv = [binary, "--stdout", "-s", str(RATES.get(rate, RATES["normal"])), "-v", voice_for(voice)]
    try:
        done = subprocess.run(argv, input=text.encode("utf-8"), capture_output=True, timeout=TIMEOUT_SECONDS,
                              check=False)
        if done.returncode != 0 and voice_for(voice) != "en":   # an unknown language: English rather than silence
            argv[-1] = "en"
            done = subprocess.run(argv, input=text.encode("utf-8"), capture_output=True, timeout=TIMEOUT_SECONDS,
                                  check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpeechUnavailable(f"espeak-ng failed: {type(exc).__name__}") from None
    if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
        raise SpeechUnavailable(f"espeak-ng failed with status {done.returncode}")
    return _sized(done.stdout)


def _sized(wav: bytes) -> bytes:
    """The WAV with its RIFF and data sizes filled in: espeak-ng writes them as unknown when it
    streams to stdout, and players then cannot tell the length (no duration, no seeking)."""
    data_at = wav.find(b"data", 12)
    if data_at < 0:
        raise SpeechUnavailable("espeak-ng wrote no audio data")
    out = bytearray(wav)
    struct.pack_into("<I", out, 4, len(wav) - 8)
    struct.pack_into("<I", out, data_at + 4, len(wav) - data_at - 8)
    return bytes(out)


class SpeechCache:
    """The last few questions' audio, in memory only (a candidate often replays or changes speed)."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self._entries = entries
        self._audio: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...], make: Any) -> bytes:
        with self._lock:
            if key in self._audio:
                self._audio.move_to_end(key)
                return self._audio[key]
        audio = make()
        with self._lock:
            self._audio[key] = audio
            while len(self._audio) > self._entries:
                self._audio.popitem(last=False)
        return audio

    def clear(self) -> None:
        with self._lock:
            self._audio.clear()

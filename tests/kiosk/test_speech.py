"""Read-aloud produces real speech for a question, offline, on the kiosk: espeak-ng's audio served
from 127.0.0.1 to the page token only, measured with sox (length, and how much of it is speech
rather than silence), at every speed; and only for a candidate granted it where the scheme allows."""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from exam_core.presentation import item_view
from kiosk.tools.speech import question_text

from tests.support.tools import missing_tool
from tests.support.kiosk_world import make_bundle
from tests.support.kiosk_pages import ALL_TOOLS, Kiosk


@pytest.fixture
def kiosk(tmp_path):
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            missing_tool(tool, f"apt-get install {tool} (scripts/bootstrap-deps)")
    k = Kiosk(tmp_path, tools=ALL_TOOLS, text_to_speech=True)
    k.admit()
    k.runtime.confirm_identity()
    k.start()
    session = k.runtime.require_session()
    session.accept_agreement()
    session.begin()
    yield k
    k.close()


def fetch(kiosk: Kiosk, path: str, token: str | None = None) -> bytes:
    html = urllib.request.urlopen(kiosk.url).read().decode()
    token = token if token is not None else re.search(r'name="kiosk-token" content="([^"]+)"', html).group(1)
    request = urllib.request.Request(kiosk.url + path, headers={"X-Kiosk-Token": token})
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.headers["Content-Type"] == "audio/wav"
        return reply.read()


def seconds(path: Path) -> float:
    return float(subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True).stdout)


def speech_ratio(path: Path, tmp_path: Path) -> float:
    """Share of the audio that is speech: sox cuts every stretch quieter than 1 % of full scale
    lasting over 0.1 s (pauses between words are shorter), and what is left is compared."""
    voiced = tmp_path / f"voiced-{path.stem}.wav"
    subprocess.run(["sox", str(path), str(voiced), "silence", "-l", "1", "0.1", "1%", "-1", "0.1", "1%"], check=True)
    return seconds(voiced) / seconds(path)


def test_question_read_aloud_is_real_speech_at_every_speed(kiosk, tmp_path):
    lengths = {}
    for rate in ("slow", "normal", "fast"):
        wav = tmp_path / f"{rate}.wav"
        wav.write_bytes(fetch(kiosk, f"api/speech/0?rate={rate}"))
        lengths[rate] = seconds(wav)
        ratio = speech_ratio(wav, tmp_path)
        assert 0.6 < ratio < 0.98, (rate, ratio)  # mostly speech, with real pauses between sentences
        print(f"{rate}: {lengths[rate]:.2f} s, {ratio:.0%} speech")
    # "Question 1 of 10. Which option is the first? Choose one option. Option 1: ... Option 4: ..."
    assert 5 < lengths["normal"] < 20
    assert lengths["slow"] > lengths["normal"] > lengths["fast"]
    used = kiosk.runtime.session.state.accommodations_used["text_to_speech"]
    assert used["uses"] == 3


def test_read_aloud_text_is_the_question_as_shown(kiosk):
    bundle = make_bundle()
    view = item_view(bundle.items[1], kiosk.world.attempt.option_seed)
    text = question_text(view, 2, 10)
    order = [c["id"] for c in view["interactions"][0]["choices"]]
    assert text.startswith("Question 2 of 10. The sky is blank on a clear day.")
    assert list(re.findall(r"Option \d: (\w+)\.", text)) == order  # in the candidate's own order
    gap = question_text(item_view(bundle.items[7], 1), 8, 10)
    assert "Water boils at blank degrees and freezes at blank" in gap


def test_audio_needs_the_page_token_the_grant_and_a_question(kiosk, tmp_path):
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch(kiosk, "api/speech/0", token="stale")
    assert refused.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as missing:
        fetch(kiosk, "api/speech/99")
    assert missing.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as bad_rate:
        fetch(kiosk, "api/speech/0?rate=chipmunk")
    assert bad_rate.value.code == 400

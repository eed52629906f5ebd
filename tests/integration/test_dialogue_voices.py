"""The city-dialogue audio fixtures, heard again through the gateway's real path.

Re-runs what `python -m voicebot.tools.dialogue_fixtures` recorded (u-law, VAD cut, Whisper
base with the hot words of rasa_project/hotwords.txt) for the first VAD phase of each clip:
the transcript must be the recorded one and keep the clip's key words. Fails when the hot
word list, the VAD or the ASR settings change what the gateway hears.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import FIXTURES
from voicebot.caller import load_caller_audio

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def ear() -> Any:
    from voicebot.tools import whisper_model_dir
    from voicebot.tools.gateway_asr import GatewayEar
    from voicebot.tools.make_fixtures import gateway_hotwords

    return GatewayEar(whisper_model_dir()[0], (gateway_hotwords() or "").split())


def test_dialogue_clips_are_heard_as_recorded(ear: Any, manifest: list[dict[str, Any]]) -> None:
    from voicebot.tools.dialogue_fixtures import DIALOGUE_CLIPS, understood

    clips = {f"{c.name}.wav": c for c in DIALOGUE_CLIPS}
    entries = [e for e in manifest if "gateway_transcripts" in e]
    assert {e["file"] for e in entries} == set(clips)
    for entry in entries:
        clip = clips[entry["file"]]
        heard = ear.hear(load_caller_audio(FIXTURES / entry["file"]), clip.asr_language, phases=1)
        assert heard[0].utterances == 1, entry["file"]
        assert heard[0].text == entry["gateway_transcripts_hotwords"][0], entry["file"]
        assert understood(clip, heard[0].text), (entry["file"], heard[0].text)

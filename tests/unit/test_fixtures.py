"""The German audio fixtures: every manifest entry exists and is a usable 8 kHz phone clip."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
import yaml

FIXTURES = Path(__file__).resolve().parents[2] / "audio_fixtures"
REQUIRED_INTENTS = {  # intent -> minimum number of clips
    "ask_opening_hours": 6,
    "request_human": 4,
    "goodbye": 3,
    "greet": 3,
    "bot_challenge": 3,
    "out_of_scope": 3,
}
ENTRY_FIELDS = {
    "file",
    "text",
    "language",
    "expected_intent",
    "duration_s",
    "key_words",
    "source",
    "whisper_transcript",
    "key_words_recognised",
}
SOURCE_FIELDS = {"tool", "version", "voice", "speed", "pitch", "word_gap", "post_processing"}
# the city-dialogue clips (voicebot/tools/dialogue_fixtures.py), checked through the gateway path
DIALOGUE_FIELDS = {
    "asr_language",
    "gateway_transcripts",
    "gateway_transcripts_hotwords",
    "vad_utterances",
    "vad_onset_late_ms",
}
DIALOGUE_SOURCE_FIELDS = {"tool", "version", "voice", "parameters", "post_processing"}
DIALOGUE_INTENTS = {  # intent -> minimum number of clips
    "request_sperrmuell": 1,
    "request_appointment": 1,
    "ask_fee": 1,
    "ask_service": 1,
    "affirm": 1,
    "ask_opening_hours": 2,  # in English
}
DIALOGUE_SLOTS = {"address", "postcode", "items", "date", "name", "phone", "service"}


def _manifest() -> dict[str, Any]:
    data = yaml.safe_load((FIXTURES / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _clips() -> list[dict[str, Any]]:
    clips = _manifest()["clips"]
    assert isinstance(clips, list)
    return clips


def _dialogue_clips() -> list[dict[str, Any]]:
    return [c for c in _clips() if "gateway_transcripts" in c]


def test_manifest_header() -> None:
    manifest = _manifest()
    assert manifest["sample_rate"] == 8000
    assert "make_fixtures" in manifest["generated_by"]
    assert "dialogue_fixtures" in manifest["dialogue_generated_by"]
    assert len(_clips()) >= 26 + 10


@pytest.mark.parametrize("clip", _clips(), ids=lambda c: str(c["file"]))
def test_clip(clip: dict[str, Any]) -> None:
    assert not ENTRY_FIELDS - set(clip), ENTRY_FIELDS - set(clip)
    dialogue = "gateway_transcripts" in clip
    missing_source = (DIALOGUE_SOURCE_FIELDS if dialogue else SOURCE_FIELDS) - set(clip["source"])
    assert not missing_source, missing_source
    assert clip["language"] in (("de", "en") if dialogue else ("de",))
    assert clip["source"]["tool"] in ("espeak-ng", "piper") and clip["source"]["version"]
    assert isinstance(clip["whisper_transcript"], str) and clip["text"].strip()
    assert re.fullmatch(r"[a-z0-9_]+\.wav", clip["file"])
    path = FIXTURES / clip["file"]
    info = soundfile.info(str(path))
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    audio, _rate = soundfile.read(str(path), dtype="int16")
    duration = len(audio) / 8000
    assert 1.0 <= duration <= 6.0
    assert abs(duration - clip["duration_s"]) < 0.01
    peak = int(np.max(np.abs(audio.astype(np.int32))))
    assert 0.5 * 32767 < peak < 32767  # about -3 dBFS, not clipped
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    assert rms > 500
    lead = np.abs(audio[: int(0.2 * 8000)].astype(np.int32))
    assert lead.max() < 0.05 * peak  # leading silence before the speech


def test_intents_cover_the_starter_set() -> None:
    counts = Counter(c["expected_intent"] for c in _clips())
    for intent, minimum in REQUIRED_INTENTS.items():
        assert counts[intent] >= minimum, (intent, counts[intent])


def test_named_clips() -> None:
    by_file = {c["file"]: c for c in _clips()}
    assert len(by_file) == len(_clips())  # file names are unique
    buergerbuero = by_file["oeffnungszeiten_buergerbuero.wav"]
    assert buergerbuero["text"] == "Wann hat das Bürgerbüro geöffnet?"
    texts = {c["text"] for c in _clips()}
    assert "Ich möchte mit einem Menschen sprechen." in texts
    assert "Bin ich mit einem Menschen verbunden?" in texts
    assert "Wie wird das Wetter morgen?" in texts


def test_folder_is_small_and_has_no_strays() -> None:
    files = {p.name for p in FIXTURES.iterdir()}
    extra = _manifest().get("dialogue_test_clips", [])  # made by hand, see the manifest
    listed = {c["file"] for c in [*_clips(), *extra]}
    assert {f for f in files if f.endswith(".wav")} == listed
    assert sum(p.stat().st_size for p in FIXTURES.iterdir()) < 2_000_000


def test_the_espeak_clips_come_first_and_unchanged_in_number() -> None:
    # tests pick the first clip of an intent: the 26 original clips keep their places
    clips = _clips()
    assert not any("gateway_transcripts" in c for c in clips[:26])
    assert len(clips) - len(_dialogue_clips()) == 26


@pytest.mark.parametrize("clip", _dialogue_clips(), ids=lambda c: str(c["file"]))
def test_dialogue_clip_is_understood_through_the_gateway_path(clip: dict[str, Any]) -> None:
    assert not DIALOGUE_FIELDS - set(clip), DIALOGUE_FIELDS - set(clip)
    assert clip["expected_intent"] or clip.get("expected_slot") in DIALOGUE_SLOTS
    if clip.get("expected_slot"):
        assert clip["expected_value"]
    for key in ("gateway_transcripts", "gateway_transcripts_hotwords"):
        assert len(clip[key]) == 8 and all(isinstance(t, str) for t in clip[key])
    assert clip["whisper_transcript_hotwords"] == clip["gateway_transcripts_hotwords"][0]
    # what the running gateway hears (hot words, every VAD phase) keeps the meaning; the VAD
    # cuts one utterance, starting with the speech without extra lead (as test_vad.py checks)
    assert clip["key_words_recognised_hotwords"] is True, clip["gateway_transcripts_hotwords"]
    assert clip["vad_utterances"] == [1] * 8
    assert abs(clip["vad_onset_late_ms"][0]) <= 200, clip["vad_onset_late_ms"]
    params = clip["source"]["parameters"]
    if clip["source"]["tool"] == "piper":  # deterministic: no sampling noise
        assert params["noise_scale"] == 0 and params["noise_w_scale"] == 0


def test_dialogue_clips_cover_the_city_dialogues() -> None:
    clips = _dialogue_clips()
    assert 10 <= len(clips) <= 20
    counts = Counter(c["expected_intent"] for c in clips)
    for intent, minimum in DIALOGUE_INTENTS.items():
        assert counts[intent] >= minimum, (intent, counts[intent])
    english = [c for c in clips if c["language"] == "en"]
    assert len(english) >= 2 and {c["asr_language"] for c in english} == {"en"}
    assert {c.get("expected_slot") for c in clips} >= {"address", "items", "date", "name"}

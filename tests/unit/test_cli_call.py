"""`voicebot call`: WAV files and keypad entries in the order given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicebot.caller import load_caller_audio
from voicebot.cli import caller_steps


def test_wav_files_and_dtmf_entries_keep_their_order(tmp_path: Path) -> None:
    wav = tmp_path / "ja.wav"
    sf.write(wav, np.full(800, 1000, np.int16), 8000, subtype="PCM_16")
    steps = caller_steps([str(wav), "dtmf:51373#", str(wav)], load_caller_audio)
    assert [type(s).__name__ for s in steps] == ["ndarray", "str", "ndarray"]
    assert steps[1] == "51373#" and len(steps[0]) == 800


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="nichts.wav"):
        caller_steps([str(tmp_path / "nichts.wav")], load_caller_audio)

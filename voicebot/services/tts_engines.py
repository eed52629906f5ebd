"""Blocking speech engines (Piper, espeak-ng, SVOX Pico) behind one interface; callers run them
in threads."""

from __future__ import annotations

import functools
import io
import json
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import soundfile

from voicebot.audio.resample import resample
from voicebot.errors import ModelError, VoicebotError

Pcm16 = npt.NDArray[np.int16]

ESPEAK_BINARY = "espeak-ng"
ESPEAK_INSTALL_HINT = "install it with `apt-get install espeak-ng` (Debian/Ubuntu)"
ESPEAK_TIMEOUT_S = 30.0
PICO_BINARY = "pico2wave"
PICO_INSTALL_HINT = (
    "install it with `apt-get install libttspico-utils` from Debian's non-free component "
    "(scripts/install-pico.sh, run as root, enables non-free and installs it)"
)
PICO_LANGUAGES = {"de": "de-DE", "en": "en-US"}
PICO_RATE = 16000  # pico2wave always writes 16 kHz mono
# Pico's own pace is brisk over the phone; this length scale (speed level 100 / scale) is what
# Whisper understood best in docs/german-voice.md. Multiplied by the requested length scale.
PICO_PACE = 1.12
PICO_MAX_CHARS = 1000  # per pico2wave run: longer text is spoken in pieces split at spaces
PICO_TIMEOUT_S = 10.0  # pico2wave speaks 1000 characters in about 0.25 s
PIPER_VOLUME = 0.9  # Piper normalises each sentence to full scale; keep headroom for resampling


class TtsError(VoicebotError):
    """Synthesis of a sentence failed; the message names the engine and the sentence."""


class SpeechEngine(Protocol):
    """Turns one sentence into int16 mono audio at `sample_rate`; blocking, thread-safe."""

    sample_rate: int

    def synthesize(self, sentence: str, length_scale: float = 1.0) -> Pcm16:
        """Synthesises one sentence (blocking)."""
        ...


def _which(name: str) -> Path | None:
    """The executable's path on PATH, or None."""
    found = shutil.which(name)
    return Path(found) if found else None


def _short(text: str, limit: int = 60) -> str:
    """A sentence shortened for error messages."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


@functools.lru_cache(maxsize=8)
def _onnx_session(model_path: str, threads: int) -> Any:
    """One ONNX session per voice file, shared by the engines that use it (the joe voice
    speaks English and, with German phonemes, German: loaded once, about 100 MB less).
    PiperVoice.load takes no session options: build the session here so TTS uses few cores
    and leaves the rest to the ASR. Sessions are safe to run from several threads."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        model_path, sess_options=options, providers=["CPUExecutionProvider"]
    )


class PiperEngine:
    """A Piper ONNX voice; `espeak_voice` overrides the phonemizer language (e.g. "de")."""

    def __init__(
        self,
        model_path: Path,
        config_path: Path | None = None,
        espeak_voice: str | None = None,
        threads: int = 1,
        noise_scale: float | None = None,
        noise_w_scale: float | None = None,
    ) -> None:
        # noise_scale / noise_w_scale: None = the voice's own (varied, random per call);
        # 0 makes synthesis deterministic (the audio fixtures use that)
        self.noise_scale = noise_scale
        self.noise_w_scale = noise_w_scale
        # Imported here: piper pulls in onnxruntime, which is slow to import.
        from piper import PiperVoice
        from piper.config import PiperConfig

        config_path = config_path or Path(f"{model_path}.json")
        if not Path(model_path).is_file():
            raise ModelError(
                f"Piper voice {model_path} does not exist; run `voicebot models fetch`"
            )
        try:
            config = PiperConfig.from_dict(json.loads(Path(config_path).read_text("utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(
                f"Piper voice config {config_path} is missing or invalid ({exc}); "
                "put the voice's .onnx.json beside the .onnx or fetch the voice again"
            ) from exc
        if espeak_voice:
            config.espeak_voice = espeak_voice
        try:
            session = _onnx_session(str(Path(model_path).resolve()), max(1, threads))
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"cannot load Piper voice {model_path}: {exc}") from exc
        self._voice = PiperVoice(session=session, config=config)
        self.sample_rate: int = config.sample_rate
        self.model_path = Path(model_path)
        self.espeak_voice = config.espeak_voice
        if espeak_voice:
            # Foreign phonemes missing from the voice's id map are dropped on every sentence;
            # piper warns each time, which would flood the log of a running gateway.
            logging.getLogger("piper.phoneme_ids").setLevel(logging.ERROR)

    def missing_phonemes(self, text: str) -> set[str]:
        """Phonemes of `text` that this voice cannot say (dropped silently), for reports."""
        id_map = self._voice.config.phoneme_id_map
        return {p for sentence in self._voice.phonemize(text) for p in sentence if p not in id_map}

    def phonemize(self, text: str) -> str:
        """The voice's phonemes for `text`, sentences joined by spaces; `synthesize` speaks
        them as written when given as "[[ phonemes ]]" (the audio fixtures adjust a few)."""
        return " ".join("".join(sentence) for sentence in self._voice.phonemize(text))

    def synthesize(self, sentence: str, length_scale: float = 1.0) -> Pcm16:
        """Synthesises one sentence; Piper may split it further, the parts are joined."""
        from piper import SynthesisConfig

        syn = SynthesisConfig(
            length_scale=length_scale,
            noise_scale=self.noise_scale,
            noise_w_scale=self.noise_w_scale,
            volume=PIPER_VOLUME,
        )
        try:
            parts = [chunk.audio_int16_array for chunk in self._voice.synthesize(sentence, syn)]
        except Exception as exc:  # phonemizer and onnxruntime errors are untyped
            raise TtsError(
                f"Piper ({self.model_path.name}) failed on {_short(sentence)!r}: {exc}"
            ) from exc
        if not parts:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(parts).astype(np.int16, copy=False)


class EspeakEngine:
    """The espeak-ng binary (formant synthesis, 22.05 kHz); robotic but always available."""

    def __init__(
        self,
        voice: str = "de",
        speed: int = 150,
        pitch: int = 50,
        word_gap: int = 0,
        binary: Path | None = None,
    ) -> None:
        if binary is not None and not Path(binary).is_file():
            binary = None  # a resolved path that went away: look on PATH again
        binary = binary or _which(ESPEAK_BINARY)
        if binary is None:
            raise ModelError(f"{ESPEAK_BINARY} was not found on PATH; {ESPEAK_INSTALL_HINT}")
        self._binary = binary
        self.voice = voice
        self.speed = speed
        self.pitch = pitch
        self.word_gap = word_gap  # extra pause between words, in units of 10 ms
        self.sample_rate: int = 22050

    def command(self, length_scale: float = 1.0) -> list[str]:
        """The espeak-ng command line; text comes on stdin so it is never parsed as options."""
        speed = max(80, round(self.speed / max(length_scale, 0.1)))
        return [
            str(self._binary),
            "-v",
            self.voice,
            "-s",
            str(speed),
            "-p",
            str(self.pitch),
            "-g",
            str(self.word_gap),
            "-b",
            "1",  # UTF-8 input
            "--stdin",
            "--stdout",
        ]

    def synthesize(self, sentence: str, length_scale: float = 1.0) -> Pcm16:
        """Runs espeak-ng once for the sentence and parses its WAV output."""
        try:
            proc = subprocess.run(
                self.command(length_scale),
                input=sentence.encode("utf-8"),
                capture_output=True,
                timeout=ESPEAK_TIMEOUT_S,
                check=False,
            )
        except FileNotFoundError as exc:
            raise ModelError(f"{ESPEAK_BINARY} disappeared; {ESPEAK_INSTALL_HINT}") from exc
        except subprocess.TimeoutExpired as exc:
            raise TtsError(f"espeak-ng timed out on {_short(sentence)!r}") from exc
        if proc.returncode != 0 or not proc.stdout:
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise TtsError(
                f"espeak-ng (voice {self.voice}) failed on {_short(sentence)!r}: "
                f"exit {proc.returncode} {err}"
            )
        try:
            data, rate = soundfile.read(io.BytesIO(proc.stdout), dtype="int16", always_2d=False)
        except (RuntimeError, soundfile.LibsndfileError) as exc:
            raise TtsError(f"espeak-ng produced unreadable WAV for {_short(sentence)!r}") from exc
        pcm: Pcm16 = np.asarray(data, dtype=np.int16)
        if pcm.ndim > 1:
            pcm = pcm[:, 0].copy()
        return resample(pcm, int(rate), self.sample_rate)


class PicoEngine:
    """SVOX Pico's pico2wave (de-DE, en-US; 16 kHz): a real German voice, offline and fast.

    pico2wave has no rate option; slower speech is Pico's own `<speed level="80">` markup
    around the text (level = 100 / (pace * length_scale)), so '<' and '>' in the text are
    replaced. `pace` is the engine's base length scale (PICO_PACE: measured, a little slower).
    """

    def __init__(
        self,
        language: str = "de-DE",
        binary: Path | None = None,
        sample_rate: int = PICO_RATE,
        pace: float = PICO_PACE,
    ) -> None:
        if binary is not None and not Path(binary).is_file():
            binary = None  # a resolved path that went away: look on PATH again
        binary = binary or _which(PICO_BINARY)
        if binary is None:
            raise ModelError(
                f"{PICO_BINARY} (SVOX Pico) was not found on PATH; {PICO_INSTALL_HINT}"
            )
        self._binary = binary
        # "de" / "en" or one of pico2wave's own names ("de-DE", "en-US", "en-GB", ...)
        self.language = PICO_LANGUAGES.get(language.lower(), language)
        self.sample_rate: int = sample_rate
        self.pace = pace

    def command(self, wav: Path, text: str, length_scale: float = 1.0) -> list[str]:
        """The pico2wave command line; "--" ends the options, so text is never one."""
        return [
            str(self._binary),
            "-l",
            self.language,
            "-w",
            str(wav),
            "--",
            pico_markup(text, self.pace * length_scale),
        ]

    def synthesize(self, sentence: str, length_scale: float = 1.0) -> Pcm16:
        """Runs pico2wave once per piece of at most PICO_MAX_CHARS characters; joins the audio."""
        parts = [self._run(piece, length_scale) for piece in _pieces(sentence, PICO_MAX_CHARS)]
        if not parts:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(parts)

    def _run(self, text: str, length_scale: float) -> Pcm16:
        """One pico2wave run into a private temporary directory, removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="voicebot-pico-") as tmp:
            wav = Path(tmp) / "speech.wav"
            try:
                proc = subprocess.run(
                    self.command(wav, text, length_scale),
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=PICO_TIMEOUT_S,
                    check=False,
                )
            except FileNotFoundError as exc:
                raise ModelError(f"{PICO_BINARY} disappeared; {PICO_INSTALL_HINT}") from exc
            except subprocess.TimeoutExpired as exc:
                raise TtsError(
                    f"Pico ({self.language}) timed out after {PICO_TIMEOUT_S:.0f} s on "
                    f"{_short(text)!r}"
                ) from exc
            except OSError as exc:  # not executable, too long an argument, ...
                raise TtsError(
                    f"Pico ({self.language}) could not run on {_short(text)!r}: {exc}"
                ) from exc
            if proc.returncode != 0:
                err = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
                raise TtsError(
                    f"Pico ({self.language}) failed on {_short(text)!r}: exit {proc.returncode} "
                    f"{_short(err, 200)}"
                )
            try:
                data, rate = soundfile.read(wav, dtype="int16", always_2d=False)
            except (RuntimeError, soundfile.LibsndfileError) as exc:
                raise TtsError(
                    f"Pico ({self.language}) wrote no readable WAV for {_short(text)!r}"
                ) from exc
        pcm: Pcm16 = np.asarray(data, dtype=np.int16)
        if pcm.ndim > 1:
            pcm = pcm[:, 0].copy()
        return resample(pcm, int(rate), self.sample_rate)


def pico_markup(text: str, length_scale: float = 1.0) -> str:
    """Text for pico2wave: '<' '>' replaced (Pico reads them as markup), in a speed tag."""
    clean = " ".join(text.replace("<", " ").replace(">", " ").split())
    level = round(100 / min(max(length_scale, 0.2), 5.0))  # Pico accepts 20-500
    return clean if level == 100 else f'<speed level="{level}">{clean}</speed>'


def _pieces(text: str, limit: int) -> list[str]:
    """Text cut at spaces into pieces of at most `limit` characters (a longer word is cut)."""
    pieces: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:limit])
            word = word[limit:]
        if current and len(current) + 1 + len(word) > limit:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append(current)
    return pieces


def pico_available() -> Path | None:
    """The pico2wave binary, or None when SVOX Pico is not installed."""
    return _which(PICO_BINARY)


def espeak_version() -> str:
    """The first line of `espeak-ng --version`, for manifests and reports."""
    binary = shutil.which(ESPEAK_BINARY)
    if binary is None:
        raise ModelError(f"{ESPEAK_BINARY} was not found on PATH; {ESPEAK_INSTALL_HINT}")
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    first = out.stdout.strip().splitlines()[0] if out.stdout.strip() else "espeak-ng (unknown)"
    return first.split("Data at:")[0].strip()


def pico_version() -> str:
    """The Debian package version of pico2wave (it has no --version), for reports."""
    if pico_available() is None:
        return "not installed"
    dpkg = shutil.which("dpkg-query")
    if dpkg is None:
        return "pico2wave (version unknown)"
    out = subprocess.run(
        [dpkg, "-W", "-f=${Version}", "libttspico-utils"],
        capture_output=True,
        text=True,
        check=False,
    )
    version = out.stdout.strip()
    return f"libttspico-utils {version}" if version else "pico2wave (version unknown)"

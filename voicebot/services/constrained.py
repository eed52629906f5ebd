"""Constrained recognition: score the answers the dialogue expects against the audio.

When the dialogue expects a closed answer ({"expect": "yes_no" | "postcode" | "phone" |
"house_number" | "digits"}), Whisper's free transcript of a short answer is often wrong in a
way no parser repairs: "Nein" comes back as "9", a postcode as "5.0 weg 7.0". This recogniser
runs the encoder once and then, on the same encoder output:

1. decodes freely, as the gateway's AsrService does (greedy, no timestamps, the hot words);
2. for digits: decodes again with every token but the single digits suppressed
   (`suppress_tokens`), keeping a few beam hypotheses;
3. scores the candidates (yes/no: "Ja." and "Nein."; digits: the hypotheses and the digits
   of the free transcript, of the expected length, each in two spellings) and the free
   transcript itself with CTranslate2's `Whisper.align()`, which returns the probability of
   every text token given the audio, all candidates in one batch;
4. keeps the free transcript unless an expected answer scores as well as it (mean log
   probability per token, see `choose`).

The numbers behind each step are in docs/accuracy.md ("Constrained recognition"). Everything
here is blocking model work: the ASR service runs it on its worker pool.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicebot.services.constrained_text import (
    DIGIT_KINDS,
    YES_NO,
    digit_renderings,
    says_yes_or_no,
    spoken_digits,
)

SAMPLE_RATE = 16000  # Whisper's input rate; callers resample before (the gateway does)
FRAMES_PER_SECOND = 100  # mel frames
CHUNK_FRAMES = 3000  # Whisper's 30 s window
DIGIT_HYPOTHESES = 4  # beam width and hypotheses of the digits-only decoding
# an expected answer replaces the free transcript when its mean token log-probability is at
# least the free transcript's minus this margin (the free greedy path is the likeliest by
# construction, so an exact tie is rare); and never below the floor (forced digits of noise)
MARGIN = 0.5
FLOOR = -1.5
MAX_CANDIDATES = 12  # one align batch
# forced digit decoding of noise loops on one digit ("5555555"): such a hypothesis is dropped
LOOPED_DIGIT = re.compile(r"(\d)\1{3}")


@dataclass(frozen=True)
class Scored:
    """One candidate text and its mean log-probability per token under the audio."""

    text: str
    answer: str  # what the dialogue gets if it wins
    mean_logprob: float


@dataclass(frozen=True)
class Heard:
    """The free transcript and what constrained recognition made of it."""

    text: str  # what the dialogue gets: the free transcript or the chosen answer
    free_text: str
    confidence: float  # of `text`: exp(mean token log-probability)
    no_speech_prob: float
    language: str
    constrained: bool = False  # whether an expected answer replaced the free transcript
    scored: tuple[Scored, ...] = field(default=())


def choose(free: Scored | None, candidates: list[Scored]) -> Scored | None:
    """The expected answer to use instead of the free transcript, or None to keep it."""
    if not candidates:
        return None
    best = max(candidates, key=lambda s: s.mean_logprob)
    if best.mean_logprob < FLOOR:
        return None
    if free is not None and best.mean_logprob < free.mean_logprob - MARGIN:
        return None
    return best


class ConstrainedRecognizer:
    """Free and constrained decoding of one utterance over one encoder pass (blocking)."""

    def __init__(self, model: Any, language: str, hotwords: str | None, beam_size: int) -> None:
        from faster_whisper.tokenizer import Tokenizer

        self._model = model  # faster_whisper.WhisperModel
        self._beam_size = max(1, beam_size)
        self._hotwords = hotwords
        self._tokenizers: dict[str, Any] = {}
        self._tokenizer_class = Tokenizer
        self._digits_only: list[int] | None = None
        self._suppress_all_but_digits(self._tokenizer(language))  # at load, not in a call

    def _tokenizer(self, language: str) -> Any:
        """faster-whisper's tokenizer for a language (transcribe task), cached."""
        if language not in self._tokenizers:
            self._tokenizers[language] = self._tokenizer_class(
                self._model.hf_tokenizer, True, task="transcribe", language=language
            )
        return self._tokenizers[language]

    def _suppress_all_but_digits(self, tok: Any) -> list[int]:
        """Every token id except the single digits ("5", " 5") and the end of text."""
        if self._digits_only is None:
            size = self._model.hf_tokenizer.get_vocab_size()
            keep = {tok.eot}
            for i in range(tok.eot):
                piece = tok.decode([i])
                if len(piece.strip()) == 1 and piece.strip().isdigit() and piece.isascii():
                    keep.add(i)
            self._digits_only = [i for i in range(size) if i not in keep]
        return self._digits_only

    def encode(self, audio: np.ndarray) -> tuple[Any, int]:
        """The encoder output of float32 16 kHz audio (up to 30 s) and its frame count."""
        from faster_whisper.audio import pad_or_trim

        features = self._model.feature_extractor(audio)
        frames = min(CHUNK_FRAMES, math.ceil(len(audio) / SAMPLE_RATE * FRAMES_PER_SECOND))
        return self._model.encode(pad_or_trim(features)), max(1, frames)

    def free(self, encoded: Any, language: str, max_new_tokens: int) -> tuple[str, float, float]:
        """The free transcript as the gateway decodes it: (text, confidence, no-speech prob)."""
        from faster_whisper.transcribe import get_suppressed_tokens

        tok = self._tokenizer(language)
        prompt = self._model.get_prompt(tok, [], without_timestamps=True, hotwords=self._hotwords)
        result = self._model.model.generate(
            encoded,
            [prompt],
            beam_size=self._beam_size,
            max_length=min(self._model.max_length, len(prompt) + max_new_tokens),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tok, [-1]),
        )[0]
        tokens = result.sequences_ids[0]
        if not tokens:
            return "", 0.0, float(result.no_speech_prob)
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        text = tok.decode(tokens).strip()
        return text, math.exp(avg_logprob), float(result.no_speech_prob)

    def digit_hypotheses(self, encoded: Any, language: str, longest: int) -> list[str]:
        """Digit strings from decoding with everything but single digits suppressed."""
        tok = self._tokenizer(language)
        prompt = [*tok.sot_sequence, tok.no_timestamps]
        result = self._model.model.generate(
            encoded,
            [prompt],
            beam_size=DIGIT_HYPOTHESES,
            num_hypotheses=DIGIT_HYPOTHESES,
            max_length=len(prompt) + longest + 2,
            suppress_blank=False,
            suppress_tokens=self._suppress_all_but_digits(tok),
        )[0]
        out: list[str] = []
        for ids in result.sequences_ids:
            digits = "".join(c for c in tok.decode(ids) if c.isdigit())
            if digits and digits not in out and not LOOPED_DIGIT.search(digits):
                out.append(digits)
        return out

    def score(self, encoded: Any, frames: int, language: str, texts: list[str]) -> list[float]:
        """Mean log-probability per token of each text given the audio (one align batch)."""
        if not texts:
            return []
        import ctranslate2

        tok = self._tokenizer(language)
        prompt = [*tok.sot_sequence, tok.no_timestamps]
        tokens = [tok.encode(" " + t.strip()) or [tok.eot] for t in texts]
        single = np.asarray(encoded)
        batch = ctranslate2.StorageView.from_array(
            np.ascontiguousarray(np.repeat(single, len(texts), axis=0))
        )
        results = self._model.model.align(batch, prompt, tokens, [frames] * len(texts))
        means: list[float] = []
        for result in results:
            probs = np.maximum(np.asarray(result.text_token_probs, dtype=np.float64), 1e-12)
            means.append(float(np.mean(np.log(probs))) if probs.size else -math.inf)
        return means

    def candidates(
        self, encoded: Any, language: str, kind: str, free_text: str
    ) -> list[tuple[str, str]]:
        """(text to score, answer) pairs of an expected kind; none when the free transcript
        already is such an answer."""
        if kind == "yes_no":
            return [] if says_yes_or_no(free_text) else list(YES_NO.get(language, ()))
        span = DIGIT_KINDS.get(kind)
        if span is None:
            return []
        if kind == "house_number" and any(c.isdigit() for c in free_text):
            return []  # "12a", "12-14": Whisper heard a number, the letter must not be lost
        heard = spoken_digits(free_text)
        found = [heard] if heard and span.fits(heard.lstrip("+")) else []
        for digits in self.digit_hypotheses(encoded, language, span.longest):
            if span.fits(digits) and digits not in found:
                found.append(digits)
        if kind == "house_number":  # said as a number ("zwölf"), not digit by digit
            return [(digits, digits) for digits in found][:MAX_CANDIDATES]
        pairs = [(text, digits) for digits in found for text in digit_renderings(digits)]
        return pairs[:MAX_CANDIDATES]

    def recognize(self, audio: np.ndarray, language: str, kind: str | None) -> Heard:
        """The free transcript, replaced by an expected answer of `kind` that scores as well."""
        encoded, frames = self.encode(audio)
        seconds = len(audio) / SAMPLE_RATE
        text, confidence, no_speech = self.free(encoded, language, int(10 * seconds + 10))
        base = Heard(text, text, confidence, no_speech, language)
        pairs = self.candidates(encoded, language, kind, text) if kind else []
        if not pairs:
            return base
        texts = [t for t, _ in pairs] + ([text] if text else [])
        means = self.score(encoded, frames, language, texts)
        scored = [Scored(t, a, m) for (t, a), m in zip(pairs, means, strict=False)]
        free = Scored(text, text, means[-1]) if text else None
        best = choose(free, scored)
        all_scored = tuple(scored) + ((free,) if free else ())
        if best is None:
            return Heard(text, text, confidence, no_speech, language, False, all_scored)
        # the confidence of what the dialogue gets: the chosen answer's, not the free text's
        chosen = math.exp(best.mean_logprob)
        return Heard(best.answer, text, chosen, no_speech, language, True, all_scored)

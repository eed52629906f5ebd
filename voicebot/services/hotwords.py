"""Whisper's `hotwords`: an explicit list of domain words the Rasa trainers own.

The list lives in `rasa_project/hotwords.txt` (setting `asr.hotwords_file`): one word or
phrase per line, `#` starts a comment. Whisper gets the entries joined by spaces as a hint
(`hotwords`), which biases it towards these spellings. A list of words, not a sentence: a
sentence-style prompt leaks into transcripts (docs/architecture.md, "Models").

It used to be derived from the capitalised words of the NLU data, so a trainer adding an
example silently changed what Whisper heard; now a change is a deliberate edit of one file.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from voicebot.config import Settings
from voicebot.errors import ConfigError

log = logging.getLogger(__name__)

FILE_NAME = "hotwords.txt"
MAX_ENTRY_CHARS = 40
# faster-whisper keeps at most ~223 prompt tokens of hotwords and silently drops the rest
MAX_TOTAL_CHARS = 600
_ENTRY = re.compile(r"[\w][\w .'-]*", re.UNICODE)


def hotwords_path(settings: Settings) -> Path:
    """`asr.hotwords_file`, or by default `hotwords.txt` inside the Rasa project."""
    return settings.asr.hotwords_file or settings.rasa.project_dir / FILE_NAME


def parse_hotwords(text: str, where: str = "hotwords") -> list[str]:
    """The entries of a hot word list, in file order; ConfigError names a bad line."""
    words: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        entry = " ".join(raw.split("#", 1)[0].split())
        if not entry:
            continue
        if len(entry) > MAX_ENTRY_CHARS:
            raise ConfigError(
                f"{where}:{number}: entry is {len(entry)} characters, at most "
                f"{MAX_ENTRY_CHARS} allowed (one word or short phrase per line): {entry[:50]!r}"
            )
        if not _ENTRY.fullmatch(entry) or "_" in entry:
            raise ConfigError(
                f"{where}:{number}: {entry!r} is not a word or phrase (letters, digits, "
                "spaces, hyphens, apostrophes)"
            )
        if entry not in words:
            words.append(entry)
    total = len(" ".join(words))
    if total > MAX_TOTAL_CHARS:
        raise ConfigError(
            f"{where}: the hot words add up to {total} characters, at most {MAX_TOTAL_CHARS}: "
            "Whisper would silently drop the rest; shorten the list"
        )
    return words


def load_hotwords(path: Path) -> list[str]:
    """The hot words in `path`; none (with a warning) when the file does not exist."""
    if not path.exists():
        log.warning("no Whisper hot words: %s does not exist", path)
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the hot word list {path}: {exc}") from exc
    return parse_hotwords(text, str(path))

"""Masking a caller's words for trainers: phone numbers, e-mail addresses, IBANs, dates,
long numbers and names become placeholders such as `[Telefon]` and `[Name]`.

Built on the analytics' `redact` (spoken e-mail addresses, phone numbers, runs of digits) and
the log filter's `mask` (dates); names are caught after the phrases people introduce
themselves with ("mein Name ist ...", "Frau ...") and as the names the call's requests and
handoffs recorded (the appointment form's name).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from voicebot.analytics.problems import redact
from voicebot.log_masking import mask as mask_log

NAME = "[Name]"
ADDRESS = "[Adresse]"
ADDRESS_KEYS = ("street", "address", "adresse", "strasse", "straße")
# the words people say before their name; the name is the capitalised words after it
# after these the next word is the name, whatever its case ("ich heiße schmidt")
_STRONG_CUES = (
    r"ich hei(?:ß|ss)e|mein name ist|mein name lautet|name ist|name lautet|hier spricht|"
    r"my name is|i am called|name's"
)
# after these only capitalised words are ("Frau Schmidt", but "hier ist das Amt" stays)
_WEAK_CUES = r"hier ist|am apparat ist|this is|herrn?|frau|familie|mr\.?|mrs\.?|ms\.?"
_WORD = r"[^\W\d_][\w'’-]*"
_CAPITAL = r"[A-ZÄÖÜ][\w'’-]*"
_PARTICLE = r"(?:(?:von|van|de|zu)\s+)?"
_STRONG_NAME = re.compile(
    rf"(?i:\b({_STRONG_CUES}))\s+({_PARTICLE}{_WORD}(?:\s+{_CAPITAL}){{0,2}})"
)
_WEAK_NAME = re.compile(rf"(?i:\b({_WEAK_CUES}))\s+({_PARTICLE}{_CAPITAL}(?:\s+{_CAPITAL}){{0,2}})")
# number words: "null zwei eins vier ..." is a phone number too
_NUMBER_WORDS = (
    r"null|eins|ein|zwei|zwo|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|"
    r"zero|one|two|three|four|five|six|seven|eight|nine|oh"
)
_SPOKEN_DIGITS = re.compile(rf"\b(?:(?:{_NUMBER_WORDS})[\s,.-]+){{3,}}(?:{_NUMBER_WORDS})\b", re.I)
_LOG_PLACEHOLDERS = {"[TELEFON]": "[Telefon]", "[E-MAIL]": "[E-Mail]", "[DATUM]": "[Datum]"}
MAX_CHARS = 500  # longer utterances are cut (an utterance is a sentence or two)


def _cued(match: re.Match[str]) -> str:
    return f"{match.group(1)} {NAME}"


def _mask_known(text: str, values: Iterable[str], placeholder: str) -> str:
    for value in sorted({v.strip() for v in values if v and len(v.strip()) >= 2}, key=len)[::-1]:
        for part in [value, *value.split()]:
            if len(part) >= 3 and not part.isdigit():
                text = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", placeholder, text, flags=re.I)
    return text


def mask_text(text: str, known: Known | None = None) -> str:
    """The text with personal data replaced; the names and addresses in `known` (from the
    call's records) are masked wherever they occur, also in parts."""
    text = redact(mask_log(text[:MAX_CHARS]))  # e-mail addresses before the names in them
    if known is not None:
        text = _mask_known(text, known.names, NAME)
        text = _mask_known(text, known.addresses, ADDRESS)
    text = mask_log(text)  # written dates, IBANs, e-mails and numbers first
    for raw, placeholder in _LOG_PLACEHOLDERS.items():
        text = text.replace(raw, placeholder)
    text = redact(text)  # spoken e-mail addresses ("punkt", "at"), other digit runs
    text = _SPOKEN_DIGITS.sub("[Nummer]", text)
    text = _STRONG_NAME.sub(_cued, text)
    text = _WEAK_NAME.sub(_cued, text)
    return re.sub(r"(?:\[Name\]\s*){2,}", f"{NAME} ", text).strip()


@dataclass
class Known:
    """Names and addresses a call's records hold (request data, handoff slots)."""

    names: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)

    def add(self, data: object) -> None:
        """Collects string values under keys that hold a name ("name", "appointment_name")
        or an address ("street", "address", "adresse", "strasse") anywhere in `data`."""
        if isinstance(data, dict):
            for key, value in data.items():
                k = str(key).lower()
                if isinstance(value, str) and "name" in k:
                    self.names.append(value)
                elif isinstance(value, str) and any(w in k for w in ADDRESS_KEYS):
                    self.addresses.append(value)
                else:
                    self.add(value)
        elif isinstance(data, list):
            for item in data:
                self.add(item)

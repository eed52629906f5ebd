"""Numbers, amounts, clock times, weekdays and digit strings written for a TTS (Piper/espeak).

Conventions (checked against espeak-ng's German and English voices):
- Amounts and times stay digits, which espeak reads well ("16 Uhr", "22 Euro 80"), except a
  lone 1 before a noun, which espeak would read "eins": "ein Euro", "eine Woche", "ein Uhr".
- Postcodes and phone numbers are digits separated by blanks ("5 1 3 7 3"), so they are read
  digit by digit; "51373" would be read "einundfünfzigtausend...". Phone groups are separated
  by commas, which the voice renders as short pauses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .model import TimeRange

DAYS_DE = ("montags", "dienstags", "mittwochs", "donnerstags", "freitags", "samstags", "sonntags")
DAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def capitalise(text: str) -> str:
    """First letter upper case (sentence start), the rest unchanged."""
    return text[:1].upper() + text[1:]


def join(parts: Sequence[str], language: str) -> str:
    """'A', 'A und B', 'A, B und C' (English: 'and')."""
    word = " und " if language == "de" else " and "
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + word + parts[-1]


# --- money ------------------------------------------------------------------------------


def amount_de(cents: int) -> str:
    """3700 -> '37 Euro', 2280 -> '22 Euro 80', 505 -> '5 Euro und 5 Cent', 100 -> 'ein Euro'."""
    euros, rest = divmod(cents, 100)
    euro_word = "ein Euro" if euros == 1 else f"{euros} Euro"
    if rest == 0:
        return euro_word
    cent_word = "ein Cent" if rest == 1 else f"{rest} Cent"
    if euros == 0:
        return cent_word
    # "5 Euro 5" would sound like 5,50: small cent amounts are named as cents
    return f"{euro_word} und {cent_word}" if rest < 10 else f"{euro_word} {rest}"


def amount_en(cents: int) -> str:
    """3700 -> '37 euros', 2280 -> '22 euros 80 cents', 100 -> '1 euro'."""
    euros, rest = divmod(cents, 100)
    euro_word = f"{euros} euro" if euros == 1 else f"{euros} euros"
    cent_word = f"{rest} cent" if rest == 1 else f"{rest} cents"
    if rest == 0:
        return euro_word
    return cent_word if euros == 0 else f"{euro_word} {cent_word}"


# --- clock times ------------------------------------------------------------------------


def clock_de(minute: int, *, uhr: bool = True) -> str:
    """480 -> '8 Uhr' (or '8' without uhr), 450 -> '7 Uhr 30', 60 -> 'ein Uhr'."""
    hour, rest = divmod(minute, 60)
    if rest:
        return f"{'ein' if hour == 1 else hour} Uhr {rest}"
    if not uhr:
        return str(hour)
    return f"{'ein' if hour == 1 else hour} Uhr"


def span_de(span: TimeRange) -> str:
    """'von 8 bis 16 Uhr', or 'von 7 Uhr 30 bis 16 Uhr' when a minute is not 0."""
    if span.start % 60 == 0 and span.end % 60 == 0:
        return f"von {clock_de(span.start, uhr=False)} bis {clock_de(span.end)}"
    return f"von {clock_de(span.start)} bis {clock_de(span.end)}"


def clock_en(minute: int) -> str:
    """480 -> '8 a.m.', 990 -> '4:30 p.m.', 720 -> '12 noon', 0 and 1440 -> 'midnight'."""
    if minute % 1440 == 0:
        return "midnight"
    if minute == 720:
        return "12 noon"
    hour, rest = divmod(minute, 60)
    suffix = "a.m." if hour < 12 else "p.m."
    hour = hour % 12 or 12
    return f"{hour}:{rest:02d} {suffix}" if rest else f"{hour} {suffix}"


def span_en(span: TimeRange) -> str:
    """'from 8 a.m. to 4 p.m.'."""
    return f"from {clock_en(span.start)} to {clock_en(span.end)}"


# --- weekdays ---------------------------------------------------------------------------


def _runs(days: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted weekdays as runs of consecutive days: [0,1,2,4] -> [(0,2),(4,4)]."""
    runs: list[tuple[int, int]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def days_de(days: Sequence[int]) -> str:
    """[0,1,2,4] -> 'montags bis mittwochs und freitags'."""
    parts: list[str] = []
    for first, last in _runs(days):
        if last - first >= 2:
            parts.append(f"{DAYS_DE[first]} bis {DAYS_DE[last]}")
        else:
            parts.extend(DAYS_DE[first : last + 1])
    return join(parts, "de")


def days_en(days: Sequence[int], *, plural: bool = False) -> str:
    """[0,1,2,4] -> 'Monday to Wednesday and Friday'; plural: 'Thursdays'."""
    names = [f"{d}s" for d in DAYS_EN] if plural else list(DAYS_EN)
    parts: list[str] = []
    for first, last in _runs(days):
        if last - first >= 2:
            parts.append(f"{names[first]} to {names[last]}")
        else:
            parts.extend(names[first : last + 1])
    return join(parts, "en")


# --- digit strings ----------------------------------------------------------------------


def digits(text: str) -> str:
    """'51373' -> '5 1 3 7 3': read digit by digit."""
    return " ".join(ch for ch in text if ch.isdigit())


def phone_number(number: str) -> str:
    """'0214 406-0' -> '0 2 1 4, 4 0 6, 0'; '+49' -> 'plus 4 9'."""
    groups = [digits(g) for g in re.split(r"[^0-9+]+", number) if any(c.isdigit() for c in g)]
    spoken = ", ".join(groups)
    if number.lstrip().startswith("+"):
        spoken = f"plus {spoken}"
    return spoken


def street(text: str) -> str:
    """Expand the abbreviation 'Str.' ('Hauptstr. 5' -> 'Hauptstraße 5') for the voice."""
    return re.sub(r"(S|s)tr\.(?=\s|$)", lambda m: f"{m[1]}traße", text)


def web_host(url: str, language: str) -> str:
    """'https://www.leverkusen.de/x' -> 'leverkusen punkt de' (English: 'dot')."""
    host = re.sub(r"^[a-z]+://", "", url).split("/", 1)[0].split(":", 1)[0]
    host = host.removeprefix("www.")
    return (" punkt " if language == "de" else " dot ").join(host.split("."))

"""E-mail addresses read out on the phone: "max punkt mustermann at beispiel punkt de"."""

import re

from ._text import fold
from .numbers import parse_number_word
from .spelling import CODE_WORDS, LETTER_NAMES

_SYMBOLS = {
    "at": "@",
    "aet": "@",
    "et": "@",
    "klammeraffe": "@",
    "affenschwanz": "@",
    "punkt": ".",
    "dot": ".",
    "bindestrich": "-",
    "minus": "-",
    "strich": "-",
    "dash": "-",
    "unterstrich": "_",
    "tiefstrich": "_",
    "underscore": "_",
    "plus": "+",
}
# Words before the address itself: "meine E-Mail-Adresse ist ..." (cut at the last of these).
_LEAD_IN = {"ist", "lautet", "adresse", "mailadresse", "emailadresse"}
_MAIL_TOKEN = re.compile(r"[@._+-]|[^\W_]+")
_VALID = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}"
)


def parse_email(text: str) -> str | None:
    """The address, lower-case, or None if the result is no plausible address.

    Words are written as heard and joined without spaces; "punkt", "at"/"ät"/"Klammeraffe",
    "Bindestrich"/"Minus", "Unterstrich" become symbols; "m wie Martha" is the letter m (a bare
    code word such as "martha" stays a word); number words become digits; umlauts become
    ae/oe/ue and ß ss, as in real addresses. Whisper's "max.mustermann@beispiel.de" passes.
    """
    toks = _MAIL_TOKEN.findall(fold(text))
    cut = max((i for i, tok in enumerate(toks) if tok in _LEAD_IN), default=-1)
    at = next((i for i, tok in enumerate(toks) if _SYMBOLS.get(tok, tok) == "@"), -1)
    if 0 <= cut < at:
        toks = toks[cut + 1 :]
    out: list[str] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        spelled = out and (len(out[-1]) == 1 or out[-1] in LETTER_NAMES)
        if tok == "wie" and spelled and i + 1 < len(toks) and toks[i + 1] in CODE_WORDS:
            out[-1] = CODE_WORDS[toks[i + 1]]  # "m wie martha": the code word decides
            i += 2
            continue
        if tok in _SYMBOLS:
            out.append(_SYMBOLS[tok])
        elif tok not in ("ein", "eine") and (number := parse_number_word(tok)) is not None:
            out.append(str(number))
        else:
            out.append(tok)
        i += 1
    address = "".join(out).strip(".")
    # Whisper's sentence punctuation next to a spoken symbol ("Mustermann. At ...").
    address = re.sub(r"\.*@\.*", "@", re.sub(r"\.{2,}", ".", address))
    return address if address.count("@") == 1 and _VALID.fullmatch(address) else None

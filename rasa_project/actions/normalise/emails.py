"""E-mail addresses read out on the phone ("max punkt mustermann at beispiel punkt de"), what
is wrong with one that cannot be used, and how the bot spells an address back."""

import re

from ._text import fold
from .numbers import number_to_words, parse_number_word
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


_AT_WORDS = re.compile(r"@|\b(?:at|ät|aet|et|klammeraffe|affenschwanz)\b")
_DOT_WORDS = re.compile(r"\.|\b(?:punkt|dot)\b")
# How a few common mail domains are said; any other domain is spelled.
_KNOWN_DOMAINS = {
    "web.de": "web Punkt de",
    "gmx.de": "G M X Punkt de",
    "gmx.net": "G M X Punkt net",
    "gmail.com": "G Mail Punkt com",
    "googlemail.com": "Google Mail Punkt com",
    "t-online.de": "T Bindestrich online Punkt de",
    "outlook.de": "outlook Punkt de",
    "outlook.com": "outlook Punkt com",
    "hotmail.com": "hotmail Punkt com",
    "hotmail.de": "hotmail Punkt de",
    "yahoo.de": "yahoo Punkt de",
    "yahoo.com": "yahoo Punkt com",
    "icloud.com": "i cloud Punkt com",
}
_SYMBOL_WORDS = {"@": "at", ".": "Punkt", "-": "Bindestrich", "_": "Unterstrich", "+": "Plus"}


_LEADING_FILLERS = frozenset(
    {
        *("ja", "nein", "ne", "nee", "äh", "ähm", "aehm", "öhm", "hm", "also", "okay", "ok"),
        *("gut", "genau", "so", "richtig", "falsch", "doch", "sorry", "entschuldigung"),
        *("korrektur", "bitte", "per", "e-mail", "email", "mail", "an", "schicken", "sie"),
        *("es", "mir"),
    }
)
_TRAILING_FILLERS = frozenset(
    {"bitte", "danke", "dank", "vielen", "schön", "genau", "so", "das", "ist", "alles", "wars"}
)


def heard_email(text: str) -> str | None:
    """parse_email without the words around the address ("ja", "ähm", "bitte", "danke"),
    which parse_email would join into it ("anna@web.debitte")."""
    words = text.split()

    def bare(word: str) -> str:
        return word.strip(".,!?;:").lower()

    while words and bare(words[0]) in _LEADING_FILLERS:
        words.pop(0)
    while words and bare(words[-1]) in _TRAILING_FILLERS:
        words.pop()
    return parse_email(" ".join(words))


def email_problem(text: str) -> str:
    """What is wrong with words that parse_email could not turn into an address: "no_at",
    "two_at", "no_name" (nothing before the at), "no_ending" (no ".de"), else "unclear"."""
    said = text.lower()
    ats = _AT_WORDS.findall(said)
    if not ats:
        return "no_at"
    if len(ats) > 1:
        return "two_at"
    before, after = _AT_WORDS.split(said, maxsplit=1)
    before = re.sub(r"\b(?:meine|e-?mail-?adresse|adresse|lautet|ist|die)\b", " ", before)
    if not re.search(r"[^\W_]", before):
        return "no_name"
    ending = _DOT_WORDS.split(after)[-1] if _DOT_WORDS.search(after) else ""
    if len(re.sub(r"[\W_]", "", ending)) < 2:
        return "no_ending"
    return "unclear"


def spell(word: str) -> str:
    """'anna1' -> 'A N N A eins': letters one by one, digits as words."""
    return " ".join(number_to_words(int(c)) if c.isdigit() else c.upper() for c in word)


def spoken_email(address: str) -> str:
    """The address for the read-back: the part before the at spelled, the domain spelled
    unless it is a common provider ("web Punkt de")."""
    local, _, domain = address.partition("@")
    parts = [_spell_with_symbols(local), "at"]
    parts.append(_KNOWN_DOMAINS.get(domain) or _spell_with_symbols(domain))
    return ", ".join(parts)


def _spell_with_symbols(text: str) -> str:
    pieces = re.findall(r"[a-z0-9]+|[^a-z0-9]", text)
    return ", ".join(
        _SYMBOL_WORDS.get(p, p) if len(p) == 1 and not p.isalnum() else spell(p) for p in pieces
    )

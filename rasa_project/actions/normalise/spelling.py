"""Spelled input: DIN 5009 code words ("M wie Martha", "M wie München") and bare letter names."""

import re

from ._text import fold

# Letter -> code words: the traditional names, the 2022 city names and a few spellings that
# Whisper writes for them. Keys are the letters the result gets; lookups use folded words.
_CODE_WORDS: dict[str, tuple[str, ...]] = {
    "a": ("Anton", "Aachen"),
    "ä": ("Ärger",),
    "b": ("Berta", "Bertha", "Berlin"),
    "c": ("Cäsar", "Caesar", "Zäsar", "Chemnitz"),
    "ch": ("Charlotte",),
    "d": ("Dora", "Düsseldorf"),
    "e": ("Emil", "Essen"),
    "f": ("Friedrich", "Frankfurt"),
    "g": ("Gustav", "Goslar"),
    "h": ("Heinrich", "Hamburg"),
    "i": ("Ida", "Ingelheim"),
    "j": ("Julius", "Jena"),
    "k": ("Kaufmann", "Köln", "Konrad"),
    "l": ("Ludwig", "Leipzig"),
    "m": ("Martha", "Marta", "München"),
    "n": ("Nordpol", "Nürnberg"),
    "o": ("Otto", "Offenbach"),
    "ö": ("Ökonom",),
    "p": ("Paula", "Potsdam"),
    "q": ("Quelle", "Quickborn"),
    "r": ("Richard", "Rostock"),
    "s": ("Samuel", "Siegfried", "Salzwedel"),
    "sch": ("Schule",),
    "ß": ("Eszett",),
    "t": ("Theodor", "Tübingen"),
    "u": ("Ulrich", "Unna"),
    "ü": ("Übermut",),
    "v": ("Viktor", "Victor", "Völklingen"),
    "w": ("Wilhelm", "Wuppertal"),
    "x": ("Xanthippe", "Xantippe", "Xanten"),
    "y": ("Ypsilon", "Üpsilon"),
    "z": ("Zacharias", "Zeppelin", "Zwickau"),
}

# Letter -> how Whisper writes the bare letter name ("Em", "Ka", "Jot", "Vau").
_LETTER_NAMES: dict[str, tuple[str, ...]] = {
    "a": ("a", "ah"),
    "b": ("b", "be", "beh"),
    "c": ("c", "ce", "tse", "zeh"),
    "d": ("d", "de", "deh"),
    "e": ("e", "eh"),
    "f": ("f", "ef", "eff"),
    "g": ("g", "ge", "geh"),
    "h": ("h", "ha", "hah"),
    "i": ("i", "ih"),
    "j": ("j", "jot", "jott"),
    "k": ("k", "ka", "kah"),
    "l": ("l", "el", "ell"),
    "m": ("m", "em", "emm"),
    "n": ("n", "en", "enn"),
    "o": ("o", "oh"),
    "p": ("p", "pe", "peh"),
    "q": ("q", "qu", "ku", "kuh"),
    "r": ("r", "er", "err"),
    "s": ("s", "es", "ess"),
    "t": ("t", "te", "teh"),
    "u": ("u", "uh"),
    "v": ("v", "vau", "fau"),
    "w": ("w", "we", "weh"),
    "x": ("x", "ix", "iks"),
    "y": ("y",),
    "z": ("z", "zet", "zett"),
    "ä": ("ä",),
    "ö": ("ö",),
    "ü": ("ü",),
    "ß": ("ß",),
}

CODE_WORDS: dict[str, str] = {fold(w): letter for letter, ws in _CODE_WORDS.items() for w in ws}
LETTER_NAMES: dict[str, str] = {fold(w): letter for letter, ws in _LETTER_NAMES.items() for w in ws}
_UMLAUT = {"a": "ä", "o": "ö", "u": "ü"}
_SEPARATORS = {
    "bindestrich": "-",
    "minus": "-",
    "strich": "-",
    "leerzeichen": " ",
    "leerstelle": " ",
    "leertaste": " ",
    "abstand": " ",
    "apostroph": "'",
    "punkt": ".",
}
_DIGIT_WORDS = {"null": "0", "eins": "1", "zwei": "2", "zwo": "2", "drei": "3", "vier": "4"}
_DIGIT_WORDS |= {"fuenf": "5", "sechs": "6", "sieben": "7", "acht": "8", "neun": "9"}
# Words callers put around a spelling; case words are ignored because names get capitalised.
_IGNORED = {
    "also",
    "mein",
    "meine",
    "name",
    "nachname",
    "vorname",
    "familienname",
    "ist",
    "lautet",
    "heisst",
    "das",
    "den",
    "die",
    "der",
    "und",
    "dann",
    "noch",
    "mal",
    "nochmal",
    "einmal",
    "bitte",
    "ich",
    "buchstabiere",
    "buchstabiert",
    "genau",
    "so",
    "ja",
    "aeh",
    "aehm",
    "hm",
    "gross",
    "grosses",
    "grossbuchstabe",
    "klein",
    "kleines",
    "kleinbuchstabe",
    "wie",
}
# Spelling tokens: every digit on its own; hyphens between letters ("M-E-I-E-R") are dropped.
_SPELL_TOKEN = re.compile(r"\d|[^\W\d_]+")
_PARTICLES = {"von", "van", "vom", "zu", "zum", "zur", "der", "den", "de", "ter"}


def spelling_tokens(text: str) -> list[str]:
    """Folded words and single digits; punctuation (also hyphens) separates and is dropped."""
    return _SPELL_TOKEN.findall(fold(text))


def read_letter(toks: list[str], i: int, *, postfix: bool = True) -> tuple[str, int] | None:
    """The letter spelled at toks[i] and how many tokens it took, or None.

    Understands "m wie martha" (the code word decides), a bare code word, a letter name and
    the umlauts "Umlaut A" and "A Umlaut" (the latter, `postfix`, only where the "Umlaut" is
    not itself followed by a, o or u: "Umlaut A, Umlaut O" is "äö").
    """
    tok = toks[i]
    if i + 2 < len(toks) and toks[i + 1] == "wie" and toks[i + 2] in CODE_WORDS:
        return CODE_WORDS[toks[i + 2]], 3
    if tok in CODE_WORDS:
        return CODE_WORDS[tok], 1
    if tok == "umlaut" and i + 1 < len(toks):
        inner = read_letter(toks, i + 1, postfix=False)
        if inner and inner[0] in _UMLAUT:
            return _UMLAUT[inner[0]], 1 + inner[1]
    if tok in LETTER_NAMES:
        letter = LETTER_NAMES[tok]
        if postfix and letter in _UMLAUT and i + 1 < len(toks) and toks[i + 1] == "umlaut":
            after = read_letter(toks, i + 2, postfix=False) if i + 2 < len(toks) else None
            if after is None or after[0] not in _UMLAUT:
                return _UMLAUT[letter], 2
        return letter, 1
    return None


def parse_spelled(text: str, *, digits: bool = True) -> str | None:
    """What a caller spelled, lower-case ("M wie Martha, E, I, E, R" -> "meier").

    Separators are spoken ("Bindestrich", "Leerzeichen"); "doppel L" is "ll"; fillers such as
    "mein Name ist" are skipped; any other word makes the whole input None (it was not spelled).
    Digits ("eins", "3") are kept unless `digits` is False, then they give None.
    """
    toks = spelling_tokens(text)
    out: list[str] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok in ("doppel", "doppelt") and i + 1 < len(toks):
            letter = read_letter(toks, i + 1)
            if letter is None:
                return None
            out.append(letter[0] * 2)
            i += 1 + letter[1]
            continue
        if tok == "scharfes" and i + 1 < len(toks) and LETTER_NAMES.get(toks[i + 1]) == "s":
            out.append("ß")
            i += 2
            continue
        if tok == "wie" and i + 1 < len(toks) and toks[i + 1] in CODE_WORDS:
            out.append(CODE_WORDS[toks[i + 1]])  # "wie Martha" without the letter before it
            i += 2
            continue
        letter = read_letter(toks, i)
        if letter is not None:
            out.append(letter[0])
            i += letter[1]
            continue
        if tok in _SEPARATORS:
            out.append(_SEPARATORS[tok])
        elif tok.isdigit() or tok in _DIGIT_WORDS:
            if not digits:
                return None
            out.append(_DIGIT_WORDS.get(tok, tok))
        elif tok not in _IGNORED:
            return None
        i += 1
    result = re.sub(r" +", " ", "".join(out)).strip()
    return result if any(c.isalnum() for c in result) else None


def parse_spelled_name(text: str) -> str | None:
    """A spelled name with capitals: "M E I E R" -> "Meier", "M U Umlaut L L E R" -> "Müller".

    Every part is capitalised except name particles before the last part ("von der Heide");
    digits or punctuation other than "-", " " and "'" give None.
    """
    raw = parse_spelled(text, digits=False)
    if raw is None or not re.fullmatch(r"[^\W\d_]+(?:[- '][^\W\d_]+)*", raw):
        return None
    parts = re.split(r"([- '])", raw)
    last = len(parts) - 1
    named = [
        p if p in "- '" or (p in _PARTICLES and n < last) else p[:1].upper() + p[1:]
        for n, p in enumerate(parts)
    ]
    return "".join(named)

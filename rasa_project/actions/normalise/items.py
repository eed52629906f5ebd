"""Lists of things said on the phone: "ein Sofa, zwei Stühle und ein Schrank" as items with
counts; and how the bot says such a list back. Standard library only."""

from __future__ import annotations

import re
from typing import Any

from ._text import fold, word_set
from .numbers import number_to_words, parse_number_word

_ITEM_SPLIT = re.compile(r"[,;.]|\b(?:und|sowie|plus|außerdem|ausserdem|dazu)\b", re.IGNORECASE)
_ITEM_WORD = re.compile(r"\d+|[^\W\d_]+(?:-[^\W\d_]+)*")
_ITEM_FILLERS = word_set(
    "ich wir habe hab haben es sind ist das also aeh aehm ehm hm noch dann da waere "
    "waeren auch bitte nur sollen soll abgeholt werden moechte moechten gerne gern "
    "abholen lassen mal so weg entsorgen ja nein nichts weiss nicht keine ahnung "
    "genau okay ok gut sperrmuell gegenstaende sachen folgendes folgende und mir uns "
    "alte alten alter altes zum zur den die der"
)
_ONE = {"ein", "eine", "einen", "einem", "einer", "eins"}
_ITEM_JOINERS = {"mit", "fuer", "aus", "von", "a", "ca", "circa", "etwa", "ungefaehr"}


def _item_count(folded: str) -> int | None:
    if folded in _ONE:
        return 1
    if folded.isdigit():
        return int(folded)
    return parse_number_word(folded)


def parse_items(text: str) -> list[dict[str, Any]]:
    """ "ein Sofa, zwei Stühle und ein Schrank" -> [{"item": "Sofa", "count": 1},
    {"item": "Stühle", "count": 2}, {"item": "Schrank", "count": 1}]; [] when there is none."""
    items: list[dict[str, Any]] = []
    for segment in _ITEM_SPLIT.split(str(text or "")):
        for count, kept in _counted_parts(_ITEM_WORD.findall(segment)):
            while kept and fold(kept[-1]) in _ITEM_FILLERS:
                kept.pop()
            if not any(len(w) >= 3 and fold(w) not in _ITEM_FILLERS for w in kept):
                continue
            name = " ".join(kept)
            items.append({"item": name[:1].upper() + name[1:], "count": count or 1})
    return items


def _counted_parts(words: list[str]) -> list[tuple[int | None, list[str]]]:
    """Splits "ein sofa zwei stühle" (Whisper often writes no commas) at each count word
    that follows an item: [(1, ["sofa"]), (2, ["stühle"])]. "Schrank mit zwei Türen" stays
    one item (a count after "mit", "für", "aus", "von", "à" belongs to it)."""
    parts: list[tuple[int | None, list[str]]] = []
    count: int | None = None
    kept: list[str] = []
    for word in words:
        folded = fold(word)
        value = _item_count(folded)
        valid = value is not None and 0 < value < 1000
        if valid and kept and fold(kept[-1]) not in _ITEM_JOINERS:
            parts.append((count, kept))
            count, kept = value, []
        elif valid and not kept and count is None:
            count = value
        elif folded in _ITEM_FILLERS and not kept:
            continue
        else:
            kept.append(word)
    parts.append((count, kept))
    return parts


def speak_items(items: list[dict[str, Any]]) -> str:
    """ "Sofa, zwei Stühle und Schrank"."""
    parts = [
        item["item"] if item["count"] == 1 else f"{number_to_words(item['count'])} {item['item']}"
        for item in items
    ]
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " und " + parts[-1]

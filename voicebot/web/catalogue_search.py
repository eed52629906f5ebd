"""The service catalogue for agents: the facts to read out, found by a fuzzy search (pure).

The gateway reads the catalogue's YAML files itself (it never imports the Rasa project's
code): `entries(documents)` turns the parsed files into one `Entry` per service with its
office's facts in German; `search(entries, query)` ranks them. Matching ignores case, ß/ss
and umlaut spellings; a query that starts a name or synonym, or occurs in it, ranks first
("Perso" finds the Personalausweis), then close spellings by similarity ("Reisepas").
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

MIN_SCORE = 0.72
MAX_RESULTS = 5
DAYS = {"mo": "Mo", "di": "Di", "mi": "Mi", "do": "Do", "fr": "Fr", "sa": "Sa", "so": "So"}
UNITS = {"days": "Tage", "working_days": "Werktage", "weeks": "Wochen", "months": "Monate"}
PERIODS = {"year": "pro Jahr", "month": "pro Monat"}


@dataclass(frozen=True)
class Entry:
    """One service with what an agent reads out."""

    service_id: str
    name: str
    phrases: tuple[str, ...]  # normalised name, synonyms and id
    summary: str = ""
    documents: tuple[str, ...] = ()
    fee: str = ""
    processing_time: str = ""
    office: str = ""
    address: str = ""
    hours: tuple[str, ...] = ()
    phone: str = ""
    email: str = ""
    form: tuple[str, str] | None = None  # name, url
    notes: tuple[str, ...] = field(default_factory=tuple)


def normalise(text: str) -> str:
    """Lower case, ß -> ss, umlauts and their ae/oe/ue spellings -> a/o/u, single spaces."""
    text = text.lower().replace("ß", "ss")
    for umlaut, plain in (("ä", "a"), ("ö", "o"), ("ü", "u"), ("ae", "a"), ("oe", "o")):
        text = text.replace(umlaut, plain)
    text = text.replace("ue", "u")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def german(value: Any) -> str:
    """The German text of a catalogue text (a string or {de: ..., en: ...})."""
    if isinstance(value, dict):
        return str(value.get("de", ""))
    return "" if value is None else str(value)


def euro(cents: Any) -> str:
    """3700 -> '37,00 €'."""
    return f"{int(cents) / 100:.2f} €".replace(".", ",")


def fee_text(fee: Any) -> str:
    """The fee in German: free, an amount, a range, with period, variants and note."""
    if not isinstance(fee, dict):
        return ""
    if fee.get("free"):
        text = "kostenlos"
    elif "amount_cents" in fee:
        text = euro(fee["amount_cents"])
    elif "min_cents" in fee:
        text = f"{euro(fee['min_cents'])} bis {euro(fee.get('max_cents', fee['min_cents']))}"
    else:
        text = ""
    if fee.get("period") in PERIODS:
        text += f" {PERIODS[fee['period']]}"
    for variant in fee.get("variants") or []:
        price = fee_text({k: v for k, v in variant.items() if k != "when"})
        text += f"; {german(variant.get('when'))}: {price}"
    if fee.get("note"):
        text += f". {german(fee['note'])}"
    return text.strip()


def time_text(node: Any) -> str:
    """The processing time in German."""
    if not isinstance(node, dict):
        return ""
    if node.get("immediate"):
        text = "sofort"
    else:
        span = f"{node.get('min')}" + (f" bis {node['max']}" if node.get("max") else "")
        text = f"{span} {UNITS.get(str(node.get('unit')), '')}".strip()
    return f"{text}. {german(node['note'])}" if node.get("note") else text


def hours_text(node: Any) -> tuple[str, ...]:
    """Opening hours as lines: 'Mo-Mi: 08:00-16:00'."""
    if not isinstance(node, dict):
        return ()
    lines = []
    for week in node.get("weekly") or []:
        days = str(week.get("days", ""))
        for short, label in DAYS.items():
            days = re.sub(rf"\b{short}\b", label, days)
        lines.append(f"{days}: {', '.join(str(t) for t in week.get('times') or [])}")
    if node.get("note"):
        lines.append(german(node["note"]))
    return tuple(lines)


def entries(documents: list[Any]) -> list[Entry]:
    """One entry per service of the parsed catalogue files, with its office's facts."""
    offices: dict[str, dict[str, Any]] = {}
    services: list[dict[str, Any]] = []
    for document in documents:
        if isinstance(document, dict):
            offices.update({str(o.get("id")): o for o in document.get("offices") or []})
            services.extend(s for s in document.get("services") or [] if isinstance(s, dict))
    found = []
    for s in services:
        office = offices.get(str(s.get("office")), {})
        address = office.get("address") or {}
        name = german(s.get("name"))
        synonyms = [german(x) for x in s.get("synonyms") or []]
        form = s.get("form")
        found.append(
            Entry(
                service_id=str(s.get("id")),
                name=name,
                phrases=tuple(normalise(p) for p in (name, *synonyms, str(s.get("id"))) if p),
                summary=german(s.get("summary")),
                documents=tuple(german(d) for d in s.get("documents") or []),
                fee=fee_text(s.get("fee")),
                processing_time=time_text(s.get("processing_time")),
                office=german(office.get("name")),
                address=(
                    f"{address.get('street', '')}, {address.get('postcode', '')} "
                    f"{address.get('city', '')}"
                    if address
                    else ""
                ),
                hours=hours_text(office.get("opening_hours")),
                phone=str(office.get("phone") or ""),
                email=str(office.get("email") or ""),
                form=(german(form.get("name")), str(form.get("url")))
                if isinstance(form, dict)
                else None,
                notes=tuple(german(n) for n in s.get("notes") or []),
            )
        )
    return found


def score(query: str, entry: Entry) -> float:
    """How well a normalised query names an entry (1: starts its name or a synonym)."""
    best = 0.0
    for phrase in entry.phrases:
        words = phrase.split()
        if phrase.startswith(query) or any(w.startswith(query) for w in words):
            return 1.0
        if query in phrase:
            best = max(best, 0.9)
        candidates = [phrase, *words]
        best = max(best, *(difflib.SequenceMatcher(None, query, c).ratio() for c in candidates))
    return best


def search(found: list[Entry], query: str) -> list[Entry]:
    """The best matching entries for a query, best first (at most MAX_RESULTS)."""
    wanted = normalise(query)
    if len(wanted) < 2:
        return []
    ranked = sorted(((score(wanted, e), e.name, e) for e in found), key=lambda t: (-t[0], t[1]))
    return [e for s, _, e in ranked if s >= MIN_SCORE][:MAX_RESULTS]

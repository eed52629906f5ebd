"""Spoken answers from catalogue entries: short sentences, formal "Sie", written for a TTS.

Every function takes `language` ("de" default, or "en"; "de-DE" works too) and raises
MissingTranslation for English when the entry has no English texts (see Service.has_english).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import spoken as s
from .model import Article, Fee, Office, OpeningHours, Price, Service, TimeRange, language_code

_DATIVE = {"der": "Beim", "die": "Bei der", "das": "Beim"}  # "Beim Reisepass ..."
_ACCUSATIVE = {"der": "den", "die": "die", "das": "das"}  # "Für den Reisepass ..."
_PRONOUN = {"der": "er", "die": "sie", "das": "es"}  # "Unter 24 Jahren kostet er ..."
_PERIOD_DE = {"year": " im Jahr", "month": " im Monat"}
_PERIOD_EN = {"year": " per year", "month": " per month"}
_UNITS_DE = {
    "days": ("einen Tag", "Tage"),
    "working_days": ("einen Werktag", "Werktage"),
    "weeks": ("eine Woche", "Wochen"),
    "months": ("einen Monat", "Monate"),
}
_UNITS_EN = {
    "days": ("day", "days"),
    "working_days": ("working day", "working days"),
    "weeks": ("week", "weeks"),
    "months": ("month", "months"),
}


def _the(article: Article, name: str) -> str:
    """Nominative at a sentence start: 'Das Bürgerbüro'."""
    return f"{article.capitalize()} {name}"


def _sentences(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


# --- opening hours ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Clause:
    """Days with their spans; or, as an exception to the clause before, a new start/end."""

    days: tuple[int, ...]
    spans: tuple[TimeRange, ...] = ()
    until: int | None = None  # exception: same start, this end
    since: int | None = None  # exception: same end, this start
    shorter: bool = False  # exception opens later or closes earlier ("nur bis", "erst ab")


def _groups(days: list[int], week: list[tuple[TimeRange, ...]]) -> list[_Clause]:
    """Days with the same spans as one clause each, in weekday order."""
    grouped: dict[tuple[TimeRange, ...], list[int]] = {}
    for day in days:
        grouped.setdefault(week[day], []).append(day)
    return [_Clause(tuple(d), spans) for spans, d in grouped.items()]


def _exception_form(week: list[tuple[TimeRange, ...]]) -> list[_Clause] | None:
    """'montags bis freitags von 8 bis 16 Uhr, donnerstags bis 18 Uhr' when the longest run of
    open days mostly shares one span and the other days of it differ in start or end only."""
    runs: list[list[int]] = []
    for day in range(7):
        if week[day]:
            if runs and runs[-1][-1] == day - 1:
                runs[-1].append(day)
            else:
                runs.append([day])
    block = max(runs, key=len, default=[])
    if len(block) < 3:
        return None
    counts: dict[tuple[TimeRange, ...], int] = {}
    for day in block:
        counts[week[day]] = counts.get(week[day], 0) + 1
    base, count = max(counts.items(), key=lambda kv: kv[1])
    if len(base) != 1 or count * 2 <= len(block) or count == len(block):
        return None
    usual = base[0]
    exceptions: list[_Clause] = []
    for clause in _groups([d for d in block if week[d] != base], week):
        if len(clause.spans) != 1:
            return None
        span = clause.spans[0]
        if span.start == usual.start:
            exceptions.append(_Clause(clause.days, until=span.end, shorter=span.end < usual.end))
        elif span.end == usual.end:
            exceptions.append(
                _Clause(clause.days, since=span.start, shorter=span.start > usual.start)
            )
        else:
            return None
    others = _groups([d for d in range(7) if week[d] and d not in block], week)
    return [_Clause(tuple(block), base), *exceptions, *others]


def _clause_de(clause: _Clause) -> str:
    days = s.days_de(clause.days)
    if clause.until is not None:
        return f"{days} {'nur ' if clause.shorter else ''}bis {s.clock_de(clause.until)}"
    if clause.since is not None:
        return f"{days} {'erst' if clause.shorter else 'schon'} ab {s.clock_de(clause.since)}"
    return f"{days} {' und '.join(s.span_de(span) for span in clause.spans)}"


def _clause_en(clause: _Clause) -> str:
    if clause.until is not None:
        days = s.days_en(clause.days, plural=True)
        return f"on {days} {'only ' if clause.shorter else ''}until {s.clock_en(clause.until)}"
    if clause.since is not None:
        days = s.days_en(clause.days, plural=True)
        return f"on {days} {'only ' if clause.shorter else ''}from {s.clock_en(clause.since)}"
    return f"{s.days_en(clause.days)} {' and '.join(s.span_en(span) for span in clause.spans)}"


def _hours_clauses(hours: OpeningHours) -> list[_Clause]:
    """The week as clauses: the exception form where it fits, else days grouped by spans."""
    week = [hours.on(day) for day in range(7)]
    return _exception_form(week) or _groups([d for d in range(7) if week[d]], week)


def say_opening_hours(office: Office, language: str = "de") -> str:
    """'Das Bürgerbüro hat montags bis freitags von 8 bis 16 Uhr geöffnet, donnerstags bis
    18 Uhr.' plus the office's note on the hours."""
    lang = language_code(language)
    clauses = _hours_clauses(office.hours)
    note = office.hours.note.get(lang) if office.hours.note else None
    if lang == "de":
        first, *rest = [_clause_de(c) for c in clauses]
        tail = f", {s.join(rest, 'de')}" if rest else ""
        name = _the(office.article, office.name.de)
        return _sentences(f"{name} hat {first} geöffnet{tail}.", note)
    first, *rest = [_clause_en(c) for c in clauses]
    tail = f", {s.join(rest, 'en')}" if rest else ""
    sentence = f"The {office.name.get(lang)} is open {first}{tail}"
    # "... until 6 p.m." already ends with a full stop
    return _sentences(sentence if sentence.endswith(".") else f"{sentence}.", note)


# --- office contact ---------------------------------------------------------------------


def say_address(office: Office, language: str = "de") -> str:
    """'Das Bürgerbüro finden Sie unter der Adresse Friedrich-Ebert-Platz 1, 5 1 3 7 3
    Leverkusen.' The postcode is spoken digit by digit (see spoken.py)."""
    lang = language_code(language)
    address = office.address
    where = f"{s.street(address.street)}, {s.digits(address.postcode)} {address.city}"
    note = address.note.get(lang) if address.note else None
    if lang == "de":
        name = _the(office.article, office.name.de)
        return _sentences(f"{name} finden Sie unter der Adresse {where}.", note)
    return _sentences(f"The {office.name.get(lang)} is at {where}.", note)


def say_phone(office: Office, language: str = "de") -> str:
    """'Sie erreichen das Bürgerbüro unter der Nummer 0 2 1 4, 4 0 6, 0.'"""
    lang = language_code(language)
    number = s.phone_number(office.phone)
    if lang == "de":
        name = f"{_ACCUSATIVE[office.article]} {office.name.de}"
        return f"Sie erreichen {name} unter der Nummer {number}."
    return f"You can reach the {office.name.get(lang)} on {number}."


# --- services ---------------------------------------------------------------------------


def say_summary(service: Service, language: str = "de") -> str:
    """The service's short answer from the catalogue."""
    return service.summary.get(language)


def _whole_euros(price: Price) -> bool:
    return price.min_cents % 100 == 0 and price.max_cents % 100 == 0 and price.min_cents > 100


def _price_de(price: Price) -> str:
    """'37 Euro'; 'zwischen 40 und 85 Euro'; 'zwischen 26 Euro 30 und 45 Euro'."""
    if not price.is_range:
        return s.amount_de(price.min_cents)
    if _whole_euros(price):
        return f"zwischen {price.min_cents // 100} und {s.amount_de(price.max_cents)}"
    return f"zwischen {s.amount_de(price.min_cents)} und {s.amount_de(price.max_cents)}"


def _price_en(price: Price) -> str:
    """'37 euros'; 'between 40 and 85 euros'; 'between 26 euros 30 cents and 45 euros'."""
    if not price.is_range:
        return s.amount_en(price.min_cents)
    if _whole_euros(price):
        return f"between {price.min_cents // 100} and {s.amount_en(price.max_cents)}"
    return f"between {s.amount_en(price.min_cents)} and {s.amount_en(price.max_cents)}"


def _fee_de(service: Service, fee: Fee) -> list[str]:
    period = _PERIOD_DE[fee.period] if fee.period else ""
    name = _the(service.article, service.name.de)
    if fee.price.is_free:
        sentences = [f"{name} ist kostenlos."]
    else:
        sentences = [f"{name} kostet {_price_de(fee.price)}{period}."]
    pronoun = _PRONOUN[service.article]
    for variant in fee.variants:
        when = s.capitalise(variant.condition.de)
        if variant.price.is_free:
            sentences.append(f"{when} ist {pronoun} kostenlos.")
        else:
            sentences.append(f"{when} kostet {pronoun} {_price_de(variant.price)}{period}.")
    return sentences


def _fee_en(service: Service, fee: Fee) -> list[str]:
    period = _PERIOD_EN[fee.period] if fee.period else ""
    name = f"The {service.name.get('en')}"
    if fee.price.is_free:
        sentences = [f"{name} is free of charge."]
    else:
        sentences = [f"{name} costs {_price_en(fee.price)}{period}."]
    for variant in fee.variants:
        when = s.capitalise(variant.condition.get("en"))
        if variant.price.is_free:
            sentences.append(f"{when}, it is free of charge.")
        else:
            sentences.append(f"{when}, it costs {_price_en(variant.price)}{period}.")
    return sentences


def say_fee(service: Service, language: str = "de") -> str:
    """'Der Personalausweis kostet 37 Euro. Unter 24 Jahren kostet er 22 Euro 80.'"""
    lang = language_code(language)
    fee = service.fee
    sentences = _fee_de(service, fee) if lang == "de" else _fee_en(service, fee)
    return _sentences(*sentences, fee.note.get(lang) if fee.note else None)


def say_documents(service: Service, language: str = "de") -> str:
    """'Für den Personalausweis brauchen Sie ein biometrisches Passfoto und ...' (the
    catalogue writes documents as accusative phrases: 'Ihren bisherigen Ausweis')."""
    lang = language_code(language)
    documents = [d.get(lang) for d in service.documents]
    if lang == "de":
        subject = f"{_ACCUSATIVE[service.article]} {service.name.de}"
        if not documents:
            return f"Für {subject} brauchen Sie keine Unterlagen."
        return f"Für {subject} brauchen Sie {s.join(documents, 'de')}."
    name = service.name.get(lang)
    if not documents:
        return f"You do not need any documents for the {name}."
    return f"For the {name} you need {s.join(documents, 'en')}."


def _duration_de(low: int, high: int, unit: str) -> str:
    one, many = _UNITS_DE[unit]
    if low == high:
        return one if low == 1 else f"{low} {many}"
    return f"{'ein' if low == 1 else low} bis {high} {many}"


def _duration_en(low: int, high: int, unit: str) -> str:
    one, many = _UNITS_EN[unit]
    if low == high:
        return f"1 {one}" if low == 1 else f"{low} {many}"
    return f"{low} to {high} {many}"


def say_processing_time(service: Service, language: str = "de") -> str | None:
    """'Beim Reisepass dauert die Bearbeitung etwa 3 bis 4 Wochen.'; None when the catalogue
    says nothing about it (the caller should then not be told a guess)."""
    lang = language_code(language)
    time = service.processing_time
    if time is None:
        return None
    note = time.note.get(lang) if time.note else None
    if lang == "de":
        intro = f"{_DATIVE[service.article]} {service.name.de}"
        if time.immediate:
            return _sentences(f"{intro} ist alles sofort erledigt.", note)
        duration = _duration_de(time.min, time.max, time.unit)
        return _sentences(f"{intro} dauert die Bearbeitung etwa {duration}.", note)
    name = service.name.get(lang)
    if time.immediate:
        return _sentences(f"The {name} is dealt with straight away.", note)
    duration = _duration_en(time.min, time.max, time.unit)
    return _sentences(f"Processing of the {name} takes about {duration}.", note)


def say_form(service: Service, language: str = "de") -> str:
    """'Das Formular „Antrag auf Wohngeld“ finden Sie im Internet unter leverkusen punkt de.'
    The form's name may stay German in English answers: it is what is printed on the form."""
    lang = language_code(language)
    form = service.form
    if lang == "de":
        if form is None:
            subject = f"{_ACCUSATIVE[service.article]} {service.name.de}"
            return f"Für {subject} gibt es kein Formular zum Herunterladen."
        host = s.web_host(form.url, "de")
        return f"Das Formular „{form.name.de}“ finden Sie im Internet unter {host}."
    name = service.name.get(lang)
    if form is None:
        return f"There is no form to download for the {name}."
    title = form.name.en or form.name.de
    return f'You can find the form "{title}" online at {s.web_host(form.url, "en")}.'


def say_notes(service: Service, language: str = "de") -> str:
    """The service's further notes (pick-up, appointments), '' when it has none."""
    return _sentences(*(note.get(language) for note in service.notes))

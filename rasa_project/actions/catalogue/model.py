"""The service catalogue as typed, immutable values (built and validated by loader.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .match import Match, SynonymIndex, rank

Article = Literal["der", "die", "das"]
ARTICLES: tuple[Article, ...] = ("der", "die", "das")
LANGUAGES = ("de", "en")
# Weekday keys as written in the YAML, Monday first (index = datetime.weekday()).
WEEKDAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")


class CatalogueError(ValueError):
    """A catalogue file is missing, unreadable or invalid; the message names file and field."""


class MissingTranslation(LookupError):
    """An answer was asked for in a language the catalogue entry has no text for."""


def language_code(language: str) -> str:
    """'de', 'de-DE', 'en_GB' -> 'de'/'en'; any other language is a ValueError."""
    code = language.replace("_", "-").split("-", 1)[0].strip().lower()
    if code not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; the catalogue speaks de and en")
    return code


@dataclass(frozen=True)
class Text:
    """A German text with an optional English translation."""

    de: str
    en: str | None = None

    def get(self, language: str) -> str:
        """The text in `language`; MissingTranslation when there is no English text."""
        if language_code(language) == "de":
            return self.de
        if self.en is None:
            raise MissingTranslation(f"no English text for {self.de!r}")
        return self.en


@dataclass(frozen=True)
class TimeRange:
    """Opening time span in minutes since midnight; invariant: 0 <= start < end <= 1440."""

    start: int
    end: int

    def contains(self, minute: int) -> bool:
        """Whether the minute of the day lies in [start, end)."""
        return self.start <= minute < self.end


@dataclass(frozen=True)
class OpeningRule:
    """The same time spans on a set of weekdays (0 = Monday)."""

    days: tuple[int, ...]
    times: tuple[TimeRange, ...]


@dataclass(frozen=True)
class OpeningHours:
    """Weekly opening hours; invariant: every weekday is named by at most one rule."""

    rules: tuple[OpeningRule, ...]
    note: Text | None = None

    def on(self, weekday: int) -> tuple[TimeRange, ...]:
        """The time spans of a weekday (0 = Monday), sorted; () when closed."""
        for rule in self.rules:
            if weekday in rule.days:
                return rule.times
        return ()

    def is_open(self, weekday: int, minute: int) -> bool:
        """Whether the office is open on `weekday` at `minute` past midnight."""
        return any(span.contains(minute) for span in self.on(weekday))


@dataclass(frozen=True)
class Address:
    """Postal address of an office; postcode is five digits."""

    street: str
    postcode: str
    city: str
    note: Text | None = None


@dataclass(frozen=True)
class Office:
    """An office (department) of the city: where it is, when it is open, whom to transfer to."""

    id: str
    name: Text
    article: Article
    address: Address
    hours: OpeningHours
    phone: str
    email: str
    transfer: str  # SIP URI ("sip:queue@pbx") or a queue name the gateway maps to a URI
    source: str  # file the office was read from

    @property
    def transfer_is_sip_uri(self) -> bool:
        """Whether `transfer` is a SIP URI (else a queue name)."""
        return self.transfer.startswith(("sip:", "sips:"))


@dataclass(frozen=True)
class Price:
    """An amount or a range of amounts in euro cents; free when both are 0."""

    min_cents: int
    max_cents: int

    @property
    def is_free(self) -> bool:
        """Whether nothing is to pay."""
        return self.max_cents == 0

    @property
    def is_range(self) -> bool:
        """Whether the amount depends on the case (from min to max)."""
        return self.min_cents != self.max_cents


@dataclass(frozen=True)
class FeeVariant:
    """A different price under a condition, e.g. 'Unter 24 Jahren' -> 22,80 Euro."""

    condition: Text
    price: Price


@dataclass(frozen=True)
class Fee:
    """What a service costs: the usual price, variants, a period (per year) and a note."""

    price: Price
    variants: tuple[FeeVariant, ...] = ()
    period: Literal["year", "month"] | None = None
    note: Text | None = None


@dataclass(frozen=True)
class ProcessingTime:
    """How long a service takes: immediately, or about min..max units."""

    immediate: bool
    min: int = 0
    max: int = 0
    unit: Literal["days", "working_days", "weeks", "months"] = "days"
    note: Text | None = None


@dataclass(frozen=True)
class Form:
    """A form the caller can download."""

    name: Text
    url: str


@dataclass(frozen=True)
class Service:
    """A service of the Bürgertelefon; the English texts exist iff `name.en` is set."""

    id: str
    name: Text
    article: Article
    office: str
    synonyms: tuple[str, ...]
    summary: Text
    documents: tuple[Text, ...]
    fee: Fee
    processing_time: ProcessingTime | None
    notes: tuple[Text, ...]
    form: Form | None
    source: str

    @property
    def has_english(self) -> bool:
        """Whether the service (and its office) can be answered in English."""
        return self.name.en is not None


@dataclass(frozen=True)
class Catalogue:
    """All offices and services, cross-checked; look-ups never guess."""

    offices: Mapping[str, Office]
    services: Mapping[str, Service]
    index: SynonymIndex = field(repr=False)

    def service(self, service_id: str) -> Service:
        """The service with this id; KeyError names the known ids."""
        try:
            return self.services[service_id]
        except KeyError:
            known = ", ".join(sorted(self.services))
            raise KeyError(f"unknown service {service_id!r}; known: {known}") from None

    def office(self, office_id: str) -> Office:
        """The office with this id; KeyError names the known ids."""
        try:
            return self.offices[office_id]
        except KeyError:
            known = ", ".join(sorted(self.offices))
            raise KeyError(f"unknown office {office_id!r}; known: {known}") from None

    def office_of(self, service: Service | str) -> Office:
        """The office that provides a service (given as object or id)."""
        found = self.service(service) if isinstance(service, str) else service
        return self.offices[found.office]

    def matches(self, text: str) -> list[Match]:
        """All services whose synonyms occur in `text`, best first."""
        return rank(self.index, text)

    def find(self, text: str) -> Service | None:
        """The service a caller's words name, or None when none or two equally good match."""
        found = self.matches(text)
        if not found:
            return None
        if len(found) > 1 and found[1].score >= found[0].score:
            return None  # ambiguous: better to ask back than to answer the wrong topic
        return self.services[found[0].service_id]

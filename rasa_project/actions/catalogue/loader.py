"""Loading the catalogue directory: every *.yml file, validated and cross-checked.

Any error stops the load with a CatalogueError naming the file and the field, so a broken
entry stops the action server's start instead of producing a wrong answer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Literal, cast

from . import fields as f
from .hours import opening_hours
from .match import Synonym, words
from .model import (
    ARTICLES,
    Address,
    Article,
    Catalogue,
    CatalogueError,
    Fee,
    FeeVariant,
    Form,
    Office,
    Price,
    ProcessingTime,
    Service,
    Text,
)

ENV_DIR = "VOICEBOT_CATALOGUE_DIR"
_UNITS = ("days", "working_days", "weeks", "months")
_PERIODS = ("year", "month")
_Unit = Literal["days", "working_days", "weeks", "months"]


def default_directory() -> Path:
    """$VOICEBOT_CATALOGUE_DIR, else rasa_project/catalogue beside the actions package."""
    configured = os.environ.get(ENV_DIR, "").strip()
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "catalogue"


# --- one entry --------------------------------------------------------------------------


def _address(node: f.Node) -> Address:
    parts = f.fields(node, ("street", "postcode", "city"), ("note",))
    note = f.sentence(parts["note"]) if "note" in parts else None
    return Address(
        f.string(parts["street"]), f.postcode(parts["postcode"]), f.string(parts["city"]), note
    )


def _office(node: f.Node) -> Office:
    keys = ("id", "name", "article", "address", "opening_hours", "phone", "email", "transfer")
    parts = f.fields(node, keys)
    return Office(
        id=f.ident(parts["id"]),
        name=f.text(parts["name"]),
        article=cast("Article", f.choice(parts["article"], ARTICLES)),
        address=_address(parts["address"]),
        hours=opening_hours(parts["opening_hours"]),
        phone=f.phone(parts["phone"]),
        email=f.email(parts["email"]),
        transfer=f.transfer_target(parts["transfer"]),
        source=node.file,
    )


def _price(node: f.Node, parts: dict[str, f.Node]) -> Price:
    given = [key for key in ("free", "amount_cents", "min_cents") if key in parts]
    if "max_cents" in parts and "min_cents" not in parts:
        raise node.key("min_cents", None).error("missing required field (max_cents needs it)")
    if len(given) != 1:
        raise node.error(
            "expected exactly one of free: true, amount_cents, or min_cents with max_cents"
        )
    if "free" in parts:
        f.true_flag(parts["free"])
        return Price(0, 0)
    if "amount_cents" in parts:
        amount = f.cents(parts["amount_cents"])
        if amount == 0:
            raise parts["amount_cents"].error("0 cents: write free: true instead")
        return Price(amount, amount)
    if "max_cents" not in parts:
        raise node.key("max_cents", None).error("missing required field (min_cents needs it)")
    low, high = f.cents(parts["min_cents"]), f.cents(parts["max_cents"])
    if high <= low:
        raise parts["max_cents"].error(f"expected more than min_cents ({low}), got {high}")
    return Price(low, high)


_PRICE_KEYS = ("free", "amount_cents", "min_cents", "max_cents")


def _variant(node: f.Node) -> FeeVariant:
    parts = f.fields(node, ("when",), _PRICE_KEYS)
    return FeeVariant(f.text(parts["when"]), _price(node, parts))


def _fee(node: f.Node) -> Fee:
    parts = f.fields(node, (), (*_PRICE_KEYS, "variants", "period", "note"))
    variants = f.items(parts["variants"], _variant) if "variants" in parts else ()
    period = f.choice(parts["period"], _PERIODS) if "period" in parts else None
    note = f.sentence(parts["note"]) if "note" in parts else None
    return Fee(_price(node, parts), variants, cast("Literal['year', 'month'] | None", period), note)


def _processing_time(node: f.Node) -> ProcessingTime:
    parts = f.fields(node, (), ("immediate", "min", "max", "unit", "note"))
    note = f.sentence(parts["note"]) if "note" in parts else None
    if "immediate" in parts:
        f.true_flag(parts["immediate"])
        for key in ("min", "max", "unit"):
            if key in parts:
                raise parts[key].error("not allowed together with immediate: true")
        return ProcessingTime(True, note=note)
    for key in ("min", "unit"):
        if key not in parts:
            raise node.key(key, None).error("missing required field (or write immediate: true)")
    low = f.whole_number(parts["min"], "days, weeks or months", minimum=1)
    high = (
        f.whole_number(parts["max"], "days, weeks or months", minimum=1) if "max" in parts else low
    )
    if high < low:
        raise parts["max"].error(f"expected at least min ({low}), got {high}")
    unit = cast("_Unit", f.choice(parts["unit"], _UNITS))
    return ProcessingTime(False, low, high, unit, note)


def _form(node: f.Node) -> Form:
    parts = f.fields(node, ("name", "url"))
    return Form(f.text(parts["name"]), f.url(parts["url"]))


def _synonym(node: f.Node) -> str:
    value = f.string(node)
    if not words(value):
        raise node.error(f"{value!r} has no letters or digits to match")
    return value


def _service(node: f.Node) -> Service:
    required = ("id", "name", "article", "office", "synonyms", "summary", "documents", "fee")
    optional = ("processing_time", "notes", "form")
    parts = f.fields(node, required, optional)
    return Service(
        id=f.ident(parts["id"]),
        name=f.text(parts["name"]),
        article=cast("Article", f.choice(parts["article"], ARTICLES)),
        office=f.ident(parts["office"]),
        synonyms=f.items(parts["synonyms"], _synonym),
        summary=f.sentence(parts["summary"]),
        documents=f.items(parts["documents"], f.text, allow_empty=True),
        fee=_fee(parts["fee"]),
        processing_time=(
            _processing_time(parts["processing_time"]) if "processing_time" in parts else None
        ),
        notes=f.items(parts["notes"], f.sentence, allow_empty=True) if "notes" in parts else (),
        form=_form(parts["form"]) if "form" in parts else None,
        source=node.file,
    )


# --- English texts: a service with name.en must be answerable in English throughout -------


def _service_texts(service: Service) -> Iterator[tuple[str, Text]]:
    yield "summary", service.summary
    for i, document in enumerate(service.documents):
        yield f"documents[{i}]", document
    for i, variant in enumerate(service.fee.variants):
        yield f"fee.variants[{i}].when", variant.condition
    if service.fee.note:
        yield "fee.note", service.fee.note
    if service.processing_time and service.processing_time.note:
        yield "processing_time.note", service.processing_time.note
    for i, note in enumerate(service.notes):
        yield f"notes[{i}]", note
    # form.name may stay German: it is the name printed on the form


def _office_texts(office: Office) -> Iterator[tuple[str, Text]]:
    yield "name", office.name
    if office.address.note:
        yield "address.note", office.address.note
    if office.hours.note:
        yield "opening_hours.note", office.hours.note


# --- the whole directory ----------------------------------------------------------------


class _Builder:
    """Collects entries over all files and checks what spans files: ids, synonyms, offices."""

    def __init__(self) -> None:
        self.offices: dict[str, tuple[Office, f.Node]] = {}
        self.services: dict[str, tuple[Service, f.Node]] = {}
        self.synonyms: dict[str, tuple[str, f.Node]] = {}
        self.index: list[Synonym] = []

    def add_file(self, name: str, document: object) -> None:
        if document is None:
            raise CatalogueError(f"{name}: the file is empty; expected offices and/or services")
        root = f.Node(name, "", document)
        parts = f.fields(root, (), ("offices", "services"))
        if not parts:
            raise root.error("expected offices and/or services")
        if "offices" in parts:
            for i, office in enumerate(f.items(parts["offices"], _office)):
                self._add_office(office, parts["offices"].item(i, None))
        if "services" in parts:
            for i, service in enumerate(f.items(parts["services"], _service)):
                self._add_service(service, parts["services"].item(i, None))

    def _add_office(self, office: Office, node: f.Node) -> None:
        if office.id in self.offices:
            first = self.offices[office.id][1]
            raise node.key("id", None).error(
                f"office {office.id!r} is already defined in {first.file}: {first.path}"
            )
        self.offices[office.id] = (office, node)

    def _add_service(self, service: Service, node: f.Node) -> None:
        if service.id in self.services:
            first = self.services[service.id][1]
            raise node.key("id", None).error(
                f"service {service.id!r} is already defined in {first.file}: {first.path}"
            )
        self.services[service.id] = (service, node)
        phrases = [("name", service.name.de)]
        if service.name.en:
            phrases.append(("name.en", service.name.en))
        phrases += [(f"synonyms[{i}]", s) for i, s in enumerate(service.synonyms)]
        for path, phrase in phrases:
            where = node.key(path, phrase)
            key = "".join(words(phrase))
            if key in self.synonyms:
                other_id, other = self.synonyms[key]
                if other_id == service.id:
                    continue  # the same phrase twice for one service is harmless
                raise where.error(
                    f"{phrase!r} also names service {other_id!r} ({other.file}: {other.path}); "
                    "a phrase may name only one service"
                )
            self.synonyms[key] = (service.id, where)
            self.index.append(Synonym(service.id, phrase, words(phrase)))

    def check(self) -> None:
        """Office references and English texts, now that all files are read."""
        for service, node in self.services.values():
            if service.office not in self.offices:
                known = ", ".join(sorted(self.offices)) or "none"
                raise node.key("office", None).error(
                    f"unknown office {service.office!r}; known offices: {known}"
                )
            if not service.has_english:
                continue
            for path, text in _service_texts(service):
                if text.en is None:
                    raise node.key(path, None).error(
                        "no English text, but the service has an English name (name.en); "
                        "write it as {de: ..., en: ...}"
                    )
            office, office_node = self.offices[service.office]
            for path, text in _office_texts(office):
                if text.en is None:
                    raise office_node.key(path, None).error(
                        f"no English text, but service {service.id!r} ({service.source}) "
                        "is answered in English; write it as {de: ..., en: ...}"
                    )

    def build(self) -> Catalogue:
        return Catalogue(
            offices=MappingProxyType({k: v[0] for k, v in self.offices.items()}),
            services=MappingProxyType({k: v[0] for k, v in self.services.items()}),
            index=tuple(self.index),
        )


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Read and validate every *.yml/*.yaml file in `directory` (default: default_directory()).

    Blocking file I/O: call it once at start-up, not inside a request on an event loop."""
    root = default_directory() if directory is None else Path(directory)
    if not root.is_dir():
        raise CatalogueError(
            f"{root}: the catalogue directory does not exist; set {ENV_DIR} to the folder "
            "with the catalogue's *.yml files"
        )
    files = sorted(p for p in root.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    if not files:
        raise CatalogueError(f"{root}: no *.yml files in the catalogue directory")
    builder = _Builder()
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogueError(f"{path.name}: cannot read the file: {exc}") from None
        builder.add_file(path.name, f.parse_yaml(path.name, source))
    builder.check()
    return builder.build()

"""The form delivery's words: which way the caller wants the form, which service's form is
meant, and the link read out or sent by e-mail (form_delivery.py has the actions)."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker

from .catalogue import Office, Service, say_opening_hours
from .catalogue.spoken import web_host
from .normalise import heard_email, spell
from .requests_client import EmailDraft
from .services import catalogue, service_from_entities

EMAIL, READ_OUT = "email", "read_out"
_EMAIL_WORDS = re.compile(r"e[ -]?mail|email|imail|imehl|mailen|mail\b|elektronisch")
_READ_OUT_WORDS = re.compile(
    r"vorlesen|vor lesen|lesen sie|sagen sie|vorgelesen|den link|link\b|diktieren|aufschreiben|"
    r"notieren|am telefon|mitschreiben"
)
_URL_SYMBOL_WORDS = {"/": "Schrägstrich", ".": "Punkt", "-": "Bindestrich", "_": "Unterstrich"}


def delivery_of(text: str) -> str | None:
    """'email', 'read_out', or None from "per E-Mail bitte", "lesen Sie mir den Link vor".
    An e-mail address in the words means e-mail."""
    said = text.lower()
    if _EMAIL_WORDS.search(said) or heard_email(text):
        return EMAIL
    if _READ_OUT_WORDS.search(said):
        return READ_OUT
    return None


def form_service(value: Any, tracker: Tracker | None = None) -> Service | None:
    """The service meant by a slot value (service id or the caller's words) or the latest
    message's entities."""
    where = catalogue()
    if isinstance(value, str) and value in where.services:
        return where.services[value]
    if tracker is not None:
        found = service_from_entities(tracker.get_latest_entity_values("service"))
        if found is not None:
            return found
    return where.find(str(value or ""))


def forms_of_office(office: Office) -> list[str]:
    """The titles of the forms the catalogue has for an office, each once, in file order."""
    titles: list[str] = []
    for service in catalogue().services.values():
        if service.office == office.id and service.form and service.form.name.de not in titles:
            titles.append(service.form.name.de)
    return titles


def join_de(parts: list[str]) -> str:
    """'a', 'a und b', 'a, b und c'."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} und {parts[-1]}"


def spoken_link(url: str) -> str:
    """'https://www.leverkusen.de/formulare/wohngeld-antrag.pdf' -> 'leverkusen punkt de,
    Schrägstrich, formulare, Schrägstrich, wohngeld Bindestrich antrag Punkt P D F'."""
    host = web_host(url, "de")
    path = re.sub(r"^[a-z]+://[^/]*", "", url).strip("/")
    if not path:
        return host
    words: list[str] = [host]
    for segment in path.split("/"):
        pieces = re.findall(r"[A-Za-z0-9]+|[^A-Za-z0-9]", segment)
        spoken = []
        for piece in pieces:
            if piece in _URL_SYMBOL_WORDS:
                spoken.append(_URL_SYMBOL_WORDS[piece])
            elif piece.lower() in ("pdf", "html", "htm", "docx", "doc"):
                spoken.append(spell(piece))
            else:
                spoken.append(piece)
        words += ["Schrägstrich", " ".join(spoken)]
    return ", ".join(words)


def say_link(service: Service) -> str:
    """The form's title and its web address, read out for the TTS."""
    assert service.form is not None
    title = service.form.name.de
    host = web_host(service.form.url, "de")
    return (
        f"Das Formular „{title}“ finden Sie im Internet unter: {spoken_link(service.form.url)}. "
        f"Sie finden es auch, wenn Sie auf {host} nach „{title}“ suchen."
    )


def email_draft(address: str, service: Service) -> EmailDraft:
    """The plain-text e-mail with the form's link and the office's address and hours."""
    assert service.form is not None
    form = service.form
    office = catalogue().office_of(service)
    where = office.address
    body = "\n".join(
        [
            "Guten Tag,",
            "",
            "Sie haben beim Bürgertelefon der Stadt Leverkusen dieses Formular angefordert:",
            "",
            f"{form.name.de}",
            f"{form.url}",
            "",
            f"Zuständig ist: {office.name.de}",
            f"Adresse: {where.street}, {where.postcode} {where.city}"
            + (f" ({where.note.de})" if where.note else ""),
            f"Öffnungszeiten: {say_opening_hours(office, 'de')}",
            f"Telefon: {office.phone}",
            "",
            "Diese E-Mail wurde auf Ihren Wunsch vom Bürgertelefon der Stadt Leverkusen "
            "verschickt. Sie wurde automatisch erstellt. Bei Fragen rufen Sie uns bitte an.",
            "",
            "Mit freundlichen Grüßen",
            "Ihre Stadtverwaltung Leverkusen",
        ]
    )
    return EmailDraft(address, f"Ihr Formular: {form.name.de}", body)

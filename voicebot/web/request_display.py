"""How the agent console shows a stored request: German labels for the collected fields and
the e-mail states, and the collected data as label/value rows instead of raw JSON.

Everything here returns plain text; the templates escape it (autoescape), so caller-provided
values can never become markup.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from voicebot.store.requests import KIND_LABELS

# Field names the actions use (and likely variants); an unknown name is shown as it is.
FIELD_LABELS = {
    "name": "Name",
    "full_name": "Name",
    "first_name": "Vorname",
    "last_name": "Nachname",
    "salutation": "Anrede",
    "street": "Straße",
    "house_number": "Hausnummer",
    "address": "Adresse",
    "postcode": "Postleitzahl",
    "postal_code": "Postleitzahl",
    "zip": "Postleitzahl",
    "city": "Ort",
    "district": "Stadtteil",
    "phone": "Telefonnummer",
    "phone_number": "Telefonnummer",
    "callback_number": "Rückrufnummer",
    "email": "E-Mail-Adresse",
    "email_address": "E-Mail-Adresse",
    "items": "Gegenstände",
    "item_count": "Anzahl der Gegenstände",
    "volume": "Menge",
    "volume_m3": "Menge (m³)",
    "pickup_date": "Abholtermin",
    "date": "Datum",
    "preferred_date": "Wunschtermin",
    "preferred_time": "Wunschzeit",
    "preferred_days": "Wunschtage",
    "time": "Uhrzeit",
    "time_of_day": "Tageszeit",
    "service": "Dienstleistung",
    "topic": "Thema",
    "concern": "Anliegen",
    "office": "Dienststelle",
    "department": "Dienststelle",
    "location": "Standort",
    "form": "Formular",
    "form_name": "Formular",
    "form_id": "Formular-Nr.",
    "form_url": "Link zum Formular",
    "delivery": "Zustellweg",
    "delivery_channel": "Zustellweg",
    "postal_address": "Postanschrift",
    "eligible": "Vorprüfung bestanden",
    "precheck": "Vorprüfung",
    "excluded_items": "Nicht zugelassene Gegenstände",
    "consent": "Einwilligung",
    "notes": "Hinweise",
    "note": "Hinweis",
    "remarks": "Bemerkungen",
    "language": "Sprache",
    "reason": "Grund",
    "persons": "Anzahl Personen",
}
VALUE_LABELS = {"email": "E-Mail", "post": "Post", "mail": "Post", "sms": "SMS"}
MAIL_STATE_LABELS = {
    "pending": "wird versandt",
    "sent": "versandt",
    "failed": "fehlgeschlagen",
    "not_configured": "nicht versandt: kein Mailserver eingerichtet",
}
REQUEST_STATUS_LABELS = {"open": "offen", "done": "erledigt"}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
SEPARATOR = " › "


def kind_label(kind: str) -> str:
    """Terminanfrage, Sperrmüll-Anmeldung (Vorprüfung), Formularversand."""
    return KIND_LABELS.get(kind, kind)


def field_label(name: str) -> str:
    """The German label of a collected field, or its name."""
    return FIELD_LABELS.get(name, name)


def mail_state_label(state: str) -> str:
    """An outbox state in German words."""
    return MAIL_STATE_LABELS.get(state, state)


def request_status_label(status: str) -> str:
    """offen / erledigt."""
    return REQUEST_STATUS_LABELS.get(status, status)


def readable_value(value: Any) -> str:
    """One scalar (or list of scalars) as an agent reads it: Ja/Nein, 01.12.2026, a, b."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "Ja" if value else "Nein"
    if isinstance(value, str):
        if ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value).strftime("%d.%m.%Y")
            except ValueError:
                return value
        return VALUE_LABELS.get(value, value)
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if isinstance(value, list):
        return ", ".join(readable_value(v) for v in value) or "–"
    return str(value)


def readable_fields(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The collected data as (label, text) rows; nested objects become "Label › Sublabel"."""
    rows: list[tuple[str, str]] = []
    for name, value in data.items():
        label = prefix + field_label(str(name))
        if isinstance(value, dict):
            rows.extend(readable_fields(value, label + SEPARATOR) or [(label, "–")])
        elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
            for number, item in enumerate(value, 1):
                if isinstance(item, dict):
                    rows.extend(readable_fields(item, f"{label} {number}{SEPARATOR}"))
                else:
                    rows.append((f"{label} {number}", readable_value(item)))
        else:
            rows.append((label, readable_value(value)))
    return rows

"""How a handoff record (`voicebot.store.handoffs.Handoff`) is derived from the call record
and the Rasa tracker, and its labels for agents.

The summary is a one-liner an agent can read in two seconds: the intent (as a German label)
and the caller's own words of the last utterance that carried the request, then what made the
bot hand over. No language model: it is derived from the transcript and the intents.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from voicebot.store.calls import TurnRecord
from voicebot.store.handoffs import Handoff

INTENT_LABELS = {
    "ask_opening_hours": "Öffnungszeiten",
    "request_human": "Wunsch nach einer Mitarbeiterin oder einem Mitarbeiter",
    "dtmf": "Tastenwahl",
    "out_of_scope": "Thema, zu dem der Bot keine Auskunft gibt",
    "nlu_fallback": "nicht verstanden",
    "acoustic_miss": "akustisch nicht verstanden",
    "bot_challenge": "Frage, ob ein Mensch spricht",
    "greet": "Begrüßung",
    "goodbye": "Verabschiedung",
    "affirm": "Zustimmung",
    "deny": "Ablehnung",
    "ask_service": "Frage zu einer Dienstleistung",
    "ask_documents": "Benötigte Unterlagen",
    "ask_fee": "Gebühren",
    "ask_processing_time": "Bearbeitungsdauer",
    "ask_address": "Adresse und Anfahrt",
    "ask_phone": "Telefonnummer einer Dienststelle",
    "ask_form": "Formular",
    "report_lost": "Verlust oder Diebstahl eines Dokuments",
    "inform_service": "Dienstleistung genannt",
    "repeat": "Bitte um Wiederholung",
    "speak_slower": "Bitte, langsamer zu sprechen",
    "cancel": "Abbruch eines Antrags",
    "request_appointment": "Terminanfrage",
    "request_sperrmuell": "Sperrmüll-Anmeldung",
    "request_form": "Formular zusenden lassen",
    "frustrated": "Anrufer ist verärgert",
    "switch_language": "Wechsel der Sprache",
    "inform_email": "E-Mail-Adresse genannt",
    "inform": "Angabe für eine Anfrage (Tag, Uhrzeit, Name)",
    "returning_caller": "Frage nach einer früheren Anfrage (Vorgangsnummer)",
    "inform_case_reference": "Aktenzeichen oder Kassenzeichen genannt",
}
# Intents that say how the caller wants to be helped, not what about.
NOT_A_TOPIC = {
    "request_human",
    "cancel",
    "dtmf",
    "affirm",
    "deny",
    "greet",
    "goodbye",
    "bot_challenge",
    "call_start",
    "silence_or_noise",
    "nlu_fallback",
    "acoustic_miss",
    "repeat",
    "speak_slower",
    "frustrated",
    "switch_language",
    "inform_email",
    "inform",
}
REASON_LABELS = {
    "caller_request": "Anrufer möchte eine Person sprechen",
    "not_understood": "Bot hat das Anliegen nicht verstanden",
    "frustrated": "Anrufer ist verärgert",
    "dialogue_failed": "Technische Störung: Dialogsystem",
    "asr_failed": "Technische Störung: Spracherkennung",
    "tts_failed": "Technische Störung: Sprachausgabe",
    "request_not_saved": "Anliegen konnte nicht gespeichert werden (Angaben in den Slots)",
}
MAX_QUOTE = 140


def handoff_to_json(handoff: Handoff) -> dict[str, Any]:
    """The API and webhook representation of a handoff."""
    data = asdict(handoff)
    data["reason_label"] = reason_label(handoff.reason)
    return data


def handoff_brief(handoff: Handoff) -> dict[str, Any]:
    """A handoff without its transcript and slots, for lists and the live queue."""
    data = handoff_to_json(handoff)
    del data["transcript"], data["slots"]
    return data


def intent_label(intent: str | None) -> str:
    """A German label for an intent (the intent name when there is none)."""
    if not intent:
        return "unbekannt"
    return INTENT_LABELS.get(intent, intent)


def reason_label(reason: str) -> str:
    """A German label for a handoff reason."""
    if reason in REASON_LABELS:
        return REASON_LABELS[reason]
    if reason.endswith("_failed"):
        return f"Technische Störung: {reason.removesuffix('_failed')}"
    return reason


def transcript_of(turns: list[TurnRecord]) -> list[dict[str, Any]]:
    """The turns an agent needs: who, when, what, how sure."""
    return [
        {
            "seq": t.seq,
            "speaker": t.speaker,
            "text": t.text,
            "at": t.started_at or t.ended_at,
            "asr_confidence": t.asr_confidence,
            "intent": t.intent,
            "intent_confidence": t.intent_confidence,
            "dtmf": t.dtmf,
            "complete": t.complete,
        }
        for t in turns
        if t.text
    ]


def _quote(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_QUOTE:
        text = text[: MAX_QUOTE - 1].rstrip() + "…"
    return f"„{text}“"


def summarise(transcript: list[dict[str, Any]], reason: str) -> tuple[str, str]:
    """(topic, one-line summary) from the caller's last utterances and their intents."""
    said = [t for t in transcript if t["speaker"] == "caller" and t["text"] and not t["dtmf"]]
    caller = [t for t in transcript if t["speaker"] == "caller" and t["text"]]
    topical = [t for t in said if t["intent"] and t["intent"] not in NOT_A_TOPIC]
    if topical:
        main = topical[-1]
        topic = intent_label(main["intent"])
    elif said:
        main = said[-1]
        topic = intent_label(main["intent"]) if main["intent"] else "Anliegen nicht zugeordnet"
    else:
        topic = "Kein Anliegen genannt"
        last = caller[-1] if caller else None
        how = f" – {intent_label(last['intent'])} ({last['text']})" if last else ""
        return topic, f"{topic}{how}; Übergabe: {reason_label(reason)}"
    summary = f"{topic}: {_quote(main['text'])}"
    later = [t for t in caller if t["seq"] > main["seq"]]
    if later:
        last = later[-1]
        how = last["text"] if last["dtmf"] else _quote(last["text"])
        summary += f" – danach {intent_label(last['intent'])}: {how}"
    return topic, summary

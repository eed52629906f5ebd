"""What the bot understood badly: caller turns for the trainer's review, masked and grouped.

A caller turn (spoken, not a key press) of a call in the last `days` is a candidate for one or
more reasons:
- `fallback`: Rasa classified it as `nlu_fallback` (below the FallbackClassifier threshold);
- `clarification`: the bot's next turn asked back ("Meinen Sie ... oder ...?", "noch einmal");
- `low_intent`: an intent below `low_intent` confidence;
- `low_asr`: the recogniser was unsure (ASR confidence below `low_asr`);
- `handoff_not_understood`: a turn of a call handed over because the bot did not understand.
Turns a trainer has reviewed are left out. Groups are keyed by the intent Rasa guessed (the
turn's recorded intent; for nlu_fallback the best other intent of Rasa's ranking when
`guess.py` could ask Rasa), the largest first. Runs on the database's worker thread (`Conn`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from voicebot.store.calls import iso
from voicebot.store.db import Conn
from voicebot.training.masking import Known, mask_text

REASONS = {
    "fallback": "nicht verstanden (nlu_fallback)",
    "clarification": "Rückfrage des Bots",
    "low_intent": "niedrige Intent-Konfidenz",
    "low_asr": "schlecht erkannt (ASR)",
    "handoff_not_understood": "Übergabe: nicht verstanden",
}
# how the bot's next turn asks back (utter_clarify, utter_ask_rephrase; German and English)
CLARIFYING = ("meinen sie", "nicht verstanden", "noch einmal", "do you mean", "did not understand")
FALLBACK = "nlu_fallback"
MAX_TURNS = 20_000  # turns read per page view (the newest calls first)


@dataclass
class Candidate:
    """One caller turn to review: masked text, what Rasa guessed, why it is listed."""

    call_id: str
    seq: int
    started_at: str
    text: str  # masked
    intent: str  # Rasa's guess ("nlu_fallback" or an intent), "" when none was recorded
    confidence: float | None
    asr_confidence: float | None
    reasons: list[str] = field(default_factory=list)
    guess: str | None = None  # for nlu_fallback: the best other intent Rasa ranks (guess.py)
    guess_confidence: float | None = None

    @property
    def group(self) -> str:
        """The intent Rasa guessed: its guess behind nlu_fallback if there is one."""
        return self.guess or self.intent

    @property
    def key(self) -> str:
        """`call_id:seq`, the form value that names the turn."""
        return f"{self.call_id}:{self.seq}"


@dataclass(frozen=True)
class Thresholds:
    """Below these confidences a turn is listed."""

    low_intent: float = 0.7
    low_asr: float = 0.5


def _known(conn: Conn, call_ids: list[str]) -> dict[str, Known]:
    """Names and addresses the calls' requests and handoffs recorded, per call."""
    known: dict[str, Known] = {}
    for start in range(0, len(call_ids), 500):
        chunk = call_ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for table, column in (("requests", "data"), ("handoffs", "slots")):
            for row in conn.query(
                f"SELECT call_id, {column} AS data FROM {table} WHERE call_id IN ({marks})",
                tuple(chunk),
            ):
                try:
                    data = json.loads(row["data"] or "{}")
                except ValueError:
                    continue
                known.setdefault(row["call_id"], Known()).add(data)
    return known


def _reasons(turn: dict[str, Any], following: dict[str, Any] | None, th: Thresholds) -> list[str]:
    reasons = []
    intent, confidence = turn["intent"], turn["intent_confidence"]
    if intent == FALLBACK:
        reasons.append("fallback")
    if following is not None and following["speaker"] == "bot":
        said = (following["text"] or "").lower()
        if any(phrase in said for phrase in CLARIFYING):
            reasons.append("clarification")
    if intent and intent != FALLBACK and confidence is not None and confidence < th.low_intent:
        reasons.append("low_intent")
    if turn["asr_confidence"] is not None and turn["asr_confidence"] < th.low_asr:
        reasons.append("low_asr")
    if turn["handoff_reason"] == "not_understood" and (intent == FALLBACK or reasons):
        reasons.append("handoff_not_understood")
    return reasons


def find_candidates(
    conn: Conn,
    now: datetime,
    days: int = 30,
    thresholds: Thresholds = Thresholds(),
    call_id: str | None = None,
) -> list[Candidate]:
    """The unreviewed candidates of the calls that started in the last `days` (or of one
    call), newest first."""
    since = iso(now - timedelta(days=days))
    where, params = ("c.call_id = ?", (call_id,)) if call_id else ("c.started_at >= ?", (since,))
    rows = conn.query(
        "SELECT t.call_id, t.seq, t.speaker, t.text, t.intent, t.intent_confidence, "
        "t.asr_confidence, t.dtmf, c.started_at, c.handoff_reason FROM turns t "
        f"JOIN calls c ON c.call_id = t.call_id WHERE {where} "
        "ORDER BY c.started_at DESC, t.call_id, t.seq LIMIT ?",
        (*params, MAX_TURNS),
    )
    reviewed = {
        (r["call_id"], int(r["seq"]))
        for r in conn.query("SELECT call_id, seq FROM training_reviews")
    }
    found: list[Candidate] = []
    for i, turn in enumerate(rows):
        if turn["speaker"] != "caller" or turn["dtmf"] or not (turn["text"] or "").strip():
            continue
        if (turn["call_id"], int(turn["seq"])) in reviewed:
            continue
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        following = nxt if nxt is not None and nxt["call_id"] == turn["call_id"] else None
        reasons = _reasons(turn, following, thresholds)
        if reasons:
            found.append(
                Candidate(
                    turn["call_id"],
                    int(turn["seq"]),
                    turn["started_at"],
                    turn["text"],
                    turn["intent"] or "",
                    turn["intent_confidence"],
                    turn["asr_confidence"],
                    reasons,
                )
            )
    known = _known(conn, sorted({c.call_id for c in found}))
    for candidate in found:
        candidate.text = mask_text(candidate.text, known.get(candidate.call_id))
    return found


def grouped(candidates: list[Candidate]) -> list[tuple[str, list[Candidate]]]:
    """Candidates by the intent Rasa guessed, the largest group first."""
    groups: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        groups.setdefault(candidate.group, []).append(candidate)
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))


def candidate(
    conn: Conn, now: datetime, call_id: str, seq: int, thresholds: Thresholds = Thresholds()
) -> Candidate | None:
    """One unreviewed candidate by its turn, or None (not a candidate, gone, or reviewed)."""
    for found in find_candidates(conn, now, thresholds=thresholds, call_id=call_id):
        if found.call_id == call_id and found.seq == seq:
            return found
    return None

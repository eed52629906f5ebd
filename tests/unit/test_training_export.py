"""The trainer's workbench below the web layer: which turns are listed and why, masking, the
review, and the NLU YAML export (on SQLite and PostgreSQL). That Rasa accepts the export is
checked with `rasa data validate` in tests/integration/test_training_export.py."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from tests.support import free_port
from tests.unit.training_history import EXPECTED, SECRETS, store_training_calls, texts
from voicebot.cli import main
from voicebot.config import RasaSettings
from voicebot.store.db import Database
from voicebot.training import candidates, reviews
from voicebot.training.export import example_text, nlu_yaml
from voicebot.training.guess import Guesser, best_guess
from voicebot.training.masking import Known, mask_text

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("said", "gone", "placeholder"),
    [
        ("Meine Nummer ist 0214 3065512", "3065512", "[Telefon]"),
        ("Die Nummer ist null zwei eins vier drei null", "null zwei", "[Nummer]"),
        ("erika.muster@web.de bitte", "muster", "[E-Mail]"),
        ("an erika punkt muster at web punkt de", "muster", "[E-Mail]"),
        ("Mein Name ist Erika Mustermann", "Mustermann", "[Name]"),
        ("ich heiße schmidt und wohne hier", "schmidt", "[Name]"),
        ("Frau Schmidt sagte das", "Schmidt", "[Name]"),
        ("geboren am 12.03.1980", "1980", "[Datum]"),
        ("DE89 3704 0044 0532 0130 00 ist meine IBAN", "3704", "[IBAN]"),
    ],
)
def test_masking_removes_personal_data(said: str, gone: str, placeholder: str) -> None:
    masked = mask_text(said)
    assert gone not in masked and placeholder in masked


def test_masking_keeps_ordinary_words_and_known_names() -> None:
    assert mask_text("Hier ist das Bürgerbüro? Was kostet ein Reisepass") == (
        "Hier ist das Bürgerbüro? Was kostet ein Reisepass"
    )
    known = Known(names=["Jana Beispiel"], addresses=["Beispielweg 3"])
    assert mask_text("Termin für Jana Beispiel, Beispielweg 3", known) == (
        "Termin für [Name], [Adresse]"
    )
    assert mask_text(mask_text("Mein Name ist Erika Mustermann")) == "Mein Name ist [Name]"


def test_export_text_has_no_rasa_markup() -> None:
    assert example_text("Nummer [Telefon] (bitte) {x}") == "Nummer <Telefon> bitte x"


def test_candidates_review_and_export(database_target: str | Path, tmp_path: Path) -> None:
    async def scenario() -> tuple[list[candidates.Candidate], list[reviews.Review], str]:
        db = Database(database_target)
        await db.open()
        try:
            await store_training_calls(db, NOW)
            found = await db.run(functools.partial(candidates.find_candidates, now=NOW))
            for call_id, seq, intent in (
                ("twilio-fallback", 1, "ask_service"),
                ("twilio-low-intent", 1, "ask_fee"),
                ("twilio-named", 0, "request_appointment"),
                ("twilio-low-asr", 0, None),  # discarded
            ):
                c = next(x for x in found if (x.call_id, x.seq) == (call_id, seq))
                review = reviews.Review(call_id, seq, c.text, c.intent, intent, "tina", "t")
                assert await db.run(functools.partial(reviews.save, review=review))
                again = await db.run(functools.partial(reviews.save, review=review))
                assert not again, "the first decision stays"
            left = await db.run(functools.partial(candidates.find_candidates, now=NOW))
            assigned = await db.run(reviews.assigned)
            return found, assigned, "|".join(f"{c.call_id}:{c.seq}" for c in left)
        finally:
            await db.close()

    found, assigned, left = asyncio.run(scenario())
    assert {(c.call_id, c.seq): c.reasons for c in found} == EXPECTED
    groups = dict(candidates.grouped(found))
    assert len(groups["nlu_fallback"]) == 2 and len(groups["ask_fee"]) == 1
    assert not any(s in texts(found) for s in SECRETS), texts(found)
    assert left == "twilio-fallback:3", "reviewed turns leave the list"

    assert [r.intent for r in assigned] == ["ask_fee", "ask_service", "request_appointment"]
    exported = nlu_yaml(assigned)
    data = yaml.safe_load(exported)
    assert data["version"] == "3.1"
    examples = {
        item["intent"]: [line[2:] for line in item["examples"].splitlines()] for item in data["nlu"]
    }
    assert examples["ask_fee"] == ["Ich will meinen Perso verlängern, Nummer <Telefon>"]
    assert examples["ask_service"] == ["Wo melde ich mein Moped ab, ich heiße <Name>"]
    assert examples["request_appointment"] == ["Termin für <Name> am <Adresse>"]
    assert not any(s in exported for s in SECRETS), exported


def test_cli_writes_the_reviewed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "voicebot.db"

    async def prepare() -> None:
        db = Database(target)
        await db.open()
        try:
            await store_training_calls(db, NOW)
            review = reviews.Review(
                "twilio-low-intent", 1, "Perso verlängern, Nummer [Telefon]", "ask_fee",
                "ask_fee", "tina", "t",
            )  # fmt: skip
            await db.run(functools.partial(reviews.save, review=review))
        finally:
            await db.close()

    asyncio.run(prepare())
    out = tmp_path / "nlu_review.yml"
    assert main(["trainer", "export", "--database", str(target), "--out", str(out)]) == 0
    assert "1 reviewed utterance(s) for 1 intent(s)" in capsys.readouterr().out
    data = yaml.safe_load(out.read_text())
    assert data["nlu"][0]["intent"] == "ask_fee"
    assert "<Telefon>" in data["nlu"][0]["examples"]
    assert main(["trainer", "export", "--database", str(tmp_path / "none.db")]) == 1


def test_the_guess_is_the_best_intent_besides_the_fallback() -> None:
    parsed = {
        "intent": {"name": "nlu_fallback", "confidence": 0.3},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.3},
            {"name": "ask_service", "confidence": 0.28},
            {"name": "ask_fee", "confidence": 0.2},
        ],
    }
    assert best_guess(parsed) == ("ask_service", 0.28)
    assert best_guess({"intent_ranking": [{"name": "nlu_fallback", "confidence": 1}]}) is None
    assert best_guess("junk") is None and best_guess({"intent_ranking": [{"x": 1}]}) is None


def test_no_rasa_means_no_guesses() -> None:
    guesser = Guesser(RasaSettings(url=f"http://127.0.0.1:{free_port()}"))
    assert asyncio.run(guesser.guesses({"a:1": "Moped abmelden"})) == {}

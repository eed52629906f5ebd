"""The trainer export is Rasa training data: low-confidence calls in, YAML out, and
`rasa data validate --fail-on-warnings` accepts the file beside the project's own data, with
the personal data of the calls gone. The running Rasa guesses an intent behind nlu_fallback
turns for the workbench's groups."""

from __future__ import annotations

import asyncio
import functools
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.support import ROOT, Stack
from tests.unit.training_history import SECRETS, store_training_calls
from voicebot.config import RasaSettings
from voicebot.rasa_train import rasa_env, rasa_executable
from voicebot.store.db import Database
from voicebot.training import candidates, reviews
from voicebot.training.export import nlu_yaml
from voicebot.training.guess import Guesser

pytestmark = pytest.mark.integration
PROJECT = ROOT / "rasa_project"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
# what a trainer decides for the listed turns (None: discarded)
DECISIONS = {
    ("twilio-low-intent", 1): "ask_fee",
    ("twilio-fallback", 1): "ask_service",
    ("twilio-fallback", 3): "inform_email",
    ("twilio-named", 0): "request_appointment",
    ("twilio-low-asr", 0): None,
}


def exported(target: Path) -> str:
    async def scenario() -> str:
        db = Database(target)
        await db.open()
        try:
            await store_training_calls(db, NOW)
            found = await db.run(functools.partial(candidates.find_candidates, now=NOW))
            for c in found:
                intent = DECISIONS[c.call_id, c.seq]
                review = reviews.Review(c.call_id, c.seq, c.text, c.intent, intent, "tina", "t")
                await db.run(functools.partial(reviews.save, review=review))
            return nlu_yaml(await db.run(reviews.assigned))
        finally:
            await db.close()

    return asyncio.run(scenario())


def test_the_export_validates_with_rasa(tmp_path: Path) -> None:
    text = exported(tmp_path / "voicebot.db")
    assert not any(secret in text for secret in SECRETS), text
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT / "config.yml", project / "config.yml")
    shutil.copytree(PROJECT / "domain", project / "domain")
    shutil.copytree(PROJECT / "data", project / "data")
    (project / "data" / "nlu" / "trainer_review.yml").write_text(text, encoding="utf-8")
    exe = str(rasa_executable(RasaSettings(venv=ROOT / ".venv-rasa")))
    result = subprocess.run(
        [exe, "data", "validate", "--domain", "domain", "--data", "data", "--fail-on-warnings"],
        cwd=project,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_rasa_guesses_behind_the_fallback(stack: Stack) -> None:
    rasa = RasaSettings(url=stack.env["VOICEBOT_RASA_URL"], token=stack.env["VOICEBOT_RASA_TOKEN"])
    turns = {"a:1": "Wo melde ich mein Moped ab", "b:3": "Was kostet ein Reisepass"}
    guesses = asyncio.run(Guesser(rasa).guesses(turns))
    intents = reviews.project_intents(PROJECT)
    assert set(guesses) == set(turns)
    assert all(intent in intents and 0 < p <= 1 for intent, p in guesses.values()), guesses
    wrong = RasaSettings(url=stack.env["VOICEBOT_RASA_URL"], token="not-the-token")
    assert asyncio.run(Guesser(wrong).guesses(turns)) == {}, "no token, no guesses"

"""The Rasa project itself: its data validates and its test stories pass (NLU included)."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.support import ROOT
from voicebot.config import RasaSettings
from voicebot.rasa_train import model_path, rasa_env, rasa_executable

pytestmark = pytest.mark.integration
PROJECT = ROOT / "rasa_project"


def rasa(*args: str) -> subprocess.CompletedProcess[str]:
    exe = str(rasa_executable(RasaSettings(venv=ROOT / ".venv-rasa")))
    return subprocess.run(
        [exe, *args], cwd=PROJECT, env=rasa_env(), capture_output=True, text=True, timeout=600
    )


def responses_spoken_by_actions() -> set[str]:
    """Responses that custom actions or forms say (Rasa's validator only sees stories/rules):
    `response="utter_…"` in actions/*.py, and the questions of the forms' slots."""
    spoken = set()
    for source in (PROJECT / "actions").rglob("*.py"):
        spoken |= set(re.findall(r'"(utter_[a-z0-9_]+)"', source.read_text()))
    for domain_file in (PROJECT / "domain").glob("*.yml"):
        forms = (yaml.safe_load(domain_file.read_text()) or {}).get("forms") or {}
        for form in forms.values():
            spoken |= {f"utter_ask_{slot}" for slot in form.get("required_slots", [])}
    return spoken


def test_training_data_validates_without_warnings() -> None:
    result = rasa("data", "validate", "--domain", "domain", "--fail-on-warnings")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    # Rasa 3.6 exits 0 on some warnings despite --fail-on-warnings: look for them too. The one
    # allowed: "not used in any story or rule" for a response that an action or form says.
    allowed = responses_spoken_by_actions()
    warnings = [line for line in output.splitlines() if "UserWarning" in line]
    unexpected = [
        line
        for line in warnings
        if not (m := re.search(r"The utterance '(\w+)' is not used", line)) or m[1] not in allowed
    ]
    assert not unexpected, "\n".join(unexpected)


def test_end_to_end_stories_pass(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = model_path(RasaSettings(project_dir=PROJECT))
    result = rasa(
        "test",
        "core",
        "--e2e",
        "--stories",
        "tests/",
        "--fail-on-prediction-errors",
        "-m",
        str(model),
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]

"""The Rasa project itself: its data validates and its test stories pass (NLU included)."""

from __future__ import annotations

import subprocess

import pytest

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


def test_training_data_validates_without_warnings() -> None:
    result = rasa("data", "validate", "--domain", "domain", "--fail-on-warnings")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    # Rasa 3.6 exits 0 on some warnings despite --fail-on-warnings: look for them too
    assert "UserWarning" not in output, output[-3000:]


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

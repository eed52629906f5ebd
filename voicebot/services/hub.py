"""Downloads models from the public hub into the voicebot cache (only on `voicebot models fetch`).

Whisper names map to `{hub}/{whisper_repo_template}/resolve/main/{file}` (faster-whisper's
CTranslate2 conversions); Piper voices to the rhasspy/piper-voices layout
`{hub}/{repo}/resolve/main/{lang}/{lang_REGION}/{name}/{quality}/{voice}.onnx[.json]`.
Every file streams into a temp file in the target directory; all files of a model are
validated (and checked against the hub's sha256 when it publishes one) before they are renamed
into place, so a failed download leaves no partial files behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from voicebot.config import Settings
from voicebot.errors import ModelError
from voicebot.services.model_assembly import (
    CHUNK,
    FILE_MODE,
    STAMP_NAME,
    Progress,
    load_json,
    write_stamp,
)

# Names whose CTranslate2 conversion lives at whisper_repo_template (Systran/faster-whisper-*).
WHISPER_NAMES = (
    "tiny",
    "tiny.en",
    "base",
    "base.en",
    "small",
    "small.en",
    "medium",
    "medium.en",
    "large-v1",
    "large-v2",
    "large-v3",
    "large-v3-turbo",
)
WHISPER_ALIASES = {"large": "large-v3", "turbo": "large-v3-turbo"}
# Names whose conversion is published elsewhere (as in faster-whisper's own table); used while
# whisper_repo_template is the default
WHISPER_REPOS = {"large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo"}
DEFAULT_WHISPER_TEMPLATE = "Systran/faster-whisper-{name}"
PIPER_VOICE = re.compile(
    r"^(?P<lang>[a-z]{2,3})_(?P<region>[A-Z]{2})-(?P<name>[A-Za-z0-9_]+)"
    r"-(?P<quality>x_low|low|medium|high)$"
)
ACCEPTED_FORMS = (
    f"a Whisper name ({', '.join(WHISPER_NAMES)}, large; also written whisper-small) "
    "or a Piper voice LANG_REGION-NAME-QUALITY with QUALITY x_low|low|medium|high "
    "(e.g. de_DE-thorsten-medium)"
)
TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=20, sock_read=60)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class HubFile:
    """One file of a model: the first of `names` the hub has wins; optional ones may be absent."""

    names: tuple[str, ...]
    required: bool = True


@dataclass(frozen=True)
class HubModel:
    """Where a named model comes from and where it goes."""

    kind: str  # "whisper" | "piper"
    name: str  # normalised: "small", "de_DE-thorsten-medium"
    hub_url: str
    base_url: str  # file URL = base_url + "/" + file name
    target_dir: Path
    files: tuple[HubFile, ...]

    def url(self, file_name: str) -> str:
        """The hub URL of one file."""
        return f"{self.base_url}/{file_name}"


@dataclass(frozen=True)
class _Download:
    tmp: Path
    dest: Path
    url: str
    sha256: str


def whisper_name(name: str) -> str | None:
    """The normalised Whisper name ("whisper-small" -> "small"), or None if not a Whisper name."""
    bare = name.strip().removeprefix("whisper-")
    bare = WHISPER_ALIASES.get(bare, bare)
    return bare if bare in WHISPER_NAMES else None


def hub_model(name: str, settings: Settings, hub_url: str | None = None) -> HubModel:
    """Maps a model name to its hub URLs and cache location; ModelError for unknown names."""
    hub = (hub_url or settings.models.hub_url).rstrip("/")
    cache = settings.model_cache_dir
    bare = whisper_name(name)
    if bare is not None:
        template = settings.models.whisper_repo_template
        repo = template.format(name=bare)
        if template == DEFAULT_WHISPER_TEMPLATE:
            repo = WHISPER_REPOS.get(bare, repo)
        return HubModel(
            kind="whisper",
            name=bare,
            hub_url=hub,
            base_url=f"{hub}/{repo}/resolve/main",
            target_dir=cache / f"whisper-{bare}",
            files=(
                HubFile(("config.json",)),
                HubFile(("tokenizer.json",)),
                HubFile(("vocabulary.txt", "vocabulary.json")),
                HubFile(("preprocessor_config.json",), required=False),
                HubFile(("model.bin",)),
            ),
        )
    match = PIPER_VOICE.match(name.strip())
    if match is not None:
        voice = match.group(0)
        lang, region = match.group("lang"), match.group("region")
        path = f"{lang}/{lang}_{region}/{match.group('name')}/{match.group('quality')}"
        return HubModel(
            kind="piper",
            name=voice,
            hub_url=hub,
            base_url=f"{hub}/{settings.models.piper_voices_repo}/resolve/main/{path}",
            target_dir=cache / "piper",
            files=(HubFile((f"{voice}.onnx.json",)), HubFile((f"{voice}.onnx",))),
        )
    raise ModelError(f"unknown model name {name!r}: use {ACCEPTED_FORMS}")


def fetch_model(
    name: str, settings: Settings, hub_url: str | None = None, progress: Progress | None = None
) -> Path:
    """Downloads a model into the cache; returns the Whisper directory or the Piper .onnx path.

    Blocking (runs its own event loop): from async code use `fetch_model_async`.
    """
    return asyncio.run(fetch_model_async(name, settings, hub_url, progress))


async def fetch_model_async(
    name: str, settings: Settings, hub_url: str | None = None, progress: Progress | None = None
) -> Path:
    """The async form of `fetch_model`."""
    model = hub_model(name, settings, hub_url)
    paths = await download_model(model, progress)
    return model.target_dir if model.kind == "whisper" else paths[-1]


async def download_model(model: HubModel, progress: Progress | None = None) -> list[Path]:
    """Downloads, validates and installs all files of `model`; returns the installed paths."""
    created = not model.target_dir.exists()
    await asyncio.to_thread(model.target_dir.mkdir, parents=True, exist_ok=True)
    done: list[_Download] = []
    try:
        async with aiohttp.ClientSession(
            timeout=TIMEOUT, headers={"User-Agent": "voicebot-models/1"}
        ) as session:
            for spec in model.files:
                got = None
                for file_name in spec.names:
                    got = await _download(session, model, file_name, progress)
                    if got is not None:
                        break
                if got is not None:
                    done.append(got)
                elif spec.required:
                    raise ModelError(
                        f"{model.url(spec.names[0])} answered 404: the hub has no "
                        f"{model.kind} model {model.name!r}. Check the name ({ACCEPTED_FORMS}); "
                        "the voicebot keeps using the offline defaults (`voicebot models list`)"
                    )
        await asyncio.to_thread(_validate, model, done)
        return await asyncio.to_thread(_install, model, done)
    except BaseException:
        for item in done:
            item.tmp.unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):
                model.target_dir.rmdir()  # only if empty
        raise


async def _download(
    session: aiohttp.ClientSession, model: HubModel, file_name: str, progress: Progress | None
) -> _Download | None:
    """Streams one file into a temp file beside its destination; None if the hub answers 404."""
    url = model.url(file_name)
    dest = model.target_dir / file_name
    fd, tmp_name = tempfile.mkstemp(prefix=f".{file_name}.", suffix=".part", dir=model.target_dir)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            async with session.get(url) as resp:
                if resp.status == 404:
                    await asyncio.to_thread(tmp.unlink)
                    return None
                if resp.status != 200:
                    raise ModelError(_status_message(model, url, resp.status))
                if resp.content_type == "text/html":
                    raise ModelError(
                        f"{url} returned an HTML page instead of the file (a proxy login or "
                        f"captive portal?); {_manual_hint(model)}"
                    )
                expected_sha, expected_size = _published_checksum(resp)
                total = expected_size or resp.content_length
                size = 0
                async for chunk in resp.content.iter_chunked(CHUNK):
                    digest.update(chunk)
                    await asyncio.to_thread(out.write, chunk)
                    size += len(chunk)
                    if progress:
                        progress(file_name, size, total)
                if progress:
                    progress(file_name, size, size)  # done (closes the progress line)
            await asyncio.to_thread(os.fsync, out.fileno())
        sha = digest.hexdigest()
        if expected_size is not None and size != expected_size:
            raise ModelError(
                f"{url}: got {size:,} bytes, the hub announced {expected_size:,}: the download "
                "was cut off; run the fetch again"
            )
        if expected_sha is not None and sha != expected_sha:
            raise ModelError(
                f"{url}: sha256 {sha} does not match the hub's {expected_sha}: the download is "
                "corrupt (or altered by a proxy); run the fetch again"
            )
        return _Download(tmp, dest, url, sha)
    except BaseException as exc:
        _discard(tmp)
        error = _download_error(model, url, dest, exc)
        if error is None:
            raise
        raise error from exc


def _discard(tmp: Path) -> None:
    """Removes a partial download; synchronous on purpose: it also runs on cancellation."""
    tmp.unlink(missing_ok=True)


def _download_error(model: HubModel, url: str, dest: Path, exc: BaseException) -> ModelError | None:
    """The ModelError (what to do) for a failed download; None to re-raise `exc` as it is."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ModelError(_offline_message(model, exc))
    if isinstance(exc, asyncio.TimeoutError):
        return ModelError(_offline_message(model, "no answer in time"))
    if isinstance(exc, aiohttp.ClientError):
        return ModelError(f"downloading {url} failed ({exc}); run the fetch again")
    if isinstance(exc, OSError):
        return ModelError(f"cannot write {dest} ({exc}): check space and permissions")
    return None


def _published_checksum(resp: aiohttp.ClientResponse) -> tuple[str | None, int | None]:
    """The sha256 and size the hub publishes for LFS files (X-Linked-Etag/-Size on the redirect)."""
    sha: str | None = None
    size: int | None = None
    for r in (*resp.history, resp):
        etag = r.headers.get("X-Linked-Etag", "").removeprefix("W/").strip('"').lower()
        if _SHA256.match(etag):
            sha = etag
        linked_size = r.headers.get("X-Linked-Size", "")
        if linked_size.isdigit():
            size = int(linked_size)
    return sha, size


def _validate(model: HubModel, downloads: Sequence[_Download]) -> None:
    """Checks what arrived before anything is installed: non-empty, JSON parses, Piper config."""
    for item in downloads:
        name = item.dest.name
        if item.tmp.stat().st_size == 0:
            raise ModelError(f"{item.url} is empty; run the fetch again")
        if not name.endswith(".json"):
            continue
        try:
            data = load_json(item.tmp)
        except ModelError as exc:
            raise ModelError(f"{item.url} is not valid JSON: {exc.__cause__}") from exc
        if model.kind == "piper" and name.endswith(".onnx.json"):
            audio = data.get("audio") if isinstance(data, dict) else None
            rate = audio.get("sample_rate") if isinstance(audio, dict) else None
            if not isinstance(rate, int) or rate <= 0:
                raise ModelError(f"{item.url} has no audio.sample_rate: not a Piper voice config")
        elif name == "config.json" and not isinstance(data, dict):
            raise ModelError(f"{item.url} is not a CTranslate2 model config")


def _install(model: HubModel, downloads: Sequence[_Download]) -> list[Path]:
    """Renames the validated temp files into place (model.bin last) and stamps the Whisper model."""
    if model.kind == "whisper":
        (model.target_dir / STAMP_NAME).unlink(missing_ok=True)  # it describes the old model.bin
    for item in downloads:
        os.replace(item.tmp, item.dest)
    for item in downloads:
        if model.kind == "whisper" and item.dest.name == "model.bin":
            write_stamp(item.dest, item.sha256, f"hub {item.url}")
    return [item.dest for item in downloads]


def _manual_hint(model: HubModel) -> str:
    urls = ", ".join(model.url(f.names[0]) for f in model.files if f.required)
    return (
        f"to install {model.name} by hand, download {urls} on a machine with network access "
        f"and copy the files into {model.target_dir}/"
    )


def _offline_message(model: HubModel, reason: object) -> str:
    return (
        f"cannot reach the model hub {model.hub_url} ({reason}). The voicebot keeps using the "
        f"offline defaults (`voicebot models list` shows them); {_manual_hint(model)}"
    )


def _status_message(model: HubModel, url: str, status: int) -> str:
    if status in (401, 403):
        why = "the hub refused access (a private/gated repository, or a proxy blocks it)"
    elif status == 429:
        why = "the hub rate-limits this machine; try again later"
    else:
        why = "the hub had a problem; try again later"
    return f"{url} answered HTTP {status}: {why}; {_manual_hint(model)}"

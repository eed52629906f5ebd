#!/usr/bin/env python3
"""Add the sha256 of every published file to each exact pin of a lock file.

Usage: scripts/hash_locks.py requirements/gateway.lock requirements/rasa.lock

A lock holds one ``name==version`` per package (a full ``pip freeze``). This rewrites each pin
as ``name==version --hash=sha256:...`` with the hashes of all files PyPI publishes for that
version (every wheel and the sdist, so any platform of the same kind resolves), plus those of a
local mirror (``/opt/pypi/simple``, where a machine has one) for the same version. The bootstrap
installs the locks with ``pip --require-hashes``, so a file that differs from the one pinned is
refused. Run it after changing a pin; pins that already carry hashes are fetched again.
Standard library only (it runs before any virtualenv exists).
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

PYPI_SIMPLE = "https://pypi.org/simple/{name}/"
LOCAL_MIRRORS = (Path("/opt/pypi/simple"), Path("/opt/pypi-more/simple"))
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def file_version_matches(filename: str, name: str, version: str) -> bool:
    """True when a distribution file (wheel or sdist) is this name at this version."""
    if filename.endswith(".whl"):
        file_name, file_version = filename.split("-")[:2]
    else:
        base = re.sub(r"\.(tar\.gz|tar\.bz2|zip|tgz)$", "", filename)
        if base == filename or "-" not in base:
            return False
        file_name, file_version = base.rsplit("-", 1)
    return normalise(file_name) == normalise(name) and file_version.lower() == version.lower()


def pypi_hashes(name: str, version: str) -> set[str]:
    request = urllib.request.Request(
        PYPI_SIMPLE.format(name=normalise(name)),
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (fixed https URL)
        index = json.load(response)
    return {
        entry["hashes"]["sha256"]
        for entry in index["files"]
        if "sha256" in entry.get("hashes", {})
        and file_version_matches(entry["filename"], name, version)
    }


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for key, value in attrs if key == "href" and value)


def mirror_hashes(name: str, version: str) -> set[str]:
    found: set[str] = set()
    for mirror in LOCAL_MIRRORS:
        page = mirror / normalise(name) / "index.html"
        if not page.is_file():
            continue
        links = _Links()
        links.feed(page.read_text(encoding="utf-8", errors="replace"))
        for href in links.hrefs:
            path, _, fragment = href.partition("#sha256=")
            if fragment and file_version_matches(path.rsplit("/", 1)[-1], name, version):
                found.add(fragment)
    return found


def hashed_lock(text: str) -> str:
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("--hash="):
            continue  # continuation of an earlier pin: rewritten below
        match = PIN.match(stripped)
        if not match:
            out.append(line)
            continue
        name, version = match.groups()
        hashes = sorted(pypi_hashes(name, version) | mirror_hashes(name, version))
        if not hashes:
            raise SystemExit(f"no published files found for {name}=={version}")
        out.append(f"{name}=={version} \\")
        out.extend(f"    --hash=sha256:{digest}" + (" \\" if i < len(hashes) - 1 else "")
                   for i, digest in enumerate(hashes))
        print(f"{name}=={version}: {len(hashes)} files", file=sys.stderr)
    return "\n".join(out) + "\n"


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    for path in map(Path, paths):
        path.write_text(hashed_lock(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

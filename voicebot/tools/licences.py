"""Third-party licences of the installed packages, checked against an allowlist.

The product is GPL-3.0-or-later (it links piper-tts, GPL-3.0-or-later). Every package in the
gateway's and the Rasa server's virtualenvs must carry a licence that may be combined with it.

    python voicebot/tools/licences.py --check                # both virtualenvs vs the allowlist
    python voicebot/tools/licences.py --write docs/third-party-licences.md

Each package's licence comes from its metadata: the SPDX ``License-Expression`` where set, else
the ``License`` field when it is a short name, else the trove classifiers. The allowlist and the
packages whose metadata says nothing usable (with the licence read off their project, and why)
live in ``requirements/licences.toml``. Standard library only: the file also runs as a script
under the Rasa virtualenv's Python, which does not have the gateway installed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POLICY_FILE = ROOT / "requirements" / "licences.toml"
VENVS = {"gateway": ROOT / ".venv", "rasa": ROOT / ".venv-rasa"}
# What each environment ships: the packages pinned in its lock files (tools a developer installed
# on top are not part of the product).
LOCKS = {
    "gateway": (ROOT / "requirements" / "gateway.lock", ROOT / "requirements" / "models.txt"),
    "rasa": (ROOT / "requirements" / "rasa.lock",),
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")
OWN_PACKAGES = {"voicebot"}

# Short names and classifiers as packages write them, to SPDX identifiers.
SHORT_NAMES = {
    "mit": "MIT",
    "mit license": "MIT",
    "the mit license": "MIT",
    "apache 2.0": "Apache-2.0",
    "apache-2.0": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0",
    "apache": "Apache-2.0",
    "bsd": "BSD-3-Clause",
    "bsd license": "BSD-3-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd 3-clause license": "BSD-3-Clause",
    "3-clause bsd license": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "bsd 2-clause license": "BSD-2-Clause",
    "bsd-2-clause": "BSD-2-Clause",
    "psf-2.0": "PSF-2.0",
    "psf": "PSF-2.0",
    "mpl-2.0": "MPL-2.0",
    "mpl 2.0": "MPL-2.0",
    "isc": "ISC",
    "isc license": "ISC",
    "lgpl": "LGPL-3.0-or-later",
    "gpl-3.0-or-later": "GPL-3.0-or-later",
    "mpl-2.0 and mit": "MPL-2.0 AND MIT",
}
CLASSIFIERS = {
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: Apache Software License": "Apache-2.0",
    "License :: OSI Approved :: BSD License": "BSD-3-Clause",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": (
        "LGPL-2.0-or-later"
    ),
    "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)": (
        "GPL-3.0-or-later"
    ),
    "License :: OSI Approved :: Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "License :: OSI Approved :: zlib/libpng License": "Zlib",
}
UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Package:
    environment: str
    name: str
    version: str
    licence: str
    source: str  # "metadata" or "policy" (read off the project by hand)


def licence_from_metadata(fields: Mapping[str, object]) -> str:
    """An SPDX expression from a package's metadata fields, or UNKNOWN."""
    expression = fields.get("License-Expression")
    if isinstance(expression, str) and expression.strip():
        return expression.strip()
    text = fields.get("License")
    if isinstance(text, str):
        short = " ".join(text.split()).lower()
        if short in SHORT_NAMES:
            return SHORT_NAMES[short]
    raw_classifiers = fields.get("Classifier")
    classifiers = raw_classifiers if isinstance(raw_classifiers, list) else []
    found = sorted({CLASSIFIERS[c] for c in classifiers if isinstance(c, str) and c in CLASSIFIERS})
    if found:
        return " OR ".join(found) if len(found) > 1 else found[0]
    return UNKNOWN


def allowed(expression: str, allowlist: Iterable[str]) -> bool:
    """True when an SPDX expression is allowed: every AND term, and at least one OR branch."""
    permitted = set(allowlist)
    cleaned = expression.replace("(", " ").replace(")", " ")
    for branch in re.split(r"\s+OR\s+", cleaned):
        terms = [t.strip() for t in re.split(r"\s+AND\s+", branch) if t.strip()]
        if terms and all(term in permitted for term in terms):
            return True
    return False


def installed(python: Path | None = None) -> list[dict[str, object]]:
    """Name, version and licence fields of every distribution of one interpreter."""
    if python is None:
        rows: list[dict[str, object]] = []
        for dist in metadata.distributions():
            meta = dist.metadata
            rows.append(
                {
                    "Name": meta["Name"],
                    "Version": meta["Version"],
                    "License-Expression": (meta.get_all("License-Expression") or [None])[0],
                    "License": (meta.get_all("License") or [None])[0],
                    "Classifier": meta.get_all("Classifier") or [],
                }
            )
        return rows
    result = subprocess.run(  # noqa: S603 (our own venv's interpreter and this file)
        [str(python), str(Path(__file__).resolve()), "--dump"],
        check=True,
        capture_output=True,
        text=True,
    )
    return list(json.loads(result.stdout))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(environment: str) -> set[str]:
    names = set()
    for lock in LOCKS[environment]:
        for line in lock.read_text(encoding="utf-8").splitlines():
            match = PIN.match(line.strip())
            if match:
                names.add(canonical(match.group(1)))
    return names


def inventory(policy: Mapping[str, object]) -> list[Package]:
    overrides = policy.get("packages", {})
    assert isinstance(overrides, dict)
    packages: dict[tuple[str, str], Package] = {}
    for environment, venv in VENVS.items():
        python = venv / "bin" / "python"
        if not python.exists():
            raise SystemExit(f"{python} is missing: run `make bootstrap` first")
        shipped = pinned(environment)
        for fields in installed(python):
            name = str(fields["Name"])
            key = canonical(name)
            if key in OWN_PACKAGES or key not in shipped:
                continue
            override = overrides.get(key)
            licence, source = licence_from_metadata(fields), "metadata"
            if isinstance(override, dict) and "licence" in override:
                licence, source = str(override["licence"]), "policy"
            packages[(environment, key)] = Package(
                environment, name, str(fields["Version"]), licence, source
            )
    return sorted(packages.values(), key=lambda p: (p.environment, p.name.lower()))


def problems(packages: Iterable[Package], policy: Mapping[str, object]) -> list[str]:
    allowlist = policy.get("allowed", [])
    assert isinstance(allowlist, list)
    return [
        f"{p.environment}: {p.name} {p.version} has licence {p.licence!r}, which is not in "
        f"requirements/licences.toml's allowed list"
        + (" (its metadata names none: add it under [packages])" if p.licence == UNKNOWN else "")
        for p in packages
        if not allowed(p.licence, map(str, allowlist))
    ]


def unlisted(packages: Iterable[Package]) -> list[str]:
    """Pinned packages that are not installed: the table would be incomplete."""
    have = {(p.environment, canonical(p.name)) for p in packages}
    return [
        f"{environment}: {name} is pinned but not installed (run `make bootstrap`)"
        for environment in VENVS
        for name in sorted(pinned(environment))
        if (environment, name) not in have
    ]


def render(packages: Iterable[Package]) -> str:
    lines = [
        "# Third-party licences",
        "",
        "Generated by `python voicebot/tools/licences.py --write docs/third-party-licences.md`",
        "from the installed packages' metadata; `make test` fails when it is out of date or a",
        "licence is not on the allowlist in `requirements/licences.toml`. The product itself is",
        'GPL-3.0-or-later (see LICENSE). "policy": the package\'s metadata names no licence;',
        "it was read off the project and recorded in the allowlist file.",
        "",
        "| Environment | Package | Version | Licence | From |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {p.environment} | {p.name} | {p.version} | {p.licence} | {p.source} |" for p in packages
    ]
    return "\n".join(lines) + "\n"


def load_policy() -> dict[str, object]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    with POLICY_FILE.open("rb") as handle:
        policy: dict[str, object] = tomllib.load(handle)
    return policy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help="fail on a licence not allowed")
    parser.add_argument("--write", type=Path, help="write the Markdown table to this file")
    args = parser.parse_args(argv)
    if args.dump:
        json.dump(installed(), sys.stdout)
        return 0
    policy = load_policy()
    packages = inventory(policy)
    if args.write:
        args.write.write_text(render(packages), encoding="utf-8")
    found = problems(packages, policy) + unlisted(packages)
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if (args.check and found) else 0


if __name__ == "__main__":
    sys.exit(main())

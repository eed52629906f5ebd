"""Checks the action server's settings and catalogue before a start (nothing is loaded at
import, so a broken catalogue file would otherwise show on the first question):

    cd rasa_project && ../.venv-rasa/bin/python -m actions.check

Prints "ok" and exits 0, or prints what is wrong (the variable, or the file and the field)
and exits 1. Standard library and PyYAML only for the catalogue; rasa_sdk is not needed.
"""

from __future__ import annotations

import sys

from .catalogue import CatalogueError, default_directory, load_catalogue
from .settings import SettingsError, load_settings


def problems() -> list[str]:
    """What would stop the actions from answering: [] when the settings and catalogue load."""
    try:
        config = load_settings()
    except SettingsError as exc:
        return [str(exc)]
    try:
        load_catalogue(config.catalogue_dir or default_directory())
    except CatalogueError as exc:
        return [str(exc)]
    return []


def main() -> int:
    """Prints the problems (or "ok"); the exit status says whether there were any."""
    found = problems()
    for problem in found:
        print(problem, file=sys.stderr)
    if not found:
        print("ok")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m voicebot.store [--apply]`: the schema version of the gateway's database.

Shows the migrations applied to the configured database (VOICEBOT_DATABASE_URL, else the
SQLite file) and those pending; `--apply` applies them as a gateway start would.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from voicebot.config import load_settings
from voicebot.errors import ConfigError
from voicebot.store.db import Database
from voicebot.store.migrate import migrate, schema_state


def main(argv: list[str] | None = None) -> int:
    """Prints the schema state (or migrates with --apply); 1 when a migration failed."""
    parser = argparse.ArgumentParser(prog="python -m voicebot.store", description=__doc__)
    parser.add_argument("--config", type=Path, help="settings file (default: as the gateway)")
    parser.add_argument("--database", help="a SQLite path or postgresql:// URL (default: config)")
    parser.add_argument("--apply", action="store_true", help="apply the pending migrations")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    target: str | Path
    if args.database:
        target = args.database
    else:
        try:
            settings = load_settings(args.config)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 2
        target = settings.database_url or settings.db_path
    db = Database(target)  # only for its backend and description: nothing is opened
    if db.backend == "sqlite" and not Path(target).exists() and not args.apply:
        print(f"{db.description}: no database yet (the gateway creates it at its first start)")
        return 0
    errors: tuple[type[Exception], ...] = (OSError, *db.errors)  # MigrationError among them
    try:
        if args.apply:
            if db.backend == "sqlite":
                Path(target).parent.mkdir(parents=True, exist_ok=True)
            state = migrate(target, db.backend, db.description)
        else:
            state = schema_state(target, db.backend)
    except errors as exc:
        print(f"{db.description}: {exc}", file=sys.stderr)
        return 1
    print(f"database: {db.description}")
    print(f"version:  {state.version or '(none)'}")
    for name in state.applied:
        print(f"  applied  {name}")
    for name in state.pending:
        print(f"  pending  {name}")
    if state.unknown:
        print(f"  {len(state.unknown)} applied migration(s) unknown to this version")
    return 0


if __name__ == "__main__":
    sys.exit(main())

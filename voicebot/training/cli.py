"""`voicebot trainer export`: the turns trainers assigned an intent, as Rasa NLU YAML.

Reads the configured database (`--database` for another one), writes the file to `--out`
(default: stdout) with personal data masked; add it to rasa_project/data/nlu/ after review,
then `voicebot train`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from voicebot.config import Settings
from voicebot.store.db import Database
from voicebot.training import reviews
from voicebot.training.export import nlu_yaml


async def _assigned(target: str | Path) -> list[reviews.Review]:
    db = Database(target)
    await db.open()  # applies pending migrations, as a gateway start would
    try:
        return await db.run(reviews.assigned)
    finally:
        await db.close()


def _export(args: argparse.Namespace, settings: Settings) -> int:
    target: str | Path = args.database or settings.database_url or settings.db_path
    postgres = str(target).startswith(("postgresql:", "postgres:"))
    if not postgres and not Path(target).exists():
        print(f"voicebot: no database at {target}", file=sys.stderr)
        return 1
    assigned = asyncio.run(_assigned(target))
    text = nlu_yaml(assigned)
    if args.out in (None, "-"):
        sys.stdout.write(text)
    else:
        out = Path(args.out)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
        intents = len({r.intent for r in assigned})
        print(f"{len(assigned)} reviewed utterance(s) for {intents} intent(s) -> {out}")
    return 0


def add_trainer_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Registers `voicebot trainer ...` on the CLI."""
    trainer = sub.add_parser("trainer", help="the trainer's workbench")
    commands = trainer.add_subparsers(dest="trainer_command", required=True)
    p = commands.add_parser(
        "export", help="write the reviewed utterances as Rasa NLU YAML (personal data masked)"
    )
    p.add_argument("--out", help="file to write (default: stdout)")
    p.add_argument("--database", help="a SQLite path or postgresql:// URL (default: config)")
    p.set_defaults(func=_export)

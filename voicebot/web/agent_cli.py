"""`voicebot agents hash-password`: makes the password hash for `[console] agents`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from voicebot.config import Settings

MIN_LENGTH = 10


def _hash_password(args: argparse.Namespace, settings: Settings) -> int:
    if args.stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Passwort: ")
        if getpass.getpass("Passwort wiederholen: ") != password:
            print("voicebot: the passwords differ; nothing was hashed", file=sys.stderr)
            return 1
    if len(password) < MIN_LENGTH:
        print(f"voicebot: use at least {MIN_LENGTH} characters", file=sys.stderr)
        return 1
    from voicebot.web.agent_auth import hash_password  # lazily: keeps `voicebot --help` fast

    hashed = hash_password(password)
    if args.name:
        print(f"# voicebot.toml, [console] agents: {json.dumps(args.name)} = {json.dumps(hashed)}")
    print(hashed)
    return 0


def add_agents_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Registers `voicebot agents ...` on the CLI."""
    agents = sub.add_parser("agents", help="agent console accounts")
    commands = agents.add_subparsers(dest="agents_command", required=True)
    p = commands.add_parser(
        "hash-password", help="print the scrypt hash of a password for [console] agents"
    )
    p.add_argument("--stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--name", help="also print the config line for this login name")
    p.set_defaults(func=_hash_password)

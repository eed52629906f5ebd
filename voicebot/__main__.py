"""`python -m voicebot` is the `voicebot` command."""

from voicebot.cli import main

raise SystemExit(main())

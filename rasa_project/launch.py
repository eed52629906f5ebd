"""Starts the Rasa server or the action server with their secrets off the command line.

    python launch.py rasa <rasa run arguments>   # auth token from VOICEBOT_RASA_TOKEN
    python launch.py actions                     # the action server, /webhook behind a token

`rasa run` reads its auth token only from `--auth-token`; this launcher puts it into the
process's own argument list after start, so it never shows in `ps` or /proc/<pid>/cmdline.
rasa_sdk 3.6 has no authentication at all: `actions` runs its Sanic app with a request
middleware that requires the header X-Voicebot-Actions-Token (VOICEBOT_ACTIONS_TOKEN, which
Rasa sends from endpoints.yml) on everything but /health, and listens on SANIC_HOST
(default 127.0.0.1, not rasa_sdk's 0.0.0.0) and VOICEBOT_ACTIONS_PORT. Both mask personal
data in their logs with the gateway's filter.
"""

from __future__ import annotations

import hmac
import importlib.util
import logging
import os
import sys
from pathlib import Path
from typing import Any

MASKING = Path(__file__).resolve().parent.parent / "voicebot" / "log_masking.py"
TOKEN_HEADER = "X-Voicebot-Actions-Token"
OPEN_PATHS = frozenset({"/health"})


def mask_logs() -> None:
    """Masks phone numbers, e-mails, IBANs and dates in every log record of this process, with
    the gateway's own filter (voicebot/log_masking.py, standard library only)."""
    spec = importlib.util.spec_from_file_location("voicebot_log_masking", MASKING)
    if spec is None or spec.loader is None or not MASKING.is_file():
        logging.getLogger(__name__).warning("%s not found: logs are not masked", MASKING)
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.mask_every_record()


def token_ok(expected: str, given: str | None) -> bool:
    """Constant-time comparison; no configured token refuses everything."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def actions_app(token: str) -> Any:
    """rasa_sdk's app for the `actions` package with the token check in front of it."""
    from rasa_sdk.endpoint import create_app
    from rasa_sdk.plugin import plugin_manager
    from sanic import response

    app = create_app("actions", cors_origins=None)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)

    @app.middleware("request")
    async def require_token(request: Any) -> Any:
        if request.path in OPEN_PATHS or token_ok(token, request.headers.get(TOKEN_HEADER)):
            return None
        return response.json({"error": "unauthorized"}, status=401)

    return app


def run_actions() -> None:
    """The action server on loopback (unless SANIC_HOST says otherwise), token required."""
    from rasa_sdk import utils

    token = os.environ.pop("VOICEBOT_ACTIONS_TOKEN", "")
    if not token:
        sys.exit("VOICEBOT_ACTIONS_TOKEN is not set: the action server refuses to run open")
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    port = int(os.environ.get("VOICEBOT_ACTIONS_PORT", "5055"))
    logging.getLogger(__name__).info("action server on http://%s:%d (token required)", host, port)
    actions_app(token).run(host, port, workers=1)


def run_rasa(args: list[str]) -> None:
    """`rasa run ARGS --auth-token <VOICEBOT_RASA_TOKEN>`, the token added in-process."""
    from rasa.__main__ import main

    token = os.environ.pop("VOICEBOT_RASA_TOKEN", "")
    if not token:
        sys.exit("VOICEBOT_RASA_TOKEN is not set: Rasa's API would be open")
    sys.argv = ["rasa", "run", *args, "--auth-token", token]
    main()


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in {"rasa", "actions"}:
        sys.exit(__doc__)
    mask_logs()
    if sys.argv[1] == "rasa":
        run_rasa(sys.argv[2:])
    else:
        run_actions()

"""The trainer's workbench in the console: /agent/training (trainer role, 403 otherwise).

- `GET /agent/training`: the caller turns the bot understood badly (nlu_fallback,
  clarifications, low intent or ASR confidence, handoffs for `not_understood`), masked,
  grouped by the intent Rasa guessed (`voicebot.training.candidates`).
- `POST /agent/training/review`: the trainer assigns an intent of the Rasa project to one turn
  or discards it (`voicebot.training.reviews`); the text stored is masked again on the server,
  nothing the browser sends is stored as text.
- `GET /agent/training/export.yml`: the assigned turns as Rasa NLU YAML (the same file as
  `voicebot trainer export`).
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone

from aiohttp import web

from voicebot.store.calls import iso
from voicebot.training import candidates, reviews
from voicebot.training.export import nlu_yaml
from voicebot.training.guess import FALLBACK, Guesser
from voicebot.web import agent_auth as auth
from voicebot.web.console_render import render
from voicebot.web.keys import GATEWAY

INTENTS: web.AppKey[list[str]] = web.AppKey("training_intents")
GUESSER: web.AppKey[Guesser] = web.AppKey("training_guesser")
MAX_KEY_CHARS = 200
DAYS = 30
MAX_SHOWN = 300  # candidates on one page (the newest); the rest come after reviewing these


def _thresholds(request: web.Request) -> candidates.Thresholds:
    analytics = request.app[GATEWAY].settings.analytics
    return candidates.Thresholds(low_asr=analytics.low_asr_confidence)


async def training_page(request: web.Request) -> web.Response:
    """GET /agent/training: the groups to review, the decisions so far, the export."""
    auth.require_role(request, "trainer")
    db = request.app[GATEWAY].db
    now = datetime.now(timezone.utc)
    found = await db.run(
        functools.partial(
            candidates.find_candidates, now=now, days=DAYS, thresholds=_thresholds(request)
        )
    )
    shown = found[:MAX_SHOWN]
    await _add_guesses(request.app, shown)
    decided = await db.run(reviews.recent)
    assigned = await db.run(reviews.assigned)
    return render(
        request,
        "training.html",
        groups=candidates.grouped(shown),
        total=len(found),
        shown=len(shown),
        days=DAYS,
        reasons=candidates.REASONS,
        intents=request.app[INTENTS],
        decided=decided,
        assigned=len(assigned),
        notice=request.query.get("ok", "")[:40],
    )


async def _add_guesses(app: web.Application, found: list[candidates.Candidate]) -> None:
    """Rasa's guesses behind the nlu_fallback turns (none while Rasa is not reachable)."""
    fallbacks = {c.key: c.text for c in found if c.intent == FALLBACK}
    if not fallbacks:
        return
    guesses = await app[GUESSER].guesses(fallbacks)
    for c in found:
        if c.key in guesses:
            c.guess, c.guess_confidence = guesses[c.key]


def _turn_of(key: str) -> tuple[str, int]:
    call_id, _, seq = key.rpartition(":")
    if (
        not call_id
        or len(key) > MAX_KEY_CHARS
        or not (seq.isascii() and seq.isdigit())
        or len(seq) > 9
    ):
        raise web.HTTPBadRequest(text="Unbekannte Äußerung.", content_type="text/plain")
    return call_id, int(seq)


async def review(request: web.Request) -> web.StreamResponse:
    """POST /agent/training/review: `turn` (call_id:seq) and `intent`, or `action=discard`."""
    session = auth.require_role(request, "trainer")
    form = await request.post()
    call_id, seq = _turn_of(str(form.get("turn") or ""))
    discard = form.get("action") == "discard"
    intent = None if discard else str(form.get("intent") or "")
    if intent is not None and intent not in request.app[INTENTS]:
        raise web.HTTPBadRequest(
            text="Bitte wählen Sie einen Intent des Rasa-Projekts.", content_type="text/plain"
        )
    db = request.app[GATEWAY].db
    now = datetime.now(timezone.utc)
    found = await db.run(
        functools.partial(
            candidates.candidate,
            now=now,
            call_id=call_id,
            seq=seq,
            thresholds=_thresholds(request),
        )
    )
    if found is None:
        raise web.HTTPNotFound(
            text="Diese Äußerung ist schon bewertet oder nicht mehr gespeichert.",
            content_type="text/plain",
        )
    await _add_guesses(request.app, [found])
    decision = reviews.Review(
        call_id, seq, found.text, found.group or None, intent, session.agent, iso(now)
    )
    await db.run(functools.partial(reviews.save, review=decision))
    raise web.HTTPSeeOther(f"/agent/training?ok={'discarded' if discard else 'assigned'}")


async def export(request: web.Request) -> web.Response:
    """GET /agent/training/export.yml: the assigned turns as Rasa NLU training data."""
    auth.require_role(request, "trainer")
    assigned = await request.app[GATEWAY].db.run(reviews.assigned)
    name = f"nlu_review_{datetime.now(timezone.utc):%Y-%m-%d}.yml"
    response = web.Response(
        text=nlu_yaml(assigned),
        content_type="application/x-yaml",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return auth.security_headers(response)


def add_training(app: web.Application) -> None:
    """Registers the workbench; the assignable intents are read from the Rasa project's
    domain once (call after `add_agent_console`)."""
    app[INTENTS] = reviews.project_intents(app[GATEWAY].settings.rasa.project_dir)
    app[GUESSER] = Guesser(app[GATEWAY].settings.rasa)
    app.router.add_get("/agent/training", training_page)
    app.router.add_post("/agent/training/review", review)
    app.router.add_get("/agent/training/export.yml", export)

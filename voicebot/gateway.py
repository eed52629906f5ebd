"""The gateway: what outlives a call (stores, models, clients), its calls, health and metrics.

It wires the layers below it together; `web/` serves it over HTTP and hands the transports
its `CallLifecycle`, which owns every call from admission to the closed record.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp

from voicebot.config import Settings
from voicebot.errors import ConfigError, VoicebotError
from voicebot.handoff.events import Hub
from voicebot.handoff.service import HandoffService
from voicebot.handoff.webhook import WebhookDispatcher
from voicebot.lifecycle import CallLifecycle
from voicebot.mail.sender import MailSender
from voicebot.metrics import GatewayMetrics, ObservedCallStore
from voicebot.pipeline.prompts import PROMPT_TEXTS, Prompts
from voicebot.pipeline.services import Services
from voicebot.procstats import process_stats
from voicebot.recovery import close_crashed_calls
from voicebot.retention_files import purge_files
from voicebot.services import models
from voicebot.services.asr import AsrService
from voicebot.services.dialogue import RasaClient
from voicebot.services.hotwords import hotwords_path, load_hotwords
from voicebot.services.tts import TtsService
from voicebot.store.db import Database
from voicebot.store.handoffs import HandoffStore
from voicebot.store.requests import RequestStore
from voicebot.store.sessions import SessionStore

log = logging.getLogger(__name__)
PROMPT_RATE = 16000
PURGE_INTERVAL_S = 3600


class Gateway:
    """Owns everything that outlives a single call."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url or settings.db_path)
        # unique per gateway and stable across restarts: two gateways on one host differ by port
        self.gateway_id = settings.gateway_id or f"{socket.gethostname()}:{settings.port}"
        self.store = ObservedCallStore(self.db, self.gateway_id)  # + metrics, gateway id
        self.handoff_store = HandoffStore(self.db)
        self.sessions = SessionStore(self.db)
        self.requests = RequestStore(self.db)
        self.mailer = MailSender(settings.mail, self.requests)  # started in startup()
        self.hub = Hub()
        self.handoffs: HandoffService | None = None  # set up in startup()
        self.webhooks: WebhookDispatcher | None = None
        self.metrics: Counter[str] = Counter()
        self.calls = CallLifecycle(settings, self.metrics)  # admits, starts and ends calls
        self.prometheus = GatewayMetrics(self.metrics, lambda: len(self.calls))  # /metrics
        self.store.metrics = self.prometheus
        self.calls.on_refused.append(lambda why: self.prometheus.refused.labels(why).inc())
        self.drain: Any = None  # voicebot.drain.Drain under `voicebot serve` (SIGTERM)
        self.recovered: list[str] = []  # records of a crashed predecessor closed at start
        self.load_times: dict[str, float] = {}
        self.model_state = "loading"
        self.model_error: str | None = None
        self.model_sources: dict[str, str] = {}
        self._http: aiohttp.ClientSession | None = None
        self._services: Services | None = None
        self._loader: asyncio.Task[None] | None = None
        self._purger: asyncio.Task[None] | None = None
        self.hotwords: list[str] = []  # read in startup(): a bad list fails the start

    @property
    def services(self) -> Services:
        """The loaded services (only valid once `model_state == 'ready'`)."""
        if self._services is None:
            raise VoicebotError("models are not loaded yet")
        return self._services

    async def startup(self) -> None:
        """Opens the store and the Rasa client; models load in the background."""
        self.hotwords = load_hotwords(hotwords_path(self.settings))
        log.info("Whisper hot words (%s): %s", hotwords_path(self.settings), len(self.hotwords))
        try:
            await self.store.open()
        except (OSError, *self.db.errors) as exc:  # type: ignore[misc]
            raise VoicebotError(
                f"cannot open the database {self.db.description}: {exc}. Check "
                "VOICEBOT_DATABASE_URL / VOICEBOT_DATABASE_PATH, free disk space and permissions."
            ) from exc
        self.recovered = await close_crashed_calls(self.db, self.gateway_id)
        self._http = aiohttp.ClientSession()
        self.rasa = RasaClient(self._http, self.settings.rasa)
        self.webhooks = WebhookDispatcher(
            self.settings.handoff, self.handoff_store, self._http, self.hub
        )
        try:
            self.handoffs = HandoffService(
                self.settings,
                self.handoff_store,
                self.store,
                self.rasa,
                self._http,
                self.hub,
                self.webhooks,
            )
        except ConfigError:
            await self._http.close()
            await self.store.close()
            raise
        if self.settings.handoff.webhook_url and not self.settings.handoff.webhook_secret:
            log.warning("handoff webhook without VOICEBOT_HANDOFF_WEBHOOK_SECRET: sent unsigned")
        self.webhooks.start()
        self.mailer.start()
        self._loader = asyncio.create_task(self._load_models())
        self._purger = asyncio.create_task(self._purge_periodically())

    async def purge_expired(self, now: datetime | None = None) -> int:
        """Deletes call and handoff records older than the retention period; returns how many."""
        now = now or datetime.now(timezone.utc)
        cutoff = now - timedelta(days=self.settings.transcript_retention_days)
        expired = await self.store.ids_started_before(cutoff)  # their Rasa conversations go too
        calls = await self.store.purge_older_than(cutoff)
        handoffs = await self.handoff_store.purge_older_than(cutoff)
        requests = await self.requests.purge_older_than(cutoff)
        await self.sessions.purge_expired(now)
        await asyncio.to_thread(purge_files, self.settings, cutoff, expired)  # trackers, logs
        if calls or handoffs or requests:
            log.info(
                "retention: deleted %d call record(s), %d handoff(s) and %d request(s) "
                "older than %s",
                calls,
                handoffs,
                requests,
                cutoff.date(),
            )
            self.hub.publish({"type": "purged"})
        return calls + handoffs + requests

    async def _purge_periodically(self) -> None:
        """Runs the retention purge at start-up and then every hour."""
        while True:
            try:
                await self.purge_expired()
            except Exception as exc:  # noqa: BLE001 - keep purging later; the log says why
                log.error("retention purge failed: %s; will retry in an hour", exc)
            await asyncio.sleep(PURGE_INTERVAL_S)

    async def _load_models(self) -> None:
        """Resolves and loads Whisper, the voices, the VAD and the fixed prompts, in threads."""
        try:
            self._services = await asyncio.to_thread(self._load_blocking)
            self.model_state = "ready"
            self.calls.services = self._services
            log.info(
                "models ready: %s",
                ", ".join(f"{k} {v:.2f} s" for k, v in self.load_times.items()),
            )
        except Exception as exc:  # noqa: BLE001 - reported through /health and the log
            self.model_state = "failed"
            self.model_error = str(exc)
            self.calls.unavailable = "models failed"
            log.error("loading the models failed: %s", exc)

    def _load_blocking(self) -> Services:
        s = self.settings
        asr_model = models.resolve_asr_model(s)
        voices = {lang: models.resolve_tts_voice(s, lang) for lang in ("de", "en")}
        for role, resolved in [("asr", asr_model), *((f"tts-{k}", v) for k, v in voices.items())]:
            self.model_sources[role] = f"{resolved.engine} from {resolved.source}"
            log.info("%s: %s (%s)", role, resolved.description, resolved.source)
            if resolved.warning:
                log.warning("%s", resolved.warning)
        asr = AsrService(s.asr, asr_model.path or s.model_cache_dir, self.hotwords)
        self.load_times["asr"] = asr.load()
        tts = TtsService(s.tts, voices)
        self.load_times["tts"] = tts.load()
        started = time.perf_counter()
        from voicebot.audio.vad import SileroVad

        vad = SileroVad()
        self.load_times["vad"] = time.perf_counter() - started
        started = time.perf_counter()
        audio = {
            (name, lang): tts.synthesize_blocking(text, lang, PROMPT_RATE)
            for lang, texts in PROMPT_TEXTS.items()
            for name, text in texts.items()
        }
        self.load_times["prompts"] = time.perf_counter() - started
        prompts = Prompts(PROMPT_RATE, audio)
        return Services(s, asr, tts, self.rasa, self.store, vad, prompts, handoff=self.handoffs)

    async def shutdown(self) -> None:
        """Ends live calls, then closes clients, pools and the store."""
        await self.calls.shut_down("gateway_shutdown")
        for task in (self._loader, self._purger):
            if task is not None and not task.done():
                task.cancel()
        if self.webhooks is not None:
            await self.webhooks.stop()
        await self.mailer.stop()
        if self._http is not None:
            await self._http.close()
        if self._services is not None:
            self._services.asr.close()
            self._services.vad_pool.shutdown(wait=False)
        await self.store.close()

    # ---- health ----------------------------------------------------------------------------
    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Each component's state; healthy only when models are loaded and Rasa answers."""
        rasa_ok, actions_ok, db_ok = await asyncio.gather(
            self.rasa.ready(), self.rasa.actions_ready(), self.store.ping()
        )
        components: dict[str, Any] = {
            "models": {"state": self.model_state, "sources": self.model_sources},
            "rasa": {"state": "up" if rasa_ok else "down", "url": self.settings.rasa.url},
            "actions": {
                "state": "up" if actions_ok else "down",
                "url": self.settings.rasa.actions_url,
            },
            "database": {
                "state": "up" if db_ok else "down",
                "backend": self.db.backend,
                "path": self.db.description,
            },
        }
        if self.model_error:
            components["models"]["error"] = self.model_error
        if self.load_times:
            components["models"]["load_seconds"] = {
                k: round(v, 3) for k, v in self.load_times.items()
            }
        draining = self.calls.draining
        healthy = self.model_state == "ready" and rasa_ok and db_ok and not draining
        body = {
            "status": "draining" if draining else "ok" if healthy else "unavailable",
            "gateway_id": self.gateway_id,
            "draining": draining,
            "components": components,
            "active_calls": len(self.calls),
            "process": process_stats(),
            "metrics": dict(self.metrics),
        }
        return healthy, body

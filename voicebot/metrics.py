"""Prometheus metrics of one gateway (`GET /metrics`, README "Operations").

Each gateway has its own `CollectorRegistry` (never the library's global one), so several
gateways can run in one process (tests). What is counted where:
- calls by transport and end reason, handoffs by reason, per-stage latencies and the ASR
  confidence: from the call records as the gateway writes them (`ObservedCallStore`), so the
  numbers are the ones the records hold;
- refusals by why (starting, draining, capacity): from `CallLifecycle.refusal`;
- active calls: the lifecycle's live calls, read at scrape time;
- outbox backlog: pending webhook deliveries and mails, counted in the database at scrape time;
- every counter of `/health`'s `metrics` (SIP, RTP, media events) as `voicebot_events_total`.
"""

from __future__ import annotations

import logging
from collections import Counter as TallyCounter
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from voicebot.store.calls import CallRecord, CallStore, TurnRecord
from voicebot.store.db import Database

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# seconds; a turn's stages run from a few milliseconds (queue) to several seconds (Rasa, ASR)
STAGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
# record field -> stage label
STAGES = {
    "endpointing_ms": "endpointing",
    "asr_queue_ms": "asr_queue",
    "asr_ms": "asr",
    "dialogue_ms": "dialogue",
    "tts_first_audio_ms": "tts_first_audio",
}


class _TallyCollector(Collector):
    """The gateway's plain counters (`Gateway.metrics`, shown in /health) as one family."""

    def __init__(self, tally: TallyCounter[str]) -> None:
        self._tally = tally

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            "voicebot_events", "Gateway event counters (as in /health metrics)", labels=["event"]
        )
        for name, value in sorted(self._tally.items()):
            family.add_metric([name], float(value))
        yield family


class GatewayMetrics:
    """The Prometheus instruments of one gateway, in a registry of its own."""

    def __init__(self, tally: TallyCounter[str], active: Callable[[], int]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.calls = Counter(
            "voicebot_calls", "Calls ended, by transport and end reason",
            ["transport", "end_reason"], registry=r,
        )  # fmt: skip
        self.refused = Counter(
            "voicebot_calls_refused", "Calls refused, by why (starting, draining, capacity)",
            ["reason"], registry=r,
        )  # fmt: skip
        self.handoffs = Counter(
            "voicebot_handoffs", "Calls handed to a person, by handoff reason", ["reason"],
            registry=r,
        )  # fmt: skip
        self.stage = Histogram(
            "voicebot_stage_seconds",
            "Per-turn stage latency (endpointing, asr_queue, asr, dialogue, tts_first_audio, "
            "speech_end_to_first_audio)",
            ["stage"], buckets=STAGE_BUCKETS, registry=r,
        )  # fmt: skip
        self.asr_confidence = Histogram(
            "voicebot_asr_confidence", "ASR confidence of the caller's turns",
            buckets=CONFIDENCE_BUCKETS, registry=r,
        )  # fmt: skip
        self.active = Gauge("voicebot_active_calls", "Calls in progress", registry=r)
        self.active.set_function(lambda: float(active()))
        self.outbox = Gauge(
            "voicebot_outbox_backlog", "Deliveries waiting, by outbox", ["outbox"], registry=r
        )
        r.register(_TallyCollector(tally))

    def call_ended(self, transport: str, reason: str, handoff_reason: str | None) -> None:
        """Counts one closed call record."""
        self.calls.labels(transport or "unknown", reason or "unknown").inc()
        if handoff_reason:
            self.handoffs.labels(handoff_reason).inc()

    def turn(self, turn: TurnRecord) -> None:
        """Observes a caller turn's stage latencies and ASR confidence."""
        if turn.speaker != "caller":
            return
        total = 0.0
        for field, stage in STAGES.items():
            value = getattr(turn, field)
            if value is not None and value >= 0:
                self.stage.labels(stage).observe(value / 1000)
                total += value
        if turn.tts_first_audio_ms is not None:  # the caller heard an answer
            self.stage.labels("speech_end_to_first_audio").observe(total / 1000)
        if turn.asr_confidence is not None and turn.text:
            self.asr_confidence.observe(turn.asr_confidence)

    async def refresh(self, db: Database) -> None:
        """Reads what is only known in the database (the outbox backlog) before a scrape."""
        try:
            counts = await db.run(_outbox_counts)
        except Exception as exc:  # noqa: BLE001 - a scrape still answers; the log says why
            log.warning("metrics: outbox backlog not read: %s", exc)
            return
        for name, value in counts.items():
            self.outbox.labels(name).set(value)

    def render(self) -> bytes:
        """The text exposition format of every instrument."""
        return generate_latest(self.registry)


def _outbox_counts(conn: object) -> dict[str, float]:
    """Undelivered webhook events and mails (tables that a store may not have are skipped)."""
    queries = {
        "webhook": "SELECT COUNT(*) AS n FROM webhook_outbox WHERE delivered_at IS NULL",
        "mail": "SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'",
    }
    counts: dict[str, float] = {}
    for name, sql in queries.items():
        try:
            row = conn.one(sql)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - a schema without this outbox
            continue
        counts[name] = float(row["n"]) if row else 0.0
    return counts


class ObservedCallStore(CallStore):
    """The call store that also records which gateway runs each call (`call_gateways`,
    migration 0006; crash recovery) and feeds the metrics from what it writes."""

    def __init__(self, target: Database, gateway_id: str) -> None:
        super().__init__(target)
        self.gateway_id = gateway_id
        self.metrics: GatewayMetrics | None = None
        self._transports: dict[str, str] = {}

    async def start_call(self, call: CallRecord) -> None:
        """Stores a new call and this gateway's id for it."""
        await super().start_call(call)
        self._transports[call.call_id] = call.transport
        await self._write(
            "INSERT INTO call_gateways (call_id, gateway_id) VALUES (?, ?) "
            "ON CONFLICT (call_id) DO UPDATE SET gateway_id = excluded.gateway_id",
            (call.call_id, self.gateway_id),
        )

    async def add_turn(self, turn: TurnRecord) -> None:
        """Stores one turn and observes its latencies."""
        await super().add_turn(turn)
        if self.metrics is not None:
            self.metrics.turn(turn)

    async def end_call(
        self,
        call_id: str,
        reason: str,
        handoff_department: str | None = None,
        handoff_reason: str | None = None,
    ) -> None:
        """Closes a call and counts it."""
        await super().end_call(call_id, reason, handoff_department, handoff_reason)
        transport = self._transports.pop(call_id, "unknown")
        if self.metrics is not None:
            self.metrics.call_ended(transport, reason, handoff_reason)

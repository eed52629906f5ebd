"""One frozen settings object, read once from a TOML file plus VOICEBOT_* environment overrides.

The file has one table per section (``[asr]``, ``[tts]``, ...); top-level keys belong to the
gateway itself. Every key can be overridden by ``VOICEBOT_<SECTION>_<KEY>`` (``VOICEBOT_<KEY>``
for top-level keys), e.g. ``VOICEBOT_ASR_CPU_THREADS=2`` or ``VOICEBOT_API_TOKEN=...``.
The defaults run offline on this machine with SQLite and the packaged models.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicebot.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ENV_PREFIX = "VOICEBOT_"
DEFAULT_CONFIG_FILE = "voicebot.toml"


@dataclass(frozen=True)
class AsrSettings:
    """Speech recognition (faster-whisper)."""

    model_path: Path | None = None  # a CTranslate2 Whisper directory; overrides resolution
    model_name: str = "base"  # hub name used by `voicebot models fetch` and the cache
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 2
    num_workers: int = 1  # parallel transcriptions sharing one model
    beam_size: int = 1
    language: str = "de"
    # Whisper's hot words, one per line (unset: <rasa.project_dir>/hotwords.txt)
    hotwords_file: Path | None = None
    # below this confidence (exp of the mean token log-probability, 0..1) a transcript is not
    # answered: "Ich habe Sie akustisch nicht gut verstanden" (voicebot/pipeline/hearing.py)
    min_confidence: float = 0.1


@dataclass(frozen=True)
class TtsSettings:
    """Speech synthesis (Piper, with an offline fallback for German)."""

    voice_de: Path | None = None  # a Piper .onnx (its .onnx.json beside it)
    voice_en: Path | None = None
    german_fallback: str = (
        "auto"  # auto | pico | piper-joe | espeak: used when no German Piper voice exists
    )
    espeak_voice: str = "de"
    espeak_speed: int = 150  # words per minute
    length_scale: float = 1.0  # Piper speaking rate: >1 is slower
    cache_mb: int = 16  # synthesised sentences kept for reuse (0: off); ~200 sentences


@dataclass(frozen=True)
class VadSettings:
    """Silero VAD endpointing."""

    threshold: float = 0.5
    end_silence_ms: int = 600  # silence that ends an utterance
    # after this much silence ASR starts speculatively (0: off); kept if no speech follows
    speculative_silence_ms: int = 192
    long_end_silence_ms: int = 1200  # when the dialogue expects a long answer (address, list)
    yes_no_end_silence_ms: int = 400  # after a yes/no question: a "ja" is answered sooner
    min_speech_ms: int = 250  # shorter sounds (clicks, coughs) are not utterances; onset to end
    barge_in_min_ms: int = 300  # caller speech this long stops the bot's playback
    # an utterance that is only a greeting ("Guten Tag.") waits this long for the question
    # that usually follows, so both are one turn (pipeline/openers.py; 0: answer at once)
    opener_hold_ms: int = 800
    pre_speech_ms: int = 300  # silence put before the speech onset for Whisper
    max_utterance_s: float = 20.0


@dataclass(frozen=True)
class RasaSettings:
    """The Rasa server and action server the gateway talks to."""

    url: str = "http://127.0.0.1:5005"
    # Rasa's auth token (tracker and status API); unset: generated into <data_dir>/rasa-token
    token: str | None = None
    # shared secret the action server's /webhook requires (header X-Voicebot-Actions-Token);
    # unset: generated into <data_dir>/actions-token by `voicebot stack`
    actions_token: str | None = None
    actions_url: str = "http://127.0.0.1:5055"
    project_dir: Path = Path("rasa_project")
    venv: Path = Path(".venv-rasa")  # the Python 3.10 virtualenv holding Rasa
    model_name: str = "voicebot"  # models/<model_name>.tar.gz inside project_dir
    timeout_s: float = 8.0  # deadline of one dialogue turn
    filler_after_ms: int = 1500  # a slower answer is preceded by "Einen Moment bitte"
    call_start_message: str = "/call_start"
    # where Rasa keeps conversations (README "Operations"); unset: SQLite in <data_dir>/rasa,
    # e.g. postgresql://rasa@db/rasa for several Rasa servers sharing them
    tracker_store_url: str | None = None
    lock_store_url: str | None = None  # e.g. redis://redis:6379/0; unset: in memory (one Rasa)


@dataclass(frozen=True)
class ModelSettings:
    """Where models are cached and fetched from."""

    cache_dir: Path | None = None  # default: <data_dir>/models
    hub_url: str = "https://huggingface.co"
    whisper_repo_template: str = "Systran/faster-whisper-{name}"
    piper_voices_repo: str = "rhasspy/piper-voices"


@dataclass(frozen=True)
class HandoffSettings:
    """Handing calls to people: transfer targets, service hours, transfer hook, CRM webhook."""

    targets: dict[str, str] = field(default_factory=dict)  # department -> transfer URI
    default_target: str = "sip:zentrale@pbx.local"  # queue for departments without a target
    service_hours: str = "Mo-Fr 08:00-18:00"  # outside them: callback request, no transfer
    timezone: str = "Europe/Berlin"
    transfer_hook_url: str | None = None  # WebSocket transports: POSTed before the stream ends
    transfer_hook_secret: str | None = None  # HMAC key of the hook (its own, never the CRM's)
    transfer_hook_timeout_s: float = 3.0
    webhook_url: str | None = None  # CRM/ticket system: every handoff is POSTed here
    webhook_secret: str | None = None
    webhook_timeout_s: float = 10.0
    webhook_backoff_s: float = 2.0  # first retry delay, doubled per attempt
    webhook_backoff_max_s: float = 600.0


@dataclass(frozen=True)
class ConsoleSettings:
    """The agent console at /agent."""

    # login -> password hash from `voicebot agents hash-password`; one table per role
    agents: dict[str, str] = field(default_factory=dict)  # the queue and the requests
    supervisors: dict[str, str] = field(default_factory=dict)  # also analytics and forecast
    trainers: dict[str, str] = field(default_factory=dict)  # also the trainer's pages
    session_hours: float = 8.0  # a login expires after this long
    # the cookie's Secure flag: "auto" sets it unless the console listens on plain-HTTP
    # loopback (make run, tests); "true" behind a TLS proxy; "false" only for plain-HTTP tests
    secure_cookie: str = "auto"


@dataclass(frozen=True)
class AnalyticsSettings:
    """Analytics, the Problemfelder test, the forecast and the staffing (Erlang C)."""

    service_level: float = 0.8  # share of handoffs to answer within answer_within_s
    answer_within_s: float = 20.0
    default_handle_s: float = 300.0  # handling time when no handoff was accepted and closed yet
    baseline_periods: int = 4  # earlier periods of the same length the Problemfelder test uses
    problem_p_value: float = 0.01  # significance level (Bonferroni-corrected over topics)
    problem_min_count: int = 5  # fewer calls (or failures) in the period are never flagged
    low_asr_confidence: float = 0.5  # a caller turn below this counts as poorly recognised
    forecast_weeks: int = 4  # weeks of history behind each forecast hour
    rollup_interval_s: float = 3600.0  # how often the daily roll-ups are refreshed


@dataclass(frozen=True)
class SipSettings:
    """The SIP/RTP transport: where it listens, what it offers, whom it lets in."""

    enabled: bool = True
    host: str = "127.0.0.1"  # listen address for SIP (UDP and TCP) and RTP
    port: int = 5060
    transports: str = "udp,tcp"
    advertised_address: str | None = None  # Contact/SDP address behind NAT; default: host
    rtp_port_min: int = 20000
    rtp_port_max: int = 20999
    codec_preference: str = "PCMA,PCMU"
    allow_cidrs: str = "127.0.0.0/8,::1/128"  # other sources get 403
    auth_user: str | None = None  # set both to require digest auth on INVITE
    auth_password: str | None = None
    auth_realm: str = "voicebot"
    # digest algorithms offered in the 401, most preferred first; "MD5" alone for callers that
    # read only the first challenge and cannot do SHA-256 (e.g. sipp 3.6, older PBXes)
    auth_algorithms: str = "SHA-256,MD5"
    rtp_timeout_s: float = 30.0  # no RTP this long: the call ends as "abandoned"
    ring_ms: int = 0  # 180 Ringing this long before answering
    transfer_timeout_s: float = 30.0  # REFER: no final NOTIFY by then means "transfer failed"
    retry_after_s: int = 30  # Retry-After of the 503 when no call can be taken
    register_uri: str | None = None  # e.g. sip:pbx.example.org: REGISTER there when set
    register_user: str | None = None
    register_password: str | None = None
    register_expires_s: int = 300
    # hardening (README "Security", "SIP and RTP")
    rtp_host: str | None = None  # RTP bind address; default: host (loopback by default)
    # RTP only from the SDP's c= address; true: on any port of it (the first latches), false:
    # only from the exact c=/m= address and port
    rtp_symmetric_latching: bool = True
    refuse_silently: bool = False  # sources outside allow_cidrs get no 403 at all
    max_transactions_per_source: int = 64  # live server transactions per source IP; more: 503
    tcp_max_connections: int = 64  # SIP over TCP: more connections are closed at once
    tcp_idle_timeout_s: float = 300.0  # a TCP connection without traffic this long is closed
    # SIP over TLS and SRTP (README "SIP and RTP"): add "tls" to transports and set both files
    tls_port: int = 5061
    tls_cert_file: str | None = None  # PEM certificate (chain) of the TLS listener
    tls_key_file: str | None = None  # its PEM private key
    srtp: str = "optional"  # SDES-SRTP on TLS calls: off | optional | required (else 488)

    def __post_init__(self) -> None:
        if self.srtp not in ("off", "optional", "required"):
            raise ConfigError(f"[sip] srtp must be off, optional or required, not {self.srtp!r}")


@dataclass(frozen=True)
class MailSettings:
    """Outgoing e-mail (e.g. a requested form): the SMTP server; without smtp_host none is sent."""

    smtp_host: str | None = None  # unset: e-mails stay in the outbox as "not_configured"
    smtp_port: int = 587
    starttls: bool = True  # upgrade the connection with STARTTLS before logging in
    username: str | None = None  # set to log in (AUTH) with the password
    password: str | None = None
    from_address: str | None = None  # required when smtp_host is set
    timeout_s: float = 30.0
    backoff_s: float = 2.0  # first retry delay, doubled per attempt
    backoff_max_s: float = 600.0


# ---- media WebSocket security (issue 12, findings 2 and 6) ------------------------------------
@dataclass(frozen=True)
class MediaSettings:
    """/media/twilio: who may open a stream, and the bounds on every stream."""

    auth: str = "token"  # "token": signature, bearer or start token; "none": loopback only
    token: str | None = None  # VOICEBOT_MEDIA_TOKEN; unset: generated into <data_dir>/media-token
    twilio_auth_token: str | None = None  # validates X-Twilio-Signature on the upgrade
    public_url: str | None = None  # the wss:// URL Twilio dials, when a proxy rewrites it
    # sockets open without a valid `start`; they also count against max_calls (more: 1013)
    max_pending: int = 16
    start_timeout_s: float = 10.0  # no valid `start` by then: closed 1008
    max_message_bytes: int = 64 * 1024  # larger frames close the stream with 1009
    burst_ms: int = 2000  # caller audio allowed ahead of real time (more: closed 1008)


# ---- end of the media WebSocket block ---------------------------------------------------------


@dataclass(frozen=True)
class NumbersSettings:
    """Number-based entry: dialled number -> "LANGUAGE[:TOPIC]" (voicebot/number_plan.py)."""

    plan: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from voicebot.number_plan import parse_plan  # noqa: PLC0415 - it imports errors only

        parse_plan(self.plan)  # a bad number or value is a ConfigError at start


@dataclass(frozen=True)
class Settings:
    """Everything the gateway needs, loaded once and passed down explicitly."""

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("var")
    database_path: Path | None = None  # default: <data_dir>/voicebot.db
    database_url: str | None = None  # postgresql://user:pw@host/db; unset: SQLite database_path
    api_token: str | None = None  # bearer token for /api/*; unset means the API answers 401
    language: str = "de"
    max_calls: int = 8  # concurrent calls; more are refused (WebSocket close 1013)
    # this gateway's name on its calls (crash recovery closes only its own); unset: host:port
    gateway_id: str | None = None
    drain_timeout_s: float = 30.0  # SIGTERM: how long live calls may still run (then goodbye)
    metrics_token: str | None = None  # bearer token of GET /metrics; unset: the API token
    dtmf_interdigit_ms: int = 1500  # a DTMF entry ends after this pause or with '#'
    no_input_s: float = 10.0  # caller silent this long after the bot spoke: reprompt (0: off)
    no_input_reprompts: int = 2  # unanswered reprompts before the bot says goodbye
    default_department: str = "buergerbuero"  # transfer target when none is named
    transcript_retention_days: int = 30
    log_level: str = "INFO"
    log_file: Path | None = None  # unset: stderr; set: rotated (`voicebot stack` sets it)
    log_max_mb: int = 10  # a log file is rotated at this size
    log_backups: int = 5  # rotated files kept; older ones, and any past the retention, go
    asr: AsrSettings = field(default_factory=AsrSettings)
    tts: TtsSettings = field(default_factory=TtsSettings)
    vad: VadSettings = field(default_factory=VadSettings)
    rasa: RasaSettings = field(default_factory=RasaSettings)
    models: ModelSettings = field(default_factory=ModelSettings)
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)
    sip: SipSettings = field(default_factory=SipSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    media: MediaSettings = field(default_factory=MediaSettings)  # media WebSocket security
    numbers: NumbersSettings = field(default_factory=NumbersSettings)  # number plan

    @property
    def db_path(self) -> Path:
        """The SQLite file holding call records."""
        return self.database_path or self.data_dir / "voicebot.db"

    @property
    def model_cache_dir(self) -> Path:
        """The voicebot's own model cache."""
        return self.models.cache_dir or self.data_dir / "models"


SECTIONS: dict[str, type] = {
    "asr": AsrSettings,
    "tts": TtsSettings,
    "vad": VadSettings,
    "rasa": RasaSettings,
    "models": ModelSettings,
    "handoff": HandoffSettings,
    "console": ConsoleSettings,
    "analytics": AnalyticsSettings,
    "sip": SipSettings,
    "mail": MailSettings,
    "media": MediaSettings,  # media WebSocket security
    "numbers": NumbersSettings,  # number plan
}
MEDIA_SECRET_SETTINGS = {"token", "twilio_auth_token"}  # [media]
SECRET_SETTINGS = {"api_token", "transfer_hook_secret", "webhook_secret", "agents"}
SECRET_SETTINGS |= {"supervisors", "trainers"}
SECRET_SETTINGS |= {"auth_password", "register_password", "password", "token", "actions_token"}
SECRET_SETTINGS |= MEDIA_SECRET_SETTINGS


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Turns a TOML or environment value into the field's declared type."""
    args = typing.get_args(annotation)
    if type(None) in args:  # Optional[X]
        if value is None or value == "":
            return None
        annotation = next(a for a in args if a is not type(None))
    try:
        if annotation is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if annotation is Path:
            return Path(str(value)).expanduser()
        if typing.get_origin(annotation) is dict:
            return _coerce_mapping(value)
        if annotation in (int, float, str):
            if annotation is int and isinstance(value, float):
                raise ValueError(f"not an integer: {value!r}")
            return annotation(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{where}: {exc}. Fix the value in the config file or environment."
        ) from exc
    raise ConfigError(f"{where}: unsupported setting type {annotation!r}")


def _coerce_mapping(value: Any) -> dict[str, str]:
    """A TOML table, or from the environment a JSON object or `key=value,key=value`."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a JSON object: {exc}") from exc
        else:
            pairs = [p for p in text.split(",") if p.strip()]
            if any("=" not in p for p in pairs):
                raise ValueError("expected a JSON object or key=value,key=value")
            value = dict(p.split("=", 1) for p in pairs)
            value = {k.strip(): v.strip() for k, v in value.items()}
    if not isinstance(value, dict):
        raise ValueError(f"not a table: {value!r}")
    return {str(k): str(v) for k, v in value.items()}


def _build(
    cls: type, table: Mapping[str, Any], env: Mapping[str, str], prefix: str, where: str
) -> Any:
    """Builds one settings dataclass from its TOML table and the environment."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(table) - known - set(SECTIONS if cls is Settings else ())
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if cls is Settings and f.name in SECTIONS:
            continue
        env_name = f"{prefix}{f.name.upper()}"
        if env_name in env:
            values[f.name] = _coerce(env[env_name], hints[f.name], env_name)
        elif f.name in table:
            values[f.name] = _coerce(table[f.name], hints[f.name], f"{where}.{f.name}")
    return cls(**values)


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Reads the config file (``VOICEBOT_CONFIG`` or ./voicebot.toml if present) and the env."""
    env = os.environ if env is None else env
    if path is None and env.get("VOICEBOT_CONFIG"):
        path = Path(env["VOICEBOT_CONFIG"])
    if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        path = Path(DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(
                f"config file {path} does not exist; create it or unset VOICEBOT_CONFIG"
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    where = str(path) if path else "defaults"
    sections = {}
    for name, cls in SECTIONS.items():
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [{name}] must be a table")
        sections[name] = _build(cls, table, env, f"{ENV_PREFIX}{name.upper()}_", f"{where}[{name}]")
    top: Settings = _build(Settings, data, env, ENV_PREFIX, where)
    return dataclasses.replace(top, **sections)


def describe_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """(environment variable, file key, effective value) of every setting, for `voicebot config`."""
    rows: list[tuple[str, str, str]] = []
    for f in dataclasses.fields(Settings):
        if f.name in SECTIONS:
            continue
        value = getattr(settings, f.name)
        shown = "***" if f.name == "api_token" and value else str(value)
        if f.name == "database_url" and value:
            shown = mask_url(str(value))
        rows.append((f"{ENV_PREFIX}{f.name.upper()}", f.name, shown))
    for name in SECTIONS:
        section = getattr(settings, name)
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            shown = "***" if f.name in SECRET_SETTINGS and value else str(value)
            rows.append(
                (f"{ENV_PREFIX}{name.upper()}_{f.name.upper()}", f"[{name}] {f.name}", shown)
            )
    return rows


def mask_url(url: str) -> str:
    """A database URL with its password replaced by ***, for logs and /health."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"

"""A test caller that plays the telephony platform's part of the Twilio media-stream protocol.

`voicebot call` and the integration tests use it: it streams WAV files into the gateway in
real time (20 ms u-law frames), waits for the greeting and for each answer the way a caller
would, echoes marks like Twilio does, records what the bot said on a time line and finally
reads the call record from the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import numpy as np
import soundfile as sf

from voicebot.audio.resample import Pcm16, resample
from voicebot.protocol.g711 import ulaw_decode, ulaw_encode
from voicebot.protocol.media import twilio

RATE = twilio.SAMPLE_RATE
FRAME = twilio.FRAME_BYTES  # samples per 20 ms frame at 8 kHz
SILENCE = np.zeros(FRAME, dtype=np.int16)


def load_caller_audio(path: Path) -> Pcm16:
    """Reads a WAV (any rate, mono or the first channel) as 8 kHz int16."""
    try:
        data, rate = sf.read(path, dtype="int16", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise ValueError(f"cannot read {path} as audio: {exc}") from exc
    return resample(data[:, 0].copy(), rate, RATE)


@dataclass
class CallResult:
    """What one test call saw and heard."""

    call_sid: str  # the gateway's call id once the record is read, else the callSid sent
    stream_sid: str
    bot_audio: Pcm16  # the bot's audio on the caller's time line, 8 kHz
    marks: list[tuple[float, str]] = field(default_factory=list)  # (seconds, name)
    clears: list[float] = field(default_factory=list)
    speech_spans: list[tuple[float, float]] = field(default_factory=list)  # caller audio sent
    close_code: int | None = None
    close_reason: str = ""
    record: dict[str, Any] | None = None
    platform_call_id: str = ""  # the callSid this caller sent (Twilio's id, not the gateway's)

    def bot_audio_between(self, start_s: float, end_s: float | None = None) -> Pcm16:
        """The bot's audio within a time span of the call."""
        stop = None if end_s is None else int(end_s * RATE)
        return self.bot_audio[int(start_s * RATE) : stop]


class _Line:
    """The caller's side of the line: a clock, the bot's audio time line and events."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.chunks: list[tuple[int, bytes]] = []
        self.write_pos = 0
        self.last_audio = -1.0
        self.marks: list[tuple[float, str]] = []
        self.clears: list[float] = []
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""

    def now(self) -> float:
        return time.monotonic() - self.t0

    def add_audio(self, payload: bytes) -> None:
        pos = max(self.write_pos, int(self.now() * RATE) - len(payload))
        self.chunks.append((pos, payload))
        self.write_pos = pos + len(payload)
        self.last_audio = self.now()

    def timeline(self) -> Pcm16:
        out = np.zeros(self.write_pos, dtype=np.int16)
        for pos, payload in self.chunks:
            pcm = ulaw_decode(payload)
            out[pos : pos + len(pcm)] = pcm
        return out


async def _receive(ws: aiohttp.ClientWebSocketResponse[bool], line: _Line, sid: str) -> None:
    """Collects the gateway's media, marks and clears; echoes marks as if played."""
    while True:
        msg = await ws.receive()
        if msg.type == aiohttp.WSMsgType.CLOSE:
            line.close_reason = str(msg.extra or "")
        if msg.type != aiohttp.WSMsgType.TEXT:
            break
        event = twilio.parse_server_message(msg.data, sid)
        if isinstance(event, twilio.OutMedia):
            line.add_audio(event.payload)
        elif isinstance(event, twilio.OutMark):
            line.marks.append((line.now(), event.name))
            await ws.send_str(twilio.mark_in_message(sid, event.name))
        elif isinstance(event, twilio.OutClear):
            line.clears.append(line.now())
    line.close_code = ws.close_code
    line.closed.set()


async def _wait_for_answer(line: _Line, since: float, timeout: float, quiet: float) -> None:
    """Waits until the bot answered after `since` and then fell quiet (or hung up)."""
    deadline = line.now() + timeout
    while line.now() < deadline and not line.closed.is_set():
        answered = line.last_audio > since and any(t > since for t, _ in line.marks)
        if answered and line.now() - line.last_audio >= quiet:
            return
        await asyncio.sleep(0.05)


async def place_call(
    url: str,
    utterances: Sequence[Pcm16 | str],
    *,
    caller: str = "+492140000000",
    language: str = "de",
    api_token: str | None = None,
    wait_for_greeting: bool = True,
    lead_silence_s: float = 0.0,
    answer_timeout: float = 30.0,
    quiet_after_answer: float = 1.2,
    hangup_after_s: float | None = None,
    dtmf: str | None = None,
    call_sid: str | None = None,
    media_token: str | None = None,
) -> CallResult:
    """Plays each utterance after the bot's previous turn; returns what happened.

    An utterance given as a string is sent as keypad digits (DTMF), e.g. "51373#". The stream
    authenticates with `media_token` (default: $VOICEBOT_MEDIA_TOKEN) as a bearer token."""
    headers = media_headers(media_token)
    call_sid = call_sid or "CA" + uuid.uuid4().hex
    stream_sid = "MZ" + uuid.uuid4().hex
    line = _Line()
    spans: list[tuple[float, float]] = []
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url, max_msg_size=1 << 20, headers=headers) as ws:
            receiver = asyncio.create_task(_receive(ws, line, stream_sid))
            chunk = 0

            async def send(frame: Pcm16) -> None:
                nonlocal chunk
                chunk += 1
                await ws.send_str(
                    twilio.media_in_message(stream_sid, chunk, chunk * 20, ulaw_encode(frame))
                )

            async def stream(pcm: Pcm16, seconds: float | None = None) -> None:
                """Sends PCM (or silence for `seconds`) paced at real time."""
                n = len(pcm) // FRAME if seconds is None else int(seconds * 50)
                start = time.monotonic()
                for i in range(n):
                    if line.closed.is_set():
                        return
                    frame = pcm[i * FRAME : (i + 1) * FRAME] if seconds is None else SILENCE
                    await send(frame)
                    await asyncio.sleep(max(0.0, start + (i + 1) * 0.02 - time.monotonic()))

            async def keep_line_open(until: asyncio.Task[None]) -> None:
                """Streams silence while waiting, like a real phone line."""
                while not until.done() and not line.closed.is_set():
                    await stream(SILENCE, seconds=0.2)

            await ws.send_str(twilio.connected_message())
            params = {"caller": caller, "language": language}
            await ws.send_str(twilio.start_message(stream_sid, call_sid, custom_parameters=params))
            if wait_for_greeting:
                waiter = asyncio.create_task(_wait_for_answer(line, 0.0, answer_timeout, 0.8))
                await keep_line_open(waiter)
            if lead_silence_s:
                await stream(SILENCE, seconds=lead_silence_s)
            for n, pcm in enumerate(utterances):
                began = line.now()
                if isinstance(pcm, str):  # keypad digits instead of speech
                    for digit in pcm:
                        await ws.send_str(twilio.dtmf_message(stream_sid, digit))
                        await stream(SILENCE, seconds=0.1)
                    spans.append((began, line.now()))
                    waiter = asyncio.create_task(
                        _wait_for_answer(line, line.now(), answer_timeout, quiet_after_answer)
                    )
                    await keep_line_open(waiter)
                    continue
                if hangup_after_s is not None and n == len(utterances) - 1:
                    await stream(pcm[: int(hangup_after_s * RATE)])
                    spans.append((began, line.now()))
                    break
                await stream(pcm)
                spans.append((began, line.now()))
                waiter = asyncio.create_task(
                    _wait_for_answer(line, line.now(), answer_timeout, quiet_after_answer)
                )
                await keep_line_open(waiter)
            if dtmf:
                for digit in dtmf:
                    await ws.send_str(twilio.dtmf_message(stream_sid, digit))
                    await stream(SILENCE, seconds=0.1)
                waiter = asyncio.create_task(
                    _wait_for_answer(line, line.now(), answer_timeout, quiet_after_answer)
                )
                await keep_line_open(waiter)
            if not line.closed.is_set():
                with contextlib.suppress(ConnectionError):
                    await ws.send_str(twilio.stop_message(stream_sid, call_sid))
                await ws.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(receiver, 5)
        result = CallResult(
            call_sid=call_sid,
            stream_sid=stream_sid,
            bot_audio=line.timeline(),
            marks=line.marks,
            clears=line.clears,
            speech_spans=spans,
            close_code=line.close_code,
            close_reason=line.close_reason,
            platform_call_id=call_sid,
        )
        if api_token:
            result.record = await fetch_record(http, url, call_sid, api_token)
            if result.record:  # the gateway keys the call with an id of its own
                result.call_sid = str(result.record.get("call_id") or call_sid)
    return result


def media_headers(media_token: str | None = None) -> dict[str, str]:
    """The upgrade headers that authenticate a stream: the media token as a bearer token,
    given or from $VOICEBOT_MEDIA_TOKEN (the test stack sets it); none without a token."""
    token = media_token or os.environ.get("VOICEBOT_MEDIA_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def api_base(ws_url: str) -> str:
    """http://host:port for a ws://host:port/... media URL."""
    scheme, rest = ws_url.split("://", 1)
    host = rest.split("/", 1)[0]
    return f"{'https' if scheme == 'wss' else 'http'}://{host}"


async def fetch_record(
    http: aiohttp.ClientSession, ws_url: str, call_sid: str, token: str, timeout: float = 15.0
) -> dict[str, Any] | None:
    """Reads the call record once the gateway has closed it (ended_at set); `call_sid` is the
    platform's id (the API finds the latest call by it) or the gateway's."""
    url = f"{api_base(ws_url)}/api/calls/{quote(call_sid, safe='')}"
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + timeout
    record: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        async with http.get(url, headers=headers) as resp:
            if resp.status == 200:
                record = await resp.json()
                if record and record.get("ended_at"):
                    return record
            elif resp.status == 401:
                raise PermissionError("the API refused the token: set VOICEBOT_API_TOKEN")
        await asyncio.sleep(0.2)
    return record


def save_wav(path: Path, pcm: Pcm16) -> None:
    """Writes 8 kHz mono 16-bit PCM."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, pcm, RATE, subtype="PCM_16")


def format_dialogue(record: dict[str, Any]) -> str:
    """The call record as a readable German dialogue."""
    lines = [f"Anruf {record['call_id']} ({record.get('end_reason') or 'läuft'})"]
    for turn in record.get("turns", []):
        who = "Bot     " if turn["speaker"] == "bot" else "Anrufer "
        extra = []
        if turn.get("intent"):
            extra.append(f"intent={turn['intent']}")
        if turn.get("asr_confidence") is not None:
            extra.append(f"asr={turn['asr_confidence']:.2f}")
        for stage in ("endpointing_ms", "asr_ms", "dialogue_ms", "tts_first_audio_ms"):
            if turn.get(stage) is not None:
                extra.append(f"{stage.removesuffix('_ms')}={turn[stage]:.0f}ms")
        if turn.get("interrupted"):
            extra.append("unterbrochen")
        if not turn.get("complete", True):
            extra.append("unvollständig")
        suffix = f"  [{', '.join(extra)}]" if extra else ""
        lines.append(f"{who}: {turn['text']}{suffix}")
    if record.get("handoff_department"):
        lines.append(
            f"Übergabe an {record['handoff_department']} (Grund: {record.get('handoff_reason')})"
        )
    return "\n".join(lines)

"""Helpers for the SIP tests: sipp runs, raw G.711 fixtures, an RTP capture socket, records."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from tests.support import FIXTURES, ROOT, Stack
from voicebot.protocol.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from voicebot.protocol.rtp import parse_rtp

PEERS = ROOT / "tests" / "peers"
SIPP = shutil.which("sipp")
BARESIP = shutil.which("baresip")
SIPP_PCAPS = Path("/usr/share/sip-tester")
CODECS = {"PCMU": (0, ulaw_encode, ulaw_decode), "PCMA": (8, alaw_encode, alaw_decode)}


def sip_port(stack: Stack) -> int:
    """The stack's SIP port."""
    return int(stack.env["VOICEBOT_SIP_PORT"])


def raw_g711(name: str, codec: str, directory: Path, pad_s: float = 0.0) -> Path:
    """A fixture as headerless G.711 (sipp's rtp_stream does not skip WAV headers)."""
    pcm, rate = sf.read(FIXTURES / name, dtype="int16")
    assert rate == 8000, f"{name} is {rate} Hz, expected 8000"
    pcm = np.concatenate([pcm, np.zeros(int(pad_s * 8000), dtype=np.int16)])
    path = directory / f"{Path(name).stem}.{codec.lower()}"
    path.write_bytes(CODECS[codec][1](pcm))
    return path


@dataclass
class RtpCapture:
    """A UDP socket that records every RTP packet the bot sends to it (the caller's SDP port)."""

    sock: socket.socket = field(
        default_factory=lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    )
    packets: list[tuple[float, bytes]] = field(default_factory=list)
    peer: tuple[str, int] | None = None  # where the bot's RTP comes from (its SDP port)
    _thread: threading.Thread | None = None
    _stop: bool = False

    def __post_init__(self) -> None:
        self._wall_offset = time.time() - time.monotonic()  # packet times -> wall clock
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _run(self) -> None:
        while not self._stop:
            try:
                data, addr = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            self.peer = self.peer or (addr[0], addr[1])
            self.packets.append((time.monotonic(), data))

    def wait_for_bot(self, timeout: float = 20) -> tuple[str, int]:
        """The bot's RTP address, once its first packet (the greeting) has arrived."""
        deadline = time.monotonic() + timeout
        while self.peer is None:
            assert time.monotonic() < deadline, "no RTP from the bot"
            time.sleep(0.02)
        return self.peer

    def close(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join(2)
        self.sock.close()

    def audio(self, codec: str) -> np.ndarray:
        """The received audio decoded in sequence order (gaps by timestamp filled with silence)."""
        return _decode([d for _, d in self.packets], codec)

    def audio_of_turn(self, codec: str, turn: dict[str, Any], margin_s: float = 0.1) -> np.ndarray:
        """The audio that arrived while the record says a bot turn played (its started_at to
        ended_at, wall clock, plus a margin for the network and the timer granularity)."""
        start = datetime.fromisoformat(turn["started_at"]).timestamp() - margin_s
        end = datetime.fromisoformat(turn["ended_at"]).timestamp() + margin_s
        return _decode([d for t, d in self.packets if start <= t + self._wall_offset <= end], codec)


def _decode(datagrams: list[bytes], codec: str) -> np.ndarray:
    """RTP audio packets decoded by timestamp (gaps filled with silence); DTMF events skipped."""
    pkts = sorted(
        (p for p in map(parse_rtp, datagrams) if p.payload_type == CODECS[codec][0]),
        key=lambda p: p.timestamp,
    )
    if not pkts:
        return np.zeros(0, dtype=np.int16)
    start = pkts[0].timestamp
    end = pkts[-1].timestamp + len(pkts[-1].payload)
    out = np.zeros(end - start, dtype=np.int16)
    for p in pkts:
        pcm = CODECS[codec][2](p.payload)
        out[p.timestamp - start : p.timestamp - start + len(pcm)] = pcm
    return out


def send_caller_rtp(
    sock: socket.socket,
    dest: tuple[str, int],
    pcm: np.ndarray,
    codec: str,
    *,
    key: str,
    key_at_s: float,
    event_pt: int = 101,
) -> None:
    """Sends `pcm` from `sock` to `dest` as 20 ms G.711 RTP paced at real time, and one RFC 4733
    key press at `key_at_s`, in the same stream (one SSRC, one sequence, one clock).

    Like a phone, the event packets replace the audio while the key is down: a start packet
    (marker), four updates with a growing duration, then the end packet three times (§2.5.1.4);
    all carry the event's start timestamp. Audio resumes where the clock has got to.
    """
    encode = CODECS[codec][1]
    audio_pt = CODECS[codec][0]
    ssrc, seq, ts0 = 0x5EED0001, 1000, 80000
    event_code = "0123456789*#".index(key)
    key_frame = int(key_at_s * 50)
    event = [(160 * n, False) for n in range(1, 6)] + [(960, True)] * 3
    frames = len(pcm) // 160
    start = time.monotonic()
    for n in range(frames):
        ts = ts0 + 160 * n
        if key_frame <= n < key_frame + len(event):
            duration, end = event[n - key_frame]
            header = struct.pack(
                "!BBHII",
                0x80,
                (0x80 if n == key_frame else 0) | event_pt,
                seq,
                ts0 + 160 * key_frame,
                ssrc,
            )
            payload = struct.pack("!BBH", event_code, (0x80 if end else 0) | 10, duration)
        else:
            marker = 0x80 if n == 0 else 0
            header = struct.pack("!BBHII", 0x80, marker | audio_pt, seq, ts, ssrc)
            payload = encode(pcm[n * 160 : (n + 1) * 160])
        sock.sendto(header + payload, dest)
        seq = (seq + 1) & 0xFFFF
        time.sleep(max(0.0, start + (n + 1) * 0.02 - time.monotonic()))


def run_sipp(
    stack: Stack,
    scenario: str,
    workdir: Path,
    keys: dict[str, str],
    *,
    timeout: float = 90,
    transport: str = "u1",
) -> subprocess.CompletedProcess[str]:
    """Runs one sipp call of a scenario from tests/peers against the stack; returns the result."""
    assert SIPP is not None
    pcap = workdir / "pcap"
    if not pcap.exists():
        pcap.symlink_to(SIPP_PCAPS)
    text = (PEERS / scenario).read_text(encoding="iso-8859-1")
    for key, value in keys.items():  # sipp expands -key values in messages only: fill in here
        text = text.replace(f"[{key}]", value)
    filled = workdir / scenario
    filled.write_text(text, encoding="iso-8859-1")
    argv = [SIPP, "-sf", str(filled), f"127.0.0.1:{sip_port(stack)}"]
    argv += ["-i", "127.0.0.1", "-p", str(_even_port()), "-mi", "127.0.0.1"]
    argv += ["-mp", str(_even_port())]
    argv += ["-m", "1", "-nostdin", "-timeout", f"{int(timeout)}s", "-timeout_error"]
    argv += ["-t", transport, "-trace_msg", "-message_file", str(workdir / "messages.log")]
    return subprocess.run(argv, cwd=workdir, capture_output=True, text=True, timeout=timeout + 30)


def _even_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port % 2 == 0 and port < 65000:
            return port


def api(stack: Stack, path: str) -> Any:
    """GET a JSON API path of the stack."""
    req = urllib.request.Request(
        stack.http_url + path, headers={"Authorization": f"Bearer {stack.token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def metrics(stack: Stack) -> dict[str, int]:
    """The gateway's counters from /health."""
    req = urllib.request.Request(stack.http_url + "/health")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:  # 503 while e.g. Rasa restarts still has a body
        body = json.loads(exc.read())
    return dict(body.get("metrics", {}))


def record_of(stack: Stack, call_id: str, timeout: float = 30) -> dict[str, Any]:
    """The finished call record of a SIP Call-ID."""
    deadline = time.monotonic() + timeout
    record: dict[str, Any] = {}
    quoted = urllib.parse.quote(call_id, safe="")
    while time.monotonic() < deadline:
        try:
            record = api(stack, f"/api/calls/{quoted}")
            if record.get("ended_at"):
                return record
        except urllib.error.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"no finished record for {call_id}: {record}")


def call_ids(messages: Path) -> list[str]:
    """The Call-IDs sipp used, from its message trace."""
    found: list[str] = []
    for line in messages.read_text(errors="replace").splitlines():
        if line.lower().startswith("call-id:"):
            value = line.split(":", 1)[1].strip()
            if value not in found:
                found.append(value)
    return found


def env_with_path() -> dict[str, str]:
    return dict(os.environ)


# stems of the opening-hours answer; the German fallback voice is robotic, so check loosely
ANSWER_WORDS = ("uhr", "monta", "freita", "bürger", "burger", "öffne", "zwölf", "acht")


def utterances(pcm: np.ndarray, rate: int = 8000, gap_s: float = 0.4) -> list[np.ndarray]:
    """The audio cut at pauses of gap_s into utterances (at most 12 s each, 200 ms margins)."""
    frame = rate // 50
    n = len(pcm) // frame
    frames = pcm[: n * frame].astype(np.float64).reshape(n, frame)
    voiced = np.sqrt((frames**2).mean(axis=1)) > 300
    spans: list[tuple[int, int]] = []
    start, quiet = -1, 0
    for i, is_voiced in enumerate(voiced):
        if is_voiced:
            start, quiet = (i if start < 0 else start), 0
            continue
        if start < 0:
            continue
        quiet += 1
        if quiet * 0.02 >= gap_s or (i - start) * 0.02 >= 12.0:
            spans.append((start, i - quiet + 1))
            start, quiet = -1, 0
    if start >= 0:
        spans.append((start, n))
    margin = 10 * frame
    return [pcm[max(0, a * frame - margin) : b * frame + margin] for a, b in spans if b - a >= 10]


def bot_words_heard(whisper: Any, pcm: np.ndarray, record: dict[str, Any]) -> tuple[bool, str]:
    """Whether Whisper hears in the bot's audio words the record says the bot spoke.

    Loose on purpose: the German fallback voice is robotic and Whisper base often mishears it,
    so a word counts when it is close (difflib ratio >= 0.8) to a 4+ letter word the bot said,
    or one of the opening-hours stems appears.
    """
    from voicebot.tools import normalise, transcribe_phone

    said = [t["text"] for t in record["turns"] if t["speaker"] == "bot"]
    expected = {w for text in said for w in normalise(text).split() if len(w) >= 4}
    # one utterance at a time: over a whole call Whisper base may return nothing for this voice
    heard = normalise(" ".join(transcribe_phone(whisper, u, 8000) for u in utterances(pcm)))
    words = heard.split()
    close = [
        w for w in words
        if any(difflib.SequenceMatcher(None, w, e).ratio() >= 0.8 for e in expected)
    ]  # fmt: skip
    stems = [s for s in ANSWER_WORDS if s in heard]
    return bool(close or stems), f"heard {heard!r} (matching {close + stems}), said {said}"


def answer_words_heard(
    whisper: Any, pcm: np.ndarray, forms: Mapping[str, tuple[str, ...]]
) -> tuple[list[str], str]:
    """Which words of one bot turn Whisper hears in that turn's audio, and its transcript.

    Strict where `bot_words_heard` is loose: `pcm` is the audio of one turn only, and `forms`
    maps each word of that turn to the spellings Whisper base was seen to write for it in the
    bot's voice (substrings of the normalised transcript). Decoded with beam search, utterance
    by utterance: greedy decoding of this voice falls into repetition loops.
    """
    from voicebot.audio.resample import resample
    from voicebot.tools import WHISPER_RATE, normalise

    texts = []
    for utterance in utterances(pcm):
        audio = resample(utterance, 8000, WHISPER_RATE).astype(np.float32) / 32768.0
        segments, _ = whisper.transcribe(
            audio,
            language="de",
            beam_size=5,
            temperature=0.0,
            without_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
        )
        texts.append(" ".join(seg.text.strip() for seg in segments))
    heard = normalise(" ".join(texts))
    return [word for word, seen in forms.items() if any(f in heard for f in seen)], heard

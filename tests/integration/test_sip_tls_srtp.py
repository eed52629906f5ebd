"""SIP over TLS with SRTP (issue 12, finding 15) with a real peer: baresip dials a gateway whose
TLS listener has a self-signed certificate (made here with openssl) and whose `[sip] srtp` is
"required". baresip (libre with OpenSSL, module srtp.so) does SIP over TLS and SDES-SRTP.

sipp cannot be the peer here: Debian's sip-tester 3.6.1 is built without OpenSSL
(`sipp -t l1` exits with "To use a TLS transport you must compile SIPp with OpenSSL"), and
sipp has no SRTP for RTP it streams from a file.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.integration.sip_peers import BARESIP, PEERS
from tests.support import FIXTURES, Stack, free_port, running_gateway, stack_env, voiced_seconds
from tests.unit.test_sip_tls_srtp import self_signed

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(BARESIP is None, reason="baresip is not installed (baresip-core)"),
]
LEAD_S = 11.0  # the greeting plays first; the question comes after it
CALL_S = 34


@pytest.fixture(scope="module")
def tls_gateway(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A gateway with SIP over TLS and SRTP required, talking to the session stack's Rasa."""
    data_dir = tmp_path_factory.mktemp("tls-gateway")
    cert, key = self_signed(data_dir)
    env = stack_env(
        data_dir,
        VOICEBOT_RASA_URL=stack.env["VOICEBOT_RASA_URL"],
        VOICEBOT_RASA_ACTIONS_URL=stack.env["VOICEBOT_RASA_ACTIONS_URL"],
        VOICEBOT_RASA_TOKEN=stack.env["VOICEBOT_RASA_TOKEN"],
        VOICEBOT_SIP_TRANSPORTS="udp,tcp,tls",
        VOICEBOT_SIP_TLS_PORT=str(free_port()),
        VOICEBOT_SIP_TLS_CERT_FILE=str(cert),
        VOICEBOT_SIP_TLS_KEY_FILE=str(key),
        VOICEBOT_SIP_SRTP="required",
        VOICEBOT_SIP_RING_MS="0",
    )
    with running_gateway(data_dir, env):
        yield env


def _get(env: dict[str, str], path: str) -> Any:
    base = f"http://127.0.0.1:{env['VOICEBOT_PORT']}"
    req = urllib.request.Request(
        base + path, headers={"Authorization": f"Bearer {env['VOICEBOT_API_TOKEN']}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:  # /health answers 503 with its body while degraded
        return json.loads(exc.read())


def _metrics(env: dict[str, str]) -> dict[str, int]:
    return dict(_get(env, "/health").get("metrics", {}))


def _newest_record(env: dict[str, str], timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    record: dict[str, Any] = {}
    while time.monotonic() < deadline:
        calls = _get(env, "/api/calls?limit=1")
        if isinstance(calls, list) and calls:
            record = _get(env, f"/api/calls/{calls[0]['call_id']}")
            if record.get("ended_at"):
                return record
        time.sleep(0.3)
    raise AssertionError(f"no finished call record: {record}")


def _caller_wav(directory: Path) -> Path:
    pcm, rate = sf.read(FIXTURES / "oeffnungszeiten_allgemein.wav", dtype="int16")
    silence = np.zeros(int(LEAD_S * rate), dtype=np.int16)
    tail = np.zeros(int((CALL_S + 10) * rate), dtype=np.int16)
    path = directory / "caller.wav"
    sf.write(path, np.concatenate([silence, pcm, tail]), rate, subtype="PCM_16")
    return path


def _baresip(directory: Path, cafile: Path, mediaenc: str | None) -> tuple[Path, Path]:
    """A headless baresip config (tests/peers/baresip) with SRTP and our CA; (conf, recordings)."""
    conf, recordings = directory / "baresip", directory / "rec"
    conf.mkdir()
    recordings.mkdir()
    sip_port, rtp = free_port(), free_port() // 2 * 2
    values = {
        "@SIP_PORT@": str(sip_port),
        "@AUDIO_WAV@": str(_caller_wav(directory)),
        "@RTP_MIN@": str(rtp),
        "@RTP_MAX@": str(rtp + 9),
        "@RECORDING_DIR@": str(recordings),
        "@CODEC@": "PCMA",
    }
    for name in ("config", "accounts"):
        text = (PEERS / "baresip" / name).read_text()
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        if name == "config":  # trust the gateway's certificate; load the SDES-SRTP module
            text += f"sip_cafile\t\t{cafile}\nmodule\t\t\tsrtp.so\n"
        elif mediaenc:
            text = text.rstrip("\n") + f";mediaenc={mediaenc}\n"
        (conf / name).write_text(text)
    (conf / "contacts").write_text("")
    return conf, recordings


def _dial(conf: Path, target: str, seconds: int) -> str:
    run = subprocess.run(
        [str(BARESIP), "-f", str(conf), "-t", str(seconds), "-e", f"/dial {target}"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    )
    return run.stdout[-4000:] + run.stderr[-2000:]


def test_a_call_over_tls_with_srtp_is_answered_by_voice(
    tls_gateway: dict[str, str], tmp_path: Path
) -> None:
    env = tls_gateway
    cert = Path(env["VOICEBOT_SIP_TLS_CERT_FILE"])
    conf, recordings = _baresip(tmp_path, cert, "srtp-mand")
    before = _metrics(env)
    target = f"sip:bot@127.0.0.1:{env['VOICEBOT_SIP_TLS_PORT']};transport=tls"
    log = _dial(conf, target, CALL_S)
    assert "Call established" in log and "transport=tls" in log, log
    assert "SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)" in log, log
    after = _metrics(env)
    assert after.get("sip_srtp_calls", 0) == before.get("sip_srtp_calls", 0) + 1, after
    assert after.get("srtp_rejected", 0) == before.get("srtp_rejected", 0), after
    # the bot's SRTP, decrypted by baresip: the greeting and the answer
    received = sorted(recordings.glob("dump-*-dec.wav"))
    assert received, f"baresip recorded nothing\n{log}"
    pcm, _ = sf.read(received[-1], dtype="int16")
    assert voiced_seconds(pcm) > 6.0, "no greeting and answer over SRTP"
    # the caller's SRTP, decrypted by the gateway: the question was heard and answered
    record = _newest_record(env)
    assert any(t["speaker"] == "caller" and t["text"] for t in record["turns"]), record
    assert sum(t["speaker"] == "bot" for t in record["turns"]) >= 2, record
    # no key material in the gateway's log
    gateway_log = (Path(env["VOICEBOT_DATA_DIR"]) / "gateway.log").read_text(errors="replace")
    assert "inline:" not in gateway_log and "a=crypto" not in gateway_log


@pytest.mark.parametrize(
    ("transport", "mediaenc"),
    [("tls", None), ("udp", "srtp-mand")],
    ids=["tls-without-key", "srtp-over-udp"],
)
def test_a_required_srtp_line_refuses_calls_without_srtp_over_tls(
    tls_gateway: dict[str, str], tmp_path: Path, transport: str, mediaenc: str | None
) -> None:
    env = tls_gateway
    conf, _ = _baresip(tmp_path, Path(env["VOICEBOT_SIP_TLS_CERT_FILE"]), mediaenc)
    before = _metrics(env).get("calls_started", 0)
    port = env["VOICEBOT_SIP_TLS_PORT"] if transport == "tls" else env["VOICEBOT_SIP_PORT"]
    log = _dial(conf, f"sip:bot@127.0.0.1:{port};transport={transport}", 6)
    assert "488" in log and "Call established" not in log, log
    assert _metrics(env).get("calls_started", 0) == before

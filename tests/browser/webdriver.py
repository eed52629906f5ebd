"""A minimal W3C WebDriver client for Debian's chromedriver driving headless Chromium.

Only what the console test needs: navigate, find, click, type, read text, run a script,
screenshot. chromedriver comes from the Debian package `chromium-driver`, built from the same
source as `chromium`, so their versions always match.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.support import free_port

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C element reference key
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
T = TypeVar("T")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=de-DE",
]


class WebDriverError(RuntimeError):
    """chromedriver answered with an error."""


class Browser:
    """One headless Chromium session of a private chromedriver."""

    def __init__(self, width: int = 1366, height: int = 768, args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.profile = Path(tempfile.mkdtemp(prefix="voicebot-chromium-"))
        self.driver = subprocess.Popen(
            [str(CHROMEDRIVER), f"--port={self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._base = f"http://127.0.0.1:{self.port}"
        self._wait_for_driver()
        options = {
            "binary": str(CHROMIUM),
            "args": [*CHROMIUM_FLAGS, f"--user-data-dir={self.profile}"]
            + [f"--window-size={width},{height}", *args],
        }
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]
        # the page gets exactly width x height (the window's own frame would take some of it)
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self._session(
            "POST",
            "/goog/cdp/execute",
            {"cmd": "Emulation.setDeviceMetricsOverride", "params": metrics},
        )

    def _wait_for_driver(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self._base + "/status", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise WebDriverError("chromedriver did not start")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self._base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:
                return json.loads(resp.read())["value"]
        except urllib.error.HTTPError as exc:
            detail = json.loads(exc.read() or b"{}").get("value", {})
            raise WebDriverError(f"{method} {path}: {detail.get('message', exc)}") from exc

    def _session(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    # ---- what tests use --------------------------------------------------------------------
    def get(self, url: str) -> None:
        """Navigates and waits for the page load."""
        self._session("POST", "/url", {"url": url})

    @property
    def url(self) -> str:
        """The current URL."""
        return str(self._session("GET", "/url"))

    def find(self, css: str) -> str:
        """The first element matching a CSS selector (raises if there is none)."""
        return str(
            self._session("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]
        )

    def find_all(self, css: str) -> list[str]:
        """Every element matching a CSS selector."""
        found = self._session("POST", "/elements", {"using": "css selector", "value": css})
        return [str(e[ELEMENT]) for e in found]

    def click(self, css: str) -> None:
        """Clicks the first element matching the selector."""
        self._session("POST", f"/element/{self.find(css)}/click", {})

    def type(self, css: str, text: str) -> None:
        """Types into an input."""
        self._session("POST", f"/element/{self.find(css)}/value", {"text": text})

    def text(self, css: str) -> str:
        """The visible text of the first element matching the selector."""
        return str(self._session("GET", f"/element/{self.find(css)}/text"))

    def run(self, script: str, *args: Any) -> Any:
        """Runs JavaScript in the page and returns its result."""
        return self._session("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait(self, what: Callable[[], T], timeout: float = 30.0, message: str = "") -> T:
        """Polls until `what()` returns something truthy without raising."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                value = what()
                if value:
                    return value
            except WebDriverError as exc:
                last = exc
            time.sleep(0.2)
        raise AssertionError(f"timed out: {message} {last or ''}")

    def screenshot(self, path: Path) -> None:
        """Saves a PNG of the viewport."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self._session("GET", "/screenshot")))

    def quit(self) -> None:
        """Ends the session, chromedriver and the profile."""
        with contextlib.suppress(WebDriverError, urllib.error.URLError, ConnectionError):
            self._session("DELETE", "")
        self.driver.terminate()
        try:
            self.driver.wait(10)
        except subprocess.TimeoutExpired:
            self.driver.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

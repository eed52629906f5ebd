"""The agent console and the requests API served in-process on a free port, for browser tests
that need no models, Rasa or calls (the stored requests): the real middleware and routes over a
fresh SQLite database, on an event loop in a background thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web

from tests.support import AGENTS, free_port
from voicebot.config import ConsoleSettings, Settings
from voicebot.gateway import Gateway
from voicebot.web.agent_api import add_handoff_api
from voicebot.web.agent_auth import agent_auth, hash_password
from voicebot.web.agent_console import add_agent_console
from voicebot.web.app import api_auth
from voicebot.web.keys import GATEWAY
from voicebot.web.requests_api import add_requests_api

Self = TypeVar("Self", bound="InProcessServer")


class InProcessServer:
    """A gateway's web app on a free port, on an event loop in a background thread:
    `with Server(...) as server:` serves at `server.url` until the block ends. Subclasses add
    their routes and data in `setup` and undo what they started in `teardown`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def setup(self, app: web.Application, gateway: Gateway) -> None:
        """Adds the routes; the store is opened before and closed after."""

    async def teardown(self, gateway: Gateway) -> None:
        """Stops what `setup` started (the store is closed after)."""

    async def _serve(self) -> None:
        gateway = Gateway(self.settings)
        app = web.Application(middlewares=[api_auth, agent_auth])
        app[GATEWAY] = gateway
        await gateway.store.open()
        await self.setup(app, gateway)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()
            await self.teardown(gateway)
            await gateway.store.close()

    def __enter__(self: Self) -> Self:
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError(f"{type(self).__name__} did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)


class ConsoleServer(InProcessServer):
    """The agent console and the requests API over a fresh SQLite database."""

    def __init__(self, data_dir: Path) -> None:
        self.token = "browser-test-token"
        agents = {name: hash_password(password) for name, password in AGENTS.items()}
        super().__init__(
            Settings(
                data_dir=data_dir, api_token=self.token, console=ConsoleSettings(agents=agents)
            )
        )

    async def setup(self, app: web.Application, gateway: Gateway) -> None:
        add_handoff_api(app)
        add_requests_api(app)
        add_agent_console(app, ZoneInfo("Europe/Berlin"))
        gateway.mailer.start()

    async def teardown(self, gateway: Gateway) -> None:
        await gateway.mailer.stop()

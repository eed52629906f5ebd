"""The aiohttp application keys of the web layer (the gateway object the handlers share)."""

from __future__ import annotations

from aiohttp import web

from voicebot.gateway import Gateway

GATEWAY = web.AppKey("gateway", Gateway)

"""The transports: asyncio adapters between the wire and a call's session.

`twilio_ws` (Twilio Media Streams over a WebSocket) and `sip` (a SIP UAS with RTP) only
translate the wire; each call is admitted, started and ended by `voicebot.lifecycle`.
"""

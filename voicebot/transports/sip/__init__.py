"""SIP UAS over UDP and TCP: the asyncio side of the sans-I/O core in `voicebot.protocol.sip`.

`server` routes messages; `endpoint` owns the sockets; `transactions` drives the protocol's
state machines on the loop clock; `access` decides who may call; `calls` runs each call from
INVITE to BYE (its state in `call`); `sink` is the pipeline's way back (RTP, REFER through
`transfer`); `rtp` is one call's media; `register` keeps an optional registration alive.
"""

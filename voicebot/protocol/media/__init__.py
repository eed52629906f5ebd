"""Sans-I/O media-stream protocols spoken by telephony front ends (e.g. Twilio Media Streams)."""

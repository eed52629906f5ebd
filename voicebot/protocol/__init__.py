"""Sans-I/O wire protocols: pure parsers and serializers with no network or event loop."""

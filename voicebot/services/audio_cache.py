"""A byte-bounded LRU cache of synthesised sentences: bot answers repeat all day."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from voicebot.audio.resample import Pcm16


class AudioCache:
    """Least recently used audio buffers up to `max_bytes` in total; thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, Pcm16] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size_bytes(self) -> int:
        """Bytes of audio held now."""
        return self._bytes

    def get(self, key: Hashable) -> Pcm16 | None:
        """The buffer for `key` (now the most recently used), or None."""
        with self._lock:
            audio = self._items.get(key)
            if audio is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return audio

    def put(self, key: Hashable, audio: Pcm16) -> None:
        """Stores a read-only view of `audio`, evicting the least recently used beyond the bound."""
        if audio.nbytes > self.max_bytes:
            return
        audio = audio.view()
        audio.flags.writeable = False
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._items[key] = audio
            self._bytes += audio.nbytes
            while self._bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= evicted.nbytes

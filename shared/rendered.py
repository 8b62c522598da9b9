"""Public outputs rendered once per change (feeds, the map, overviews), kept in the process.

A rendering is kept under what the request asks (its key) with the revision of the data
read before rendering (shared.revisions); it serves any later request whose revision is no
newer. What changes by the mere passing of time (a place that becomes public hours before an
event) is not in the revision: the renderer says when its output would next change that
way, and the rendering is not served from then on.

Each process keeps its own (a few dozen megabytes at most, least recently used first out);
every process reads the revision from the database, so none serves what another one's write
has changed.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Hashable

from shared.db import utcnow

MAX_BYTES = 64 * 2**20  # per service and process: a 10,000-event calendar is about 5 MB
MAX_ENTRIES = 64


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str  # a hash of the body: equal bodies, equal tags, in every process
    revision: int
    changes_at: datetime | None  # when time alone would change the output; None: never


class RenderedCache:
    """Renderings by key, the least recently used dropped first beyond MAX_BYTES or
    MAX_ENTRIES. Only one thread renders a key at a time; the others wait for its result."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES):
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self._entries: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._rendering: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, revision: int, render: Callable[[], tuple[bytes, datetime | None]]) -> Rendered:
        """The rendering of `key` at `revision` or newer; `render()` answers (body, changes_at)
        and must read the data after the revision was read."""
        kept = self._usable(key, revision)
        if kept is not None:
            return kept
        with self._lock:
            rendering = self._rendering.setdefault(key, threading.Lock())
        try:
            with rendering:
                kept = self._usable(key, revision)  # rendered meanwhile by the thread we waited for
                if kept is not None:
                    return kept
                body, changes_at = render()
                made = Rendered(body, self.etag_of(body), revision, changes_at)
                self._keep(key, made)
                return made
        finally:
            with self._lock:
                self._rendering.pop(key, None)

    @staticmethod
    def etag_of(body: bytes) -> str:
        """A hash of the body: equal bodies, equal tags, in every process."""
        return hashlib.blake2b(body, digest_size=16).hexdigest()

    def _usable(self, key: Hashable, revision: int) -> Rendered | None:
        with self._lock:
            kept = self._entries.get(key)
            if kept is None or kept.revision < revision or (kept.changes_at is not None
                                                             and utcnow() >= kept.changes_at):
                return None
            self._entries.move_to_end(key)
            return kept

    def _keep(self, key: Hashable, made: Rendered) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            self._bytes -= len(old.body) if old is not None else 0
            if len(made.body) > self.max_bytes:
                return  # larger than the whole cache: served, not kept
            self._entries[key] = made
            self._bytes += len(made.body)
            while self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)

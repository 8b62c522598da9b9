"""Public pages rendered once per change of what they show. The services answer their
overviews with ETags and a 304 when nothing changed (a revision read, not the overview's
thousands of rows): the web keeps the last answers it parsed, and the pages it rendered from
them in the kernel's cache of renderings (shared.rendered: bounded in bytes and entries, one
thread renders a page while the others wait), keyed by what shapes the page and the sources'
ETags — a change is a new key, and the old page ages out."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

from shared.rendered import RenderedCache

PAGE_BYTES = 64 * 2**20  # a 5,000-event campaign's page is about 1 MB
PAGES = 64


class Kept:
    """A bounded map, least recently used out first; safe across a process's threads."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
            return self.items.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


class RenderedPages:
    """Sources by what they come from (their ETags beside them), bounded by count: a
    5,000-event campaign's parsed overview is some 8 MB. Pages in a RenderedCache."""

    def __init__(self, sources: int = 4, pages: int = PAGES, page_bytes: int = PAGE_BYTES):
        self.sources = Kept(sources)
        self.pages = RenderedCache(max_bytes=page_bytes, max_entries=pages)

    def page(self, source_key: Hashable, page_key: Hashable | None, fetch: Callable[[tuple | None], tuple],
             render: Callable[[Any], str]) -> tuple[bytes, str]:
        """(html, its ETag). `fetch(known)` gets the sources, given the ones kept (None at
        first): it answers (sources, etags), reusing what a 304 said is unchanged. A page_key
        of None is one reader's page: rendered, never kept; so is a page made from a source
        that could not say its version."""
        known = self.sources.get(source_key)
        sources, etags = fetch(known)
        if known is None or known[1] != etags:
            self.sources.put(source_key, (sources, etags))
        if page_key is None or None in etags:
            html = render(sources).encode()
            return html, RenderedCache.etag_of(html)
        made = self.pages.get((page_key, etags), 0, lambda: (render(sources).encode(), None))
        return made.body, made.etag

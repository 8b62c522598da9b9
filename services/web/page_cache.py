"""Public pages rendered once per change of what they show. The services answer their
overviews with ETags and a 304 when nothing changed (a revision read, not the overview's
thousands of rows): the web keeps the last answers it parsed and the pages it rendered from
them, in each process, bounded — the day of action's readers ask for the same few pages."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable


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
    """Sources by what they come from (their ETags beside them); pages by everything that
    shapes them, each with the sources' ETags it was made from and an ETag of its own.
    Bounded by count: a 5,000-event campaign's parsed overview is some 8 MB, its page 1 MB."""

    def __init__(self, sources: int = 4, pages: int = 64):
        self.sources, self.pages = Kept(sources), Kept(pages)
        self.rendering, self.lock = {}, threading.Lock()

    def page(self, source_key: Hashable, page_key: Hashable | None, fetch: Callable[[tuple | None], tuple],
             render: Callable[[Any], str]) -> tuple[str, str]:
        """(html, its ETag). `fetch(known)` gets the sources, given the ones kept (None at
        first): it answers (sources, etags), reusing what a 304 said is unchanged. A page_key
        of None is one reader's page: rendered, never kept. Readers asking for the same page
        while it renders wait for it rather than render it again."""
        known = self.sources.get(source_key)
        sources, etags = fetch(known)
        if known is None or known[1] != etags:
            self.sources.put(source_key, (sources, etags))
        if page_key is None or None in etags:  # personal, or a source that could not say its version
            html = render(sources)
            return html, _etag(html)
        with self._lock_of(page_key):
            kept = self.pages.get(page_key)
            if kept is not None and kept[0] == etags:
                return kept[1], kept[2]
            html = render(sources)
            self.pages.put(page_key, (etags, html, _etag(html)))
            return html, _etag(html)

    def _lock_of(self, key: Hashable) -> threading.Lock:
        with self.lock:
            if len(self.rendering) > 4 * self.pages.size:  # locks of pages long gone
                self.rendering = {k: v for k, v in self.rendering.items() if v.locked()}
            return self.rendering.setdefault(key, threading.Lock())


def _etag(html: str) -> str:
    return hashlib.blake2b(html.encode(), digest_size=16).hexdigest()

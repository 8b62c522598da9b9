"""The campaign page kept per change: rendered again only when a source's ETag moves, never
kept for one reader, rendered once however many readers ask at the same moment."""
from __future__ import annotations

import threading
import time

from services.web.page_cache import RenderedPages


class Sources:
    def __init__(self):
        self.etag, self.fetched, self.rendered = '"1"', 0, 0

    def fetch(self, known):
        self.fetched += 1
        return ("overview", "media"), (self.etag, '"m"')

    def render(self, sources):
        self.rendered += 1
        time.sleep(0.05)
        return f"<p>{sources[0]} {self.etag}</p>"


def test_a_page_is_rendered_again_only_when_a_source_changed():
    pages, sources = RenderedPages(), Sources()
    first = pages.page("c", ("c", "en"), sources.fetch, sources.render)
    assert pages.page("c", ("c", "en"), sources.fetch, sources.render) == first and sources.rendered == 1
    sources.etag = '"2"'
    changed = pages.page("c", ("c", "en"), sources.fetch, sources.render)
    assert changed[0] == b'<p>overview "2"</p>' and changed[1] != first[1] and sources.rendered == 2


def test_one_readers_page_is_never_kept():
    pages, sources = RenderedPages(), Sources()
    for _ in range(3):
        pages.page("c", None, sources.fetch, sources.render)
    assert sources.rendered == 3 and not pages.pages._entries


def test_readers_asking_at_once_wait_for_one_rendering():
    pages, sources = RenderedPages(), Sources()
    threads = [threading.Thread(target=pages.page, args=("c", ("c", "en"), sources.fetch, sources.render))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sources.rendered == 1 and sources.fetched == 8


def test_the_pages_kept_are_bounded():
    pages, sources = RenderedPages(pages=3), Sources()
    for n in range(10):
        pages.page("c", ("c", n), sources.fetch, lambda s: "x")
    assert len(pages.pages._entries) == 3

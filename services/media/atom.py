"""Atom (RFC 4287) feeds of published reports for the campaign website, with their photos'
smaller copies as enclosures. Built with ElementTree, so every text is escaped."""
from __future__ import annotations

from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, tostring

ATOM = "http://www.w3.org/2005/Atom"


def _text(parent: Element, tag: str, text: str, **attrs) -> Element:
    element = SubElement(parent, tag, attrs)
    element.text = text
    return element


def feed(feed_id: str, title: str, self_url: str, updated: datetime, entries: list[dict]) -> bytes:
    """`entries`: id, title, text, language, url, published, updated, country and images
    (url, content_type, size) each."""
    root = Element("feed", {"xmlns": ATOM})
    _text(root, "id", feed_id)
    _text(root, "title", title)
    _text(root, "updated", updated.isoformat())
    SubElement(root, "link", {"rel": "self", "href": self_url, "type": "application/atom+xml"})
    _text(SubElement(root, "author"), "name", "dayofaction")
    for e in entries:
        entry = SubElement(root, "entry", {"xml:lang": e["language"]})
        _text(entry, "id", e["id"])
        _text(entry, "title", e["title"])
        _text(entry, "published", e["published"].isoformat())
        _text(entry, "updated", e["updated"].isoformat())
        _text(entry, "content", e["text"], type="text")
        _text(entry, "category", "", term=e["country"])
        SubElement(entry, "link", {"rel": "alternate", "href": e["url"], "type": "application/json"})
        for image in e["images"]:
            SubElement(entry, "link", {"rel": "enclosure", "href": image["url"], "type": image["content_type"],
                                       "length": str(image["size"])})
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(root, encoding="utf-8", xml_declaration=False)

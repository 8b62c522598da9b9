"""A link to an event or a campaign pasted in a messenger: the preview a bot builds from the
page's Open Graph tags (read here as one would: no script), the schema.org Event a
search engine reads, and the share block's ready text — in the reader's language, the time in
the event's own zone, the address only once public."""
from __future__ import annotations

import json
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import urlsplit

from PIL import Image

from tests.integration.test_finding_events import approved

BOT = {"User-Agent": "TelegramBot (like TwitterBot)"}


class Preview(HTMLParser):
    """What a link-preview bot takes from a page: its meta properties and its JSON-LD."""

    def __init__(self):
        super().__init__()
        self.meta: dict[str, str] = {}
        self.ld: list[dict] = []
        self._in_ld = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and (a.get("property") or a.get("name")):
            self.meta.setdefault(a.get("property") or a["name"], a.get("content", ""))
        self._in_ld = tag == "script" and a.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_ld:
            self.ld.append(json.loads(data))
            self._in_ld = False


def preview(api, path: str, lang: str) -> Preview:
    page = api.get(f"{path}?lang={lang}", headers=BOT)
    assert page.status_code == 200
    seen = Preview()
    seen.feed(page.data.decode())
    return seen


def test_an_event_link_previews_with_its_title_local_time_and_city(api, coordinator, setting):
    hidden = approved(api, coordinator, setting, title={"fa": "تجمع همبستگی", "en": "Solidarity rally"},
                      address_public="never")
    seen = preview(api, f"/events/{hidden['id']}", "fa")
    assert seen.meta["og:title"] == "تجمع همبستگی" and seen.meta["twitter:card"] == "summary_large_image"
    assert seen.meta["og:locale"] == "fa_IR" and seen.meta["og:url"].endswith(f"/events/{hidden['id']}?lang=fa")
    assert "17:00" in seen.meta["og:description"] and "نایروبی" in seen.meta["og:description"]  # its zone's time
    assert "Uhuru" not in json.dumps(seen.meta, ensure_ascii=False)  # the address is not public
    [event] = seen.ld
    assert event["@type"] == "Event" and event["name"] == "تجمع همبستگی"
    assert event["startDate"] == "2022-12-01T17:00:00+03:00" and event["eventStatus"].endswith("EventScheduled")
    assert event["location"]["address"] == {"@type": "PostalAddress", "addressLocality": "Nairobi",
                                            "addressCountry": "KE"}
    assert [o["@type"] for o in event["organizer"]] == ["Organization"]

    public = approved(api, coordinator, setting, address_public="now")
    [event] = preview(api, f"/events/{public['id']}", "en").ld
    assert event["location"]["address"]["streetAddress"] == "Uhuru Park, gate 2"  # public now: said

    image = api.get(urlsplit(seen.meta["og:image"]).path)
    assert image.status_code == 200 and image.mimetype == "image/png"
    picture = Image.open(BytesIO(image.data))
    assert picture.size == (1200, 630) and not picture.info.get("exif") and not picture.getexif()


def test_the_share_block_gives_ready_text_in_the_readers_language(api, coordinator, setting):
    made = approved(api, coordinator, setting, title={"en": "Solidarity rally"})
    html = api.get(f"/events/{made['id']}?lang=de").data.decode()
    assert '<h2 id="share">Teilen</h2>' in html
    assert "Solidarity rally — Do., 1. Dez., 17:00 (Nairobi), Nairobi, Kenia" in html
    assert 'href="https://t.me/share/url?url=' in html and 'href="https://wa.me/?text=' in html
    campaign = preview(api, f"/campaigns/{setting['campaign']['id']}", "en")
    assert campaign.meta["og:title"] == setting["campaign"]["name"] and campaign.ld == []
    assert "2022" in campaign.meta["og:description"]

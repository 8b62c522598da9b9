"""What an event's or a campaign's page tells messengers and search engines: Open Graph and
Twitter-card tags (a link pasted in Telegram, Signal or WhatsApp previews with the title, the
time in the event's own zone and the city), schema.org `Event` as JSON-LD, and the ready text
of the page's "share" block in the reader's language.

Only what the public page shows goes out: the address only once it is public, no participant,
no count. The picture is the site's card (static/share-card.png: no words, no metadata).
"""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from flask import current_app
from markupsafe import Markup

from services.web import formats
from services.web.i18n import translator

OG_LOCALES = {"en": "en_GB", "de": "de_DE", "fr": "fr_FR", "es": "es_ES", "fa": "fa_IR", "tr": "tr_TR", "ru": "ru_RU"}


def _site() -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/")


def _json_ld(data: dict) -> Markup:
    """JSON for a <script type="application/ld+json">: "</" and "<!--" cannot end or bend it."""
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _zoned(local: str, zone: str) -> str:
    """The event's wall time with its zone's offset ("2027-01-05T14:00:00+03:00"), as schema.org wants."""
    try:
        return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).isoformat()
    except (ValueError, KeyError):
        return local


def event_sharing(event: dict, hosts: list[dict], language: str) -> dict:
    t = translator(language)
    url = f"{_site()}/events/{event['id']}?{urlencode({'lang': language})}"
    when = f"{formats.local_time(event['start'], language)} ({formats.zone_place(event['timezone'], language)})"
    where = t("list_separator").join(filter(None, (event.get("city"), formats.country_name(event["country"], language))))
    text = t("share_event_text", title=event["title"], when=when, where=where)
    place = {"@type": "Place", "name": event.get("venue") or event["city"],
             "address": {"@type": "PostalAddress", "addressLocality": event["city"], "addressCountry": event["country"],
                         **({"streetAddress": event["address"]} if event.get("address") else {})}}
    online = {"@type": "VirtualLocation", "url": event["online_url"]} if event.get("online_url") else None
    ld = {"@context": "https://schema.org", "@type": "Event", "name": event["title"], "url": url,
          "startDate": _zoned(event["start"], event["timezone"]), "endDate": _zoned(event["end"], event["timezone"]),
          "eventStatus": "https://schema.org/" + ("EventCancelled" if event["status"] == "cancelled"
                                                  else "EventScheduled"),
          "eventAttendanceMode": "https://schema.org/" + ("MixedEventAttendanceMode" if online
                                                          else "OfflineEventAttendanceMode"),
          "location": [place, online] if online else place, "inLanguage": event.get("languages") or [language],
          "image": [f"{_site()}/static/share-card.png"],
          "organizer": [{"@type": "Organization", "name": o["name"], **({"url": o["website"]} if o.get("website") else {})}
                        for o in hosts]}
    if event.get("description"):
        ld["description"] = event["description"]
    return _shared(url, event["title"], f"{when} · {where}", text, language) | {"json_ld": _json_ld(ld)}


def campaign_sharing(campaign: dict, language: str) -> dict:
    t = translator(language)
    url = f"{_site()}/campaigns/{campaign['id']}?{urlencode({'lang': language})}"
    day = formats.long_date(campaign["day_of_action"], language)
    text = t("share_campaign_text", name=campaign["name"], day=day)
    return _shared(url, campaign["name"], day, text, language)


def _shared(url: str, title: str, description: str, text: str, language: str) -> dict:
    """The tags' values and the share block's: the text with the link, and each messenger's own
    share address (followed only if the reader presses it; the page loads nothing from them)."""
    message = f"{text}\n{url}"
    return {"url": url, "title": title, "description": description, "locale": OG_LOCALES.get(language, "en_GB"),
            "image": f"{_site()}/static/share-card.png", "text": message,
            "telegram": f"https://t.me/share/url?{urlencode({'url': url, 'text': text})}",
            "whatsapp": f"https://wa.me/?text={quote(message)}",
            "email": f"mailto:?subject={quote(title)}&body={quote(message)}"}

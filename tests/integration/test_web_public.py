"""The public site, rendered from the services' APIs: the campaign page with its signatories,
events, timeline and calendar link; an event page; languages; user text shown as text."""
from __future__ import annotations

from tests.integration.test_finding_events import approved

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_a_campaign_page_shows_what_the_public_may_see(api, coordinator, setting):
    campaign = setting["campaign"]
    shown = approved(api, coordinator, setting, title={"en": "Rally at Uhuru Park"})
    hidden = approved(api, coordinator, setting, title={"en": "Secret meeting"}, visibility="coordinators")
    home = api.get("/")
    assert home.status_code == 200 and home.mimetype == "text/html"
    assert campaign["name"].encode() in home.data or b"Solidarity" in home.data
    page = api.get(f"/campaigns/{campaign['id']}")
    assert page.status_code == 200
    html = page.data.decode()
    assert "Rally at Uhuru Park" in html and f"/events/{shown['id']}" in html
    assert "Secret meeting" not in html and hidden["id"] not in html
    assert f"/api/events/campaigns/{campaign['id']}/events.ics" in html
    assert 'lang="en"' in html and "<form method=\"post\"" in html
    assert '<svg' in html and 'class="worldmap"' in html and "Kenya: " in html  # the offline map, a count per country
    event = api.get(f"/events/{shown['id']}").data.decode()
    assert "local time in Nairobi" in event and "Uhuru Park, gate 2" not in event  # the address is not public yet
    assert '<input id="tz" name="tz"' in event  # without the page's script, the reader names their zone
    bogota = api.get(f"/events/{shown['id']}?tz=America/Bogota").data.decode()
    assert "Thu, Dec 1, 09:00 (Bogotá)" in bogota  # 17:00 in Nairobi
    assert api.get(f"/events/{hidden['id']}").status_code == 404


def test_pages_speak_the_readers_language(api, setting):
    german = api.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert "Kampagnen" in german.data.decode()
    persian = api.get(f"/campaigns/{setting['campaign']['id']}?lang=fa")
    assert 'dir="rtl"' in persian.data.decode() and "امضاکنندگان" in persian.data.decode()
    world = persian.data.decode().split('class="worldmap"', 1)[1]
    assert "رویدادها به تفکیک کشور" in world  # the map's own words too (its legend, below it)
    assert "lang=fa" in persian.headers.get("Set-Cookie", "")
    assert 'dir="rtl"' in api.get("/").data.decode()  # the choice sticks


def test_user_text_is_shown_as_text(api, coordinator, setting):
    event = approved(api, coordinator, setting, title={"en": XSS}, city="Nairobi")
    for path in (f"/campaigns/{setting['campaign']['id']}", f"/events/{event['id']}"):
        html = api.get(path).data.decode()
        assert XSS not in html and "&lt;script&gt;" in html


def test_the_subscription_form_asks_for_confirmation(api, notify_campaign):
    campaign = notify_campaign
    done = api.post(f"/campaigns/{campaign}/subscription", data={"email": "reader@example.org"},
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 303 and "subscribed=1" in done.headers["Location"]
    bad = api.post(f"/campaigns/{campaign}/subscription", data={"email": "nope"},
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert bad.status_code == 422 and "Enter your e-mail address" in bad.data.decode()  # under its field


def test_browsers_get_pages_and_programs_get_problems(api, setting):
    page = api.get("/nowhere", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 404 and page.mimetype == "text/html" and "Nothing here" in page.data.decode()
    problem = api.get("/nowhere")
    assert problem.status_code == 404 and problem.mimetype == "application/problem+json"


def test_the_campaign_page_asks_each_service_once_and_filters_by_itself(api, coordinator, setting, monkeypatch):
    places = (("KE", "Nairobi", "Africa/Nairobi", -1.29, 36.82), ("BG", "Sofia", "Europe/Sofia", 42.7, 23.32),
              ("TR", "Istanbul", "Europe/Istanbul", 41.01, 28.98))
    for country, city, zone, latitude, longitude in places:
        approved(api, coordinator, setting, country=country, city=city, timezone=zone,
                 title={"en": f"Rally in {city}"}, latitude=latitude, longitude=longitude, address_public="now")
    asked = []
    web_api = api.platform.web_api
    original = web_api.send
    monkeypatch.setattr(web_api, "send", lambda method, path, **kw: asked.append(path) or original(method, path, **kw))
    page = api.get(f"/campaigns/{setting['campaign']['id']}")
    html = page.data.decode()
    assert page.status_code == 200 and all(f"Rally in {place[1]}" in html for place in places)
    assert sorted(path.split("/")[2] for path in asked) == ["events", "media"]  # one request to each
    assert "Events: 3 · countries: 3." in html and html.count('class="worldmap-point"') == 3  # three points on the map
    kenya = api.get(f"/campaigns/{setting['campaign']['id']}?country=ke").data.decode()
    events_section = kenya[kenya.index('<ol class="cards"'):kenya.index('id="subscribe"')]
    assert "Rally in Nairobi" in events_section and "Rally in Sofia" not in events_section
    assert "Sofia" in kenya[kenya.index('id="timeline"'):]  # the timeline and the map keep everything


FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html,*/*;q=0.8"}  # a browser


def subscriptions(api) -> list:
    from services.notify.models import Subscription

    with api.platform.kernels["notify"].db.transaction() as session:
        return [(s.email, s.scope, s.scope_id) for s in session.query(Subscription)]


def test_a_subscription_that_misses_its_country_is_refused_under_that_field_in_the_readers_language(
        api, notify_campaign):
    page = api.post(f"/campaigns/{notify_campaign}/subscription?lang=fa", headers=FORM,
                    data={"email": "reader@example.org", "scope": "country", "country": ""})
    html = page.data.decode()
    assert page.status_code == 422 and 'dir="rtl"' in html
    country_field = html[html.index('id="s-country"'):html.index('id="s-city"')]
    assert "کشوری را که می‌خواهید دنبال کنید انتخاب کنید." in country_field  # under the country's list
    assert 'id="s-errors"' in html and "autofocus" in html  # the summary, focused
    assert 'value="reader@example.org"' in html  # what was typed stays
    assert subscriptions(api) == []  # nothing changed
    not_a_country = api.post(f"/campaigns/{notify_campaign}/subscription?lang=en", headers=FORM,
                             data={"email": "reader@example.org", "scope": "country", "country": "Alemania"})
    assert not_a_country.status_code == 422 and "Choose a country from the list." in not_a_country.data.decode()
    program = api.post(f"/campaigns/{notify_campaign}/subscription", data={"email": "x@example.org", "scope": "city",
                       "country": "DE"}, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert program.status_code == 422 and program.mimetype == "application/problem+json"
    assert [e["field"] for e in program.json["errors"]] == ["city"]  # a program gets the fields by name
    assert subscriptions(api) == []


def test_a_reader_follows_a_city_in_their_language(api, notify_campaign):
    done = api.post(f"/campaigns/{notify_campaign}/subscription", headers=FORM,
                    data={"email": "reader@example.org", "scope": "city", "country": "DE", "city": "Berlin",
                          "language": "de", "timezone": "Europe/Berlin"})
    assert done.status_code == 303 and done.headers["Location"].endswith("subscribed=1#subscribe")
    ((email, scope, _key),) = subscriptions(api)
    assert (email, scope) == ("reader@example.org", "city")
    page = api.get(f"/campaigns/{notify_campaign}?subscribed=1").data.decode()
    assert "Check your inbox" in page
    forms = page[page.index('id="subscribe"'):]
    assert all(f'value="{code}"' in forms for code in ("DE", "IR", "KE"))  # countries from a list, by name
    assert ">Germany<" in forms and ">Iran<" in forms


def test_the_campaign_page_is_rendered_once_per_change_and_never_stale(api, coordinator, setting, media_campaign,
                                                                      monkeypatch):
    campaign = setting["campaign"]["id"]
    approved(api, coordinator, setting, title={"en": "Rally in Nairobi"}, city="Nairobi")
    first = api.get(f"/campaigns/{campaign}")
    assert first.status_code == 200 and first.headers["ETag"] and "no-cache" in first.headers["Cache-Control"]
    answers = []
    web_api = api.platform.web_api
    original = web_api.send
    monkeypatch.setattr(web_api, "send", lambda method, path, **kw: answers.append(
        (path.split("/")[2], (found := original(method, path, **kw)).status_code)) or found)
    again = api.get(f"/campaigns/{campaign}")
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert sorted(answers) == [("events", 304), ("media", 304)]  # each service asked, nothing rebuilt
    unchanged = api.get(f"/campaigns/{campaign}", headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and not unchanged.data  # a proxy's or browser's copy holds
    approved(api, coordinator, setting, title={"en": "Rally in Mombasa"}, city="Mombasa")
    changed = api.get(f"/campaigns/{campaign}", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "Rally in Mombasa" in changed.data.decode()  # never stale


def test_a_signed_in_page_is_never_kept_for_others(api, coordinator, setting):
    from tests.integration.test_web_account import office_browser

    campaign = setting["campaign"]["id"]
    office = office_browser(api)
    theirs = office.get(f"/campaigns/{campaign}").data.decode()
    assert 'action="/signout"' in theirs and "no-store" in office.get(f"/campaigns/{campaign}").headers[
        "Cache-Control"]
    reader = api.get(f"/campaigns/{campaign}").data.decode()
    assert 'action="/signout"' not in reader and 'name="csrf"' not in reader


def test_a_links_own_parameters_are_not_a_page_of_their_own(api, coordinator, setting, media_campaign):
    campaign = setting["campaign"]["id"]
    approved(api, coordinator, setting, title={"en": "Rally in Nairobi"}, city="Nairobi")
    first = api.get(f"/campaigns/{campaign}?country=ke&fbclid=abc")
    shared = api.get(f"/campaigns/{campaign}?country=KE&utm_source=x")
    assert shared.headers["ETag"] == first.headers["ETag"]  # one page: the same filters, whatever else the link says
    html = shared.data.decode()
    assert "fbclid" not in html and "utm_source" not in html  # no reader's parameters in a page others get
    english = api.get(f"/campaigns/{campaign}?lang=en").data.decode()
    assert "،" not in english  # the list separator is each language's own
    assert "private" in api.get(f"/campaigns/{campaign}?lang=de").headers["Cache-Control"]  # it sets a cookie

"""Careless users and attackers against every route of the web front.

The routes are read from the web app's url_map, so a new one is covered without touching this
file (/static aside, and the /api relay that only the standalone mode has). Each is sent, by a
reader, a signed-in organisation and a coordinator: wrong methods, path parts that are not ids,
unknown ids and another organisation's ids, missing and forged CSRF tokens, garbage, blank, huge
and mistyped bodies, odd query strings, an organisation on the coordinators' forms and the other
way round; and the services behind it go down or answer nonsense.

What must hold: never a 5xx (a gateway error when a service is down is a 502/504); an error is
an HTML page for a browser and problem+json for a program (the tus relay always answers
problem+json); nothing changes when a request is refused, checked through the APIs (events,
holds, webhooks, materials, reports, uploads) and the services' tables.

One platform per database for the whole module, with its scene built once; each test compares
what the APIs show before and after its requests.
"""
from __future__ import annotations

import io
import re
import threading
import uuid
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from requests.adapters import HTTPAdapter
from sqlalchemy import select
from werkzeug.test import Client

from services.events.models import Campaign, CountryHold, Endorsement, LocalEvent
from services.media.models import KnownCampaign as MediaKnownCampaign
from services.media.models import Material, MediaItem, Report, ReportMedia, ResumableUpload
from services.notify.models import KnownCampaign as NotifyKnownCampaign
from services.notify.models import Subscription, WebhookEndpoint
from services.platform import EmbeddedPlatform
from services.registry import service as registry_service
from services.web.client import parse_bases
from shared.config import Config
from shared.languages import LANGUAGES
from tests.conftest import free_port, wait_until
from tests.integration.conftest import ApiClient, _known_count, _truncate_all
from tests.integration.test_campaigns_api import CAMPAIGN_2022, CAMPAIGNS
from tests.integration.test_coarse_places import DAY_2030, WHEN
from tests.integration.test_finding_events import approved
from tests.integration.test_local_events_api import EVENTS, submit
from tests.integration.test_media_reports import send, uploaded
from tests.integration.test_media_resumable import RESUMABLE, TUS, metadata
from tests.integration.test_media_uploads import jpeg_with_secrets
from tests.integration.test_web_account import csrf_of, sign_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PROGRAM = {"Accept": "application/json"}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
FORM = "application/x-www-form-urlencoded"
PROBLEM = "application/problem+json"
# The forms a reader sends without a session, so without a token (they check where they come from):
# the subscription, and "I'll come" with its private link's cancel and erase (issue 15).
PUBLIC_FORMS = {"public.subscribe", "participation.sign_up", "participation.cancel", "participation.erase"}
# Answers that are not pages: health checks, a photo's small copy, the record's export, a sign-up's calendar entry.
NOT_PAGES = {"healthz", "readyz", "dashboard.preview", "record.export", "participation.calendar"}
# The embedded platform's list of API documents at /api (services/platform.py, not the web front's).
NOT_THE_WEB_FRONTS = {"index"}
ROLES = ("reader", "organisation", "coordinator")
NOT_IDS = ("not-a-uuid", "1", "00000000-0000-0000-0000-00000000000g", "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
           "..%2F..%2Fapi%2Fregistry%2Fme")
SCRIPT = "<script>alert(1)</script>"
# Values every field of every form is refused with: a control character, or far too long.
JUNK = "\x00\x07" + SCRIPT + "\u202e"
# Every field name the web front's forms read.
FIELDS = ("decision", "reason", "country", "action", "day_of_action", "window_start", "window_end", "kind",
          "language", "title", "description", "media_id", "replaces", "url", "types", "text", "campaign_id",
          "activity_type", "city", "timezone", "start", "end", "venue", "address", "address_public",
          "address_public_hours", "latitude", "longitude", "online_url", "expected_participants", "visibility",
          "key", "email", "turnout", "consent", "blur_faces", "media_ids",
          # the dashboard's campaign and organisation forms
          "name", "languages", "list_date", "activity_types", "status", "adoption_threshold", "participation_keep_days",
          "abbreviation",
          "name_en", "website", "contact_email", "skip_bad",
          # the second factor's and the Security page's
          "code", "passkey", "challenge", "label")
EXPECTED_ENDPOINTS = {  # what the url_map must hold at least, so an empty sweep cannot pass
    "public.campaigns", "public.campaign", "public.subscribe", "public.event", "site.switch_language",
    "account.signin", "account.signout",
    "account.home", "organisation.submit_event", "organisation.edit_event", "organisation.cancel",
    "organisation.endorse", "organisation.send_report", "organisation.webhooks", "organisation.add_webhook",
    "organisation.webhook", "organisation.redeliver", "organisation.reactivate", "organisation.remove_webhook",
    "dashboard.decide", "dashboard.decide_report", "dashboard.reject_media", "dashboard.preview",
    "dashboard.hold", "dashboard.move_day", "dashboard.upload_material", "dashboard.publish_material",
    "dashboard.emergency", "dashboard.deliveries", "dashboard.campaigns", "dashboard.open_campaign",
    "dashboard.edit_campaign", "dashboard.organisations", "dashboard.register_organisation",
    "dashboard.issue_key", "dashboard.import_organisations",
    "uploads.create", "uploads.upload",
    "participation.sign_up", "participation.link_page", "participation.calendar", "participation.cancel",
    "participation.erasure", "participation.erase",
    "hosting.event_page", "hosting.set_places", "hosting.send_message", "hosting.invite", "hosting.accept",
    "hosting.remove", "door.door", "door.count", "door.actions"}
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


# --- the platform and its scene -------------------------------------------------------------

@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request, tmp_path_factory):
    """One platform per database for the module (the scene is built once)."""
    settings = dict(DOA_VAR_DIR=str(tmp_path_factory.mktemp("var")), BUS_URL="memory://",
                    BUS_EXCHANGE=f"test-{uuid.uuid4().hex[:12]}", LOG_FORMAT="text", LOG_LEVEL="CRITICAL",
                    BUS_RELAY_INTERVAL=0.05, BUS_RETRY_BASE_SECONDS=0.05, BUS_VISIBILITY_TIMEOUT=2,
                    TOKEN_RATE_LIMIT="100000/minute", SUBSCRIBE_RATE_LIMIT="100000/minute",
                    WEBHOOK_ALLOW="127.0.0.0/8")
    if request.param == "postgres":
        urls = request.getfixturevalue("pg_databases")
        settings.update({f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()})
    platform = EmbeddedPlatform(Config(environ={}, **settings))
    if request.param == "postgres":
        _truncate_all(platform)  # the databases live for the session
    platform.start_workers()
    yield ApiClient(platform)
    platform.stop()


class World:
    """Two organisations (A signed in as a browser, B the other one), a coordinator's office,
    their events, webhooks, uploads, a report and a material; the browsers and their tokens."""


@pytest.fixture(scope="module")
def world(api) -> World:
    w = World()
    with api.platform.kernels["registry"].db.transaction() as session:
        person = registry_service.create_coordinator(session, "Office")
        _, w.office_key = registry_service.issue_key(session, "coordinator", person.id, None)
    w.coordinator = api.token_for_key(w.office_key)
    orgs = [api.register(w.coordinator, abbreviation=a, name=n, name_en=n, country=c, timezone=z)
            for a, n, c, z in (("CPK", "Communist Party of Kenya", "KE", "Africa/Nairobi"),
                               ("BKP", "Bulgarian Communist Party", "BG", "Europe/Sofia"))]
    wait_until(lambda: _known_count(api) == 2, message="events to know the organisations")
    w.org_a, w.org_b = (o["id"] for o in orgs)
    w.campaign = api.post(CAMPAIGNS, token=w.coordinator, json=CAMPAIGN_2022).json["id"]
    (w.key_a, w.token_a), (w.key_b, w.token_b) = (api.organisation_token(w.coordinator, o["id"]) for o in orgs)
    setting = {"campaign": {"id": w.campaign}, "tokens": [w.token_a, w.token_b]}
    w.a_submitted = submit(api, setting, token=w.token_a, title={"en": "Ours, waiting"}).json["id"]
    w.a_approved = approved(api, w.coordinator, setting, token=w.token_a, title={"en": "Ours, approved"})["id"]
    w.b_submitted = submit(api, setting, token=w.token_b, title={"en": "Theirs, waiting"}).json["id"]
    w.b_approved = approved(api, w.coordinator, setting, token=w.token_b, title={"en": "Theirs, approved"})["id"]
    w.events = (w.a_submitted, w.a_approved, w.b_submitted, w.b_approved)

    def known(model, kernel):
        with api.platform.kernels[kernel].db.transaction() as s:
            return s.get(model, w.campaign) is not None

    wait_until(lambda: known(MediaKnownCampaign, "media"), message="media to know the campaign")
    wait_until(lambda: known(NotifyKnownCampaign, "notify"), message="notify to know the campaign")
    photo = jpeg_with_secrets(120, 90)
    w.b_photo = uploaded(api, w.token_b, w.campaign, body=photo, consent="true")["id"]
    report = send(api, w.token_b, campaign_id=w.campaign, country="BG", media_ids=[w.b_photo])
    assert report.status_code == 201, report.json
    w.b_report = report.json["id"]
    poster = uploaded(api, w.coordinator, w.campaign, body=photo)["id"]
    material = api.post(f"/api/media/campaigns/{w.campaign}/materials", token=w.coordinator,
                        json={"kind": "poster", "language": "en", "title": "Poster", "media_id": poster})
    assert material.status_code == 201, material.json
    w.material = material.json["id"]
    w.coordinator_file = uploaded(api, w.coordinator, w.campaign, body=photo)["id"]  # could join the package
    w.tus = {}
    for name, token in (("a", w.token_a), ("b", w.token_b)):
        made = api.post(RESUMABLE, token=token, headers={**TUS, "Upload-Length": "1000", "Upload-Metadata": metadata(
            campaign_id=w.campaign, consent="true", name="half.jpg")})
        assert made.status_code == 201, made.json
        w.tus[name] = made.headers["Location"].rsplit("/", 1)[-1]
    w.hooks = {}
    for name, token in (("a", w.token_a), ("b", w.token_b), ("coordinator", w.coordinator)):
        made = api.post("/api/notify/webhooks", token=token,
                        json={"url": f"http://127.0.0.1:9/{name}", "types": ["campaign.adopted"]})
        assert made.status_code == 201, made.json
        w.hooks[name] = made.json["id"]
    w.tokens = {"a": w.token_a, "b": w.token_b, "coordinator": w.coordinator}
    w.participation = a_sign_up(api, w, setting)

    w.stranger = ApiClient(api.platform)
    w.stranger.http = Client(api.platform.wsgi, use_cookies=False)  # never keeps a cookie: a new visitor each time
    w.reader = ApiClient(api.platform)  # has a session (the sign-in page's token) but is not signed in
    w.org = ApiClient(api.platform)
    assert sign_in(w.org, w.key_a).status_code == 303
    w.office = ApiClient(api.platform)
    assert sign_in(w.office, w.office_key).status_code == 303
    w.clients = {"reader": w.reader, "organisation": w.org, "coordinator": w.office}
    w.csrf = {"reader": csrf_of(w.reader.get("/signin")), "organisation": csrf_of(w.org.get("/me/webhooks")),
              "coordinator": csrf_of(w.office.get("/me/webhooks"))}
    unknown = str(uuid.uuid4())
    # Ids each may act on: only a missing token (or a wrong role) stops the request. An organisation's
    # key is issued by a bare POST (nothing in the form to refuse): the sweeps name an unknown one.
    mine_a = {"campaign_id": w.campaign, "event_id": w.a_submitted, "endpoint_id": w.hooks["a"],
              "report_id": unknown, "media_id": unknown, "delivery_id": unknown, "upload_id": w.tus["a"],
              "organisation_id": unknown, "code": "de", "passkey_id": unknown, "session_id": unknown,
              "change_id": unknown, "rename_id": unknown, "format_": "csv", "key": w.participation}
    w.own = {"reader": mine_a, "organisation": mine_a,
             "coordinator": {"campaign_id": w.campaign, "event_id": w.b_submitted, "endpoint_id": w.hooks["coordinator"],
                             "report_id": w.b_report, "media_id": w.b_photo, "delivery_id": unknown,
                             "upload_id": unknown, "organisation_id": unknown, "code": "de",
                             "passkey_id": unknown, "session_id": unknown, "change_id": unknown,
                             "rename_id": unknown, "format_": "csv", "key": w.participation}}
    # Organisation B's, for organisation A (and for the coordinator on the organisations' forms).
    w.theirs = {"campaign_id": unknown, "event_id": w.b_approved, "endpoint_id": w.hooks["b"],
                "report_id": w.b_report, "media_id": w.b_photo, "delivery_id": unknown, "upload_id": w.tus["b"],
                "organisation_id": unknown, "code": "de", "passkey_id": unknown, "session_id": unknown,
                "change_id": unknown, "rename_id": unknown, "format_": "csv", "key": UNKNOWN_KEY}
    w.unknown = {name: str(uuid.uuid4()) for name in mine_a} | {"code": "xx", "format_": "csv", "key": UNKNOWN_KEY}
    # Fields that would act, were the request let through.
    w.acting = {"decision": "approve", "reason": "Forged", "country": "KE", "action": "hold",
                "day_of_action": "2022-12-02", "kind": "poster", "language": "en", "title": "Forged",
                "media_id": w.coordinator_file, "url": "http://127.0.0.1:9/forged", "types": "event.approved",
                "text": "Forged", "campaign_id": w.campaign, "activity_type": "rally", "city": "Nairobi",
                "timezone": "Africa/Nairobi", "start": "2022-12-01T17:00", "end": "2022-12-01T19:00",
                "key": w.key_b, "email": "forged@example.org", "turnout": "5"}
    return w


UNKNOWN_KEY = "A" * 43  # shaped as a private link's key, opening nothing


def a_sign_up(api, w: World, setting: dict) -> str:
    """A sign-up without an address to an approved event of a campaign in 2030: its key. The
    sweeps only read its pages (its cancel and erase get an unknown key, or a service that is down)."""
    later = api.post(CAMPAIGNS, token=w.coordinator, json=DAY_2030).json
    event = approved(api, w.coordinator, {**setting, "campaign": later}, token=w.token_a, **WHEN)["id"]
    def signed_up():
        answer = api.post(f"/api/notify/events/{event}/participants", json={
            "party_size": 2, "name": "Amina", "language": "en"})
        return answer.json["key"] if answer.status_code == 201 else None

    return wait_until(signed_up, message="notify to know the event")


# --- what is compared and checked -----------------------------------------------------------

TABLES = {"events": (LocalEvent, Endorsement, CountryHold, Campaign),
          "media": (MediaItem, Report, ReportMedia, Material, ResumableUpload),
          "notify": (Subscription, WebhookEndpoint)}


def snapshot(api, w: World) -> dict:
    """What the APIs show of everything a request could change, and the services' rows."""
    def shown(path, token=None, **query):
        answer = api.get(path, token=token, query_string=query)
        return answer.status_code, answer.json

    state = {
        "events": {i: shown(f"{EVENTS}/{i}", w.coordinator) for i in w.events},
        "public events (a hold hides them)": shown(EVENTS, limit=200),
        "campaign": shown(f"{CAMPAIGNS}/{w.campaign}"),
        "signatories": shown(f"{CAMPAIGNS}/{w.campaign}/signatories"),
        "webhooks": {name: shown("/api/notify/webhooks", token) for name, token in w.tokens.items()},
        "materials": shown(f"/api/media/campaigns/{w.campaign}/materials"),
        "report": shown(f"/api/media/reports/{w.b_report}", w.coordinator),
        "photo": shown(f"/api/media/media/{w.b_photo}", w.coordinator),
        "uploads": {name: api.request("HEAD", f"{RESUMABLE}/{i}", token=w.tokens[name], headers=TUS).headers.get(
            "Upload-Offset") for name, i in w.tus.items()},
    }
    for service, models in TABLES.items():
        with api.platform.kernels[service].db.transaction() as s:
            for model in models:
                state[model.__tablename__] = sorted(tuple(map(str, row)) for row in s.execute(select(model.__table__)))
    return state


def assert_unchanged(before: dict, after: dict) -> None:
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"a refused request changed {sorted(changed)}: {changed}"


def web_rules(api) -> list:
    rules = [r for r in api.platform.wsgi.root.url_map.iter_rules()
             if r.endpoint != "static" and not r.rule.startswith("/api/")]
    assert EXPECTED_ENDPOINTS <= {r.endpoint for r in rules}
    return rules


def arguments(rule) -> dict[str, str]:
    """The rule's path arguments and their converters ("default" for a plain string)."""
    return {m.group(2): m.group(1) or "default" for m in ARGUMENT.finditer(rule.rule)}


def fill(rule, values: dict) -> str:
    return ARGUMENT.sub(lambda m: values[m.group(2)], rule.rule)


class Findings(list):
    """What broke, gathered over many requests, to fail once with all of them."""

    def check(self, response, what: str, endpoint: str, accept: dict, method: str = "GET",
              allowed: set[int] | None = None, gateway: bool = False, pages_for_programs: bool = False) -> None:
        """No 5xx (but a 502/504 when `gateway`: a service is down), the status `allowed`, and an
        error as a page for a browser, problem+json for a program (or a page, when
        `pages_for_programs`)."""
        status, kind = response.status_code, response.mimetype
        if status >= 500 and not (gateway and status in (502, 504)):
            self.append(f"{what}: {status} {response.data[:200]!r}")
        elif allowed is not None and status not in allowed:
            self.append(f"{what}: {status}, not one of {sorted(allowed)}")
        if status < 400 or method == "HEAD":
            return
        negotiated = "text/html" if accept is BROWSER else PROBLEM
        wanted = {PROBLEM, negotiated} if endpoint.startswith("uploads.") else {negotiated}
        if pages_for_programs:
            wanted.add("text/html")
        if kind not in wanted:
            self.append(f"{what}: a {status} as {kind}, not {' or '.join(sorted(wanted))}")
        elif kind == "text/html" and (not re.search(rb"<h1[ >]", response.data) or b"</html>" not in response.data):
            self.append(f"{what}: a {status} page without its heading")
        elif kind == PROBLEM and response.json.get("status") != status:
            self.append(f"{what}: a {status} problem that says {response.json.get('status')}")


def call(client, method: str, path: str, accept: dict = BROWSER, headers: dict | None = None, **kwargs):
    return client.request(method, path, headers={**accept, **(headers or {})}, **kwargs)


# --- every route: methods, path parts -------------------------------------------------------

def test_every_route_refuses_wrong_methods_and_path_parts_that_are_not_ids(api, world):
    findings = Findings()
    routes = api.platform.wsgi.root.url_map.bind("localhost")
    for rule in web_rules(api):
        for role in ROLES:
            client, path = world.clients[role], fill(rule, world.own[role])
            for method in sorted(set(METHODS) - set(routes.allowed_methods(path))):  # a path may have two rules
                for accept in (BROWSER, PROGRAM):
                    answer = call(client, method, path, accept)
                    findings.check(answer, f"{role} {method} {path}", rule.endpoint, accept, method, {405})
            for name, kind in arguments(rule).items():
                if kind != "uuid":
                    continue
                for bad in NOT_IDS:
                    wrong = fill(rule, {**world.own[role], name: bad})
                    for method in sorted(rule.methods - {"OPTIONS"}):
                        accept = BROWSER if bad != "1" else PROGRAM
                        answer = call(client, method, wrong, accept)
                        findings.check(answer, f"{role} {method} {wrong}", rule.endpoint, accept, method, {404})
    assert findings == [], "\n".join(findings)


# --- CSRF on every state-changing route -----------------------------------------------------

def forged(fields: dict, valid: str, other: str) -> dict[str, dict]:
    """Ways a form arrives without its session's token in its body."""
    return {
        "no token": {"data": fields, "content_type": FORM},
        "an empty token": {"data": {**fields, "csrf": ""}, "content_type": FORM},
        "a made-up token": {"data": {**fields, "csrf": "A" * 43}, "content_type": FORM},
        "another session's token": {"data": {**fields, "csrf": other}, "content_type": FORM},
        "the token in the query string": {"data": fields, "content_type": FORM, "query_string": {"csrf": valid}},
        "the token in a header": {"data": fields, "content_type": FORM, "headers": {"X-CSRF-Token": valid}},
        "a JSON body": {"json": {**fields, "csrf": valid}},
        "a text/plain body": {"data": urlencode({**fields, "csrf": valid}), "content_type": "text/plain"},
        "a forged token first": {"data": urlencode([("csrf", "forged"), ("csrf", valid), *fields.items()]),
                                 "content_type": FORM},
        "multipart without a token": {"data": dict(fields), "content_type": "multipart/form-data"},
    }


def tus_forged(method: str, w: World, valid: str, other: str) -> dict[str, dict]:
    headers = {"POST": {**TUS, "Upload-Length": "10", "Upload-Metadata": metadata(
        campaign_id=w.campaign, consent="true", name="forged.jpg")},
        "PATCH": {**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        "DELETE": TUS}[method]
    body = {"data": b"0123456789"} if method == "PATCH" else {}
    return {
        "no token": {"headers": headers, **body},
        "an empty token": {"headers": {**headers, "X-CSRF-Token": ""}, **body},
        "a made-up token": {"headers": {**headers, "X-CSRF-Token": "A" * 43}, **body},
        "another session's token": {"headers": {**headers, "X-CSRF-Token": other}, **body},
        "the token in the query string": {"headers": headers, "query_string": {"csrf": valid}, **body},
    }


def test_every_state_changing_route_needs_the_sessions_csrf_token(api, world):
    findings, before = Findings(), snapshot(api, world)
    others = {"reader": world.csrf["organisation"], "organisation": world.csrf["coordinator"],
              "coordinator": world.csrf["organisation"]}
    tried = set()
    for rule in web_rules(api):
        methods = rule.methods & STATE_CHANGING
        if not methods or rule.endpoint in PUBLIC_FORMS:
            continue
        tried.add(rule.endpoint)
        for role in ("stranger", *ROLES):
            client = world.stranger if role == "stranger" else world.clients[role]
            ids = world.own["reader" if role == "stranger" else role]
            valid, other = (world.csrf["reader"], others["reader"]) if role == "stranger" else (
                world.csrf[role], others[role])
            path = fill(rule, ids)
            for method in sorted(methods):
                if rule.endpoint.startswith("uploads."):
                    ways = tus_forged(method, world, valid, other)
                    expected = {400} if role in ("organisation", "coordinator") else {401}
                else:
                    ways = forged(world.acting, valid, other)
                    expected = {400}
                for way, request in ways.items():
                    for accept in (BROWSER, PROGRAM):
                        answer = call(client, method, path, accept, **request)
                        findings.check(answer, f"{role} {method} {path} with {way}", rule.endpoint, accept, method,
                                       expected)
    assert {"account.signin", "account.signout", "dashboard.hold", "organisation.remove_webhook",
            "uploads.upload"} <= tried
    assert findings == [], "\n".join(findings)
    assert_unchanged(before, snapshot(api, world))
    assert world.org.get("/me").status_code == 200  # the forged sign-out and sign-in changed no session


def test_a_csrf_token_with_characters_beyond_ascii_is_refused(api, world):
    findings, before = Findings(), snapshot(api, world)
    for role in ("reader", "organisation", "coordinator"):
        for token in ("é", "\u2603" * 43):
            answer = call(world.clients[role], "POST", "/signin", data={"csrf": token, "key": "x"}, content_type=FORM)
            findings.check(answer, f"{role} /signin csrf={token!r}", "account.signin", BROWSER, "POST", {400})
    raw = call(world.org, "POST", "/me/events", data=b"csrf=%C3%A9&title=x", content_type=FORM)  # é, encoded
    findings.check(raw, "organisation /me/events csrf=%C3%A9", "organisation.submit_event", BROWSER, "POST", {400})
    assert findings == [], "\n".join(findings)
    assert_unchanged(before, snapshot(api, world))


def test_a_subscription_sent_from_another_site_is_refused(api, world):
    path = f"/campaigns/{world.campaign}/subscription"
    before = snapshot(api, world)
    answer = call(world.stranger, "POST", path, data={"email": "victim@example.org"}, content_type=FORM,
                  headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403
    assert_unchanged(before, snapshot(api, world))


# --- garbage with a valid token -------------------------------------------------------------

def garbage(valid: str, with_files: bool) -> dict[str, dict]:
    """Bodies with the right token and nothing else right: every one is refused."""
    bodies = {
        "only the token": {"csrf": valid},
        "junk in every field": {"csrf": valid, **{name: JUNK for name in FIELDS}},
        "every field blank": {"csrf": valid, **{name: "   " for name in FIELDS}},
        "every field far too long": {"csrf": valid, **{name: "x" * 20_000 for name in FIELDS}},
    }
    ways = {name: {"data": body, "content_type": FORM} for name, body in bodies.items()}
    ways["every field many times"] = {"data": urlencode([("csrf", valid)] + [
        (name, f"\x00{i}") for name in FIELDS for i in range(20)]), "content_type": FORM}
    ways["invalid percent-encoding"] = {"data": "csrf=" + valid + "&title=%zz&reason=%00%zz&country=%e2%82", "content_type": FORM}
    ways["bytes that are not UTF-8"] = {"data": b"csrf=" + valid.encode() + b"&title=\xff\xfe&reason=\xc3\x28",
                                        "content_type": FORM}
    if with_files:
        ways["multipart with junk files"] = {"data": {"csrf": valid, **{name: JUNK for name in FIELDS},
                                                      "file": (io.BytesIO(b"\x00junk" * 100), "../../etc/passwd"),
                                                      "files": (io.BytesIO(b"MZ\x90\x00"), SCRIPT + ".jpg")},
                                             "content_type": "multipart/form-data"}
    return ways


def test_garbage_forms_with_a_valid_token_are_refused_and_change_nothing(api, world):
    findings, before = Findings(), snapshot(api, world)
    for rule in web_rules(api):
        if not rule.methods & STATE_CHANGING or rule.endpoint == "account.signout" or \
                rule.endpoint.startswith("uploads."):
            continue
        for role in ROLES:
            # Unknown ids, and another's: an organisation's own event would be cancelled for real.
            id_sets = [world.unknown, world.theirs]
            if role == "coordinator" and rule.endpoint.startswith("dashboard."):
                id_sets.append(world.own["coordinator"])  # every body below is refused whatever the ids
            for ids in id_sets:
                path = fill(rule, ids)
                for way, request in garbage(world.csrf[role], with_files=ids is world.unknown).items():
                    answer = call(world.clients[role], "POST", path, **request)
                    findings.check(answer, f"{role} POST {path} with {way}", rule.endpoint, BROWSER, "POST")
                    if answer.status_code < 400 and answer.status_code not in (302, 303):
                        findings.append(f"{role} POST {path} with {way}: {answer.status_code}")
                    if SCRIPT.encode() in answer.data:
                        findings.append(f"{role} POST {path} with {way}: the script came back as markup")
    assert findings == [], "\n".join(findings)
    assert_unchanged(before, snapshot(api, world))


def test_the_upload_relay_refuses_garbage_and_other_organisations_uploads(api, world):
    findings, before = Findings(), snapshot(api, world)
    for role in ("organisation", "coordinator"):
        client, token = world.clients[role], {"X-CSRF-Token": world.csrf[role]}
        made = {
            "no Upload-Length": {**TUS},
            "a negative Upload-Length": {**TUS, "Upload-Length": "-1"},
            "a word for Upload-Length": {**TUS, "Upload-Length": "ten"},
            "a huge Upload-Length": {**TUS, "Upload-Length": "9" * 40},
            "junk metadata": {**TUS, "Upload-Length": "10", "Upload-Metadata": "campaign_id !!!,\x00 ,,"},
            "an unknown campaign": {**TUS, "Upload-Length": "10", "Upload-Metadata": metadata(
                campaign_id=uuid.uuid4(), consent="true", name="x.jpg")},
            "an old tus version": {"Tus-Resumable": "0.2.2", "Upload-Length": "10"},
        }
        for way, headers in made.items():
            answer = call(client, "POST", "/me/uploads", PROGRAM, headers={**headers, **token})
            findings.check(answer, f"{role} POST /me/uploads with {way}", "uploads.create", PROGRAM, "POST",
                           set(range(400, 500)))
            if answer.status_code < 500 and answer.headers.get("Tus-Resumable") != "1.0.0":
                findings.append(f"{role} POST /me/uploads with {way}: no Tus-Resumable on the answer")
        targets = {"another organisation's upload": world.tus["b"], "an unknown upload": str(uuid.uuid4())}
        if role == "organisation":
            targets["its own upload"] = world.tus["a"]
        for name, upload in targets.items():
            path = f"/me/uploads/{upload}"
            patches = {"the wrong offset": {"Upload-Offset": "5", "Content-Type": "application/offset+octet-stream"},
                       "a word for the offset": {"Upload-Offset": "five",
                                                 "Content-Type": "application/offset+octet-stream"},
                       "the wrong content type": {"Upload-Offset": "0", "Content-Type": "text/plain"}}
            for way, headers in patches.items():
                answer = call(client, "PATCH", path, PROGRAM, headers={**TUS, **headers, **token}, data=b"x" * 10)
                findings.check(answer, f"{role} PATCH {name} with {way}", "uploads.upload", PROGRAM, "PATCH",
                               set(range(400, 500)))
            if name != "its own upload":
                for method in ("HEAD", "DELETE"):
                    answer = call(client, method, path, PROGRAM, headers={**TUS, **token})
                    findings.check(answer, f"{role} {method} {name}", "uploads.upload", PROGRAM, method, {403, 404})
    assert findings == [], "\n".join(findings)
    assert_unchanged(before, snapshot(api, world))


HUGE_PATHS = (("/me/events", "organisation.submit_event"), ("/signin", "account.signin"),
              ("/campaigns/{campaign}/subscription", "public.subscribe"))


def huge_bodies(valid: str) -> dict[str, list]:
    return {"a field of 600 kB": [("csrf", valid), ("title", "x" * 600_000)],
            "3000 fields": [("csrf", valid)] + [(f"f{i}", "x") for i in range(3000)]}


def test_huge_multipart_forms_are_refused_with_a_page(api, world):
    findings, before = Findings(), snapshot(api, world)
    for way, fields in huge_bodies(world.csrf["organisation"]).items():
        for path, endpoint in HUGE_PATHS:
            path = path.format(campaign=world.campaign)
            for accept in (BROWSER, PROGRAM):
                answer = call(world.org, "POST", path, accept, data=dict(fields), content_type="multipart/form-data")
                findings.check(answer, f"POST {path} with {way} ({accept['Accept'][:9]})", endpoint, accept, "POST",
                               {413})
    assert findings == [], "\n".join(findings)
    assert_unchanged(before, snapshot(api, world))


def test_huge_urlencoded_forms_are_refused_with_a_page(api, world):
    findings, before = Findings(), snapshot(api, world)
    for way, fields in huge_bodies(world.csrf["organisation"]).items():
        for path, endpoint in HUGE_PATHS:
            path = path.format(campaign=world.campaign)
            answer = call(world.org, "POST", path, data=urlencode(fields), content_type=FORM)
            findings.check(answer, f"POST {path} with {way}", endpoint, BROWSER, "POST", {413})
    assert findings == [], "\n".join(findings)
    assert_unchanged(before, snapshot(api, world))


# --- who may use which form, and with whose ids ---------------------------------------------

def test_organisations_and_coordinators_cannot_use_each_others_forms_or_another_organisations_ids(api, world):
    findings, before = Findings(), snapshot(api, world)
    rules = {r.endpoint: r for r in web_rules(api)}
    # An organisation on every form and page of the coordinators, with ids they may act on: 403.
    for endpoint, rule in rules.items():
        if not endpoint.startswith("dashboard."):
            continue
        path = fill(rule, world.own["coordinator"])
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            request = {"data": {"csrf": world.csrf["organisation"], **world.acting}, "content_type": FORM} \
                if method == "POST" else {}
            for accept in (BROWSER, PROGRAM):
                answer = call(world.org, method, path, accept, **request)
                findings.check(answer, f"organisation {method} {path}", endpoint, accept, method, {403})
    # A coordinator on the organisations' forms, with organisation B's ids: refused (adding a
    # webhook of its own is a coordinator's right, so that form is left out).
    for endpoint, rule in rules.items():
        if not endpoint.startswith("organisation.") or endpoint == "organisation.add_webhook":
            continue
        path = fill(rule, world.theirs)
        for method in sorted(rule.methods & {"POST"}):
            answer = call(world.office, method, path, data={"csrf": world.csrf["coordinator"], **world.acting},
                          content_type=FORM)
            findings.check(answer, f"coordinator POST {path}", endpoint, BROWSER, method, set(range(400, 500)))
    # Organisation A with B's event, webhook and photo, on the forms that take them.
    a_event = api.get(f"{EVENTS}/{world.a_approved}", token=world.token_a).json
    whole_form = {"csrf": world.csrf["organisation"], **world.acting, "title": "Mine now",
                  **{k: a_event[k] for k in ("city", "country", "timezone", "activity_type")},
                  "start": a_event["start"][:16], "end": a_event["end"][:16]}
    for endpoint in ("organisation.edit_event", "organisation.cancel", "organisation.redeliver",
                     "organisation.reactivate", "organisation.remove_webhook"):
        path = fill(rules[endpoint], world.theirs)
        answer = call(world.org, "POST", path, data=whole_form, content_type=FORM)
        findings.check(answer, f"organisation POST {path}", endpoint, BROWSER, "POST", set(range(400, 500)))
    theirs_log = call(world.org, "GET", f"/me/webhooks/{world.hooks['b']}")
    findings.check(theirs_log, "organisation GET B's webhook log", "organisation.webhook", BROWSER, "GET", {404})
    shown = theirs_log.data.decode().split('<main', 1)[-1]  # (the page's own links repeat the path asked for)
    if world.hooks["b"] in shown or "127.0.0.1:9/b" in shown:
        findings.append("organisation A sees B's webhook")
    with_their_photo = call(world.org, "POST", "/me/reports", data={
        "csrf": world.csrf["organisation"], "campaign_id": world.campaign, "title": "Ours", "text": "We marched.",
        "country": "KE", "language": "en", "media_ids": world.b_photo}, content_type=FORM)
    findings.check(with_their_photo, "organisation A reports with B's photo", "organisation.send_report", BROWSER,
                   "POST", {422})
    assert findings == [], "\n".join(findings)
    assert_unchanged(before, snapshot(api, world))


def test_another_organisations_event_has_no_edit_form(api, world):
    page = call(world.org, "GET", f"/me/events/{world.b_approved}/edit")
    assert page.status_code in (403, 404) and 'action="/me/events/' not in page.data.decode()


# --- odd query strings on every page ---------------------------------------------------------

ODD_QUERIES = ("lang=xx", "lang=", "lang=%3Cscript%3E", "lang=de&lang=fa", "tz=Not/AZone", "tz=", "tz=UTC%00",
               "tz=..%2F..%2F..%2Fetc%2Fpasswd", "tz=%2Fetc%2Flocaltime", "country=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
               "country=", "country=%00", "activity_type=%3Cb%3Ex%3C%2Fb%3E", "language=" + "x" * 5000,
               "status=bogus", "status=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "subscribed=%3Cscript%3E",
               "next=https%3A%2F%2Fevil.example%2F", "limit=99999999&page=-1", "%ff%fe=%ff", "a[]=1&a[]=2",
               "=&&=x&" * 50)


def test_odd_query_strings_on_every_page(api, world):
    findings = Findings()
    for rule in web_rules(api):
        if "GET" not in rule.methods:
            continue
        for role in ROLES:
            path = fill(rule, world.own[role])
            for number, query in enumerate(ODD_QUERIES):
                for accept in (BROWSER, PROGRAM)[number % 2:]:  # every query as a page, every other one as JSON
                    answer = call(world.clients[role], "GET", f"{path}?{query}", accept)
                    what = f"{role} GET {path}?{query[:60]}"
                    findings.check(answer, what, rule.endpoint, accept)
                    if SCRIPT.encode() in answer.data or b"<b>x</b>" in answer.data or b"<script>" in answer.data:
                        findings.append(f"{what}: the query came back as markup")
                    for cookie in answer.headers.getlist("Set-Cookie"):
                        if cookie.startswith("lang=") and cookie.split(";")[0][5:] not in LANGUAGES:
                            findings.append(f"{what}: a lang cookie for an unknown language: {cookie}")
                    if answer.status_code == 200 and rule.endpoint not in NOT_PAGES and answer.mimetype != "text/html":
                        findings.append(f"{what}: a page as {answer.mimetype}")
    assert findings == [], "\n".join(findings)


def test_a_time_zone_that_is_a_folder_or_too_long_is_ignored(api, world):
    findings = Findings()
    for zone in ("Europe", "America/Argentina", "a" * 300):
        answer = call(world.stranger, "GET", f"/events/{world.a_approved}", query_string={"tz": zone})
        findings.check(answer, f"/events/…?tz={zone[:20]}", "public.event", BROWSER, "GET", {200})
    assert findings == [], "\n".join(findings)


# --- the services behind the web front ------------------------------------------------------

def _transport(monkeypatch, web_api, base: str, wsgi_app) -> None:
    """The web front's API client pointed elsewhere (a fresh connection pool), until the test ends."""
    monkeypatch.setattr(web_api, "bases", parse_bases(base))
    monkeypatch.setattr(web_api, "wsgi_app", wsgi_app)
    monkeypatch.setattr(web_api, "local", threading.local())


def _only_the_registry_answers(monkeypatch, api) -> None:
    """Events, media and notify down (nothing listens at their address), the registry in process."""
    down = f"http://127.0.0.1:{free_port()}"
    _transport(monkeypatch, api.platform.web_api,
               f"registry=http://doa.internal,events={down},media={down},notify={down}", api.platform.wsgi)
    api.platform.web_api._session().mount(down + "/", HTTPAdapter())  # a real socket there (this thread's pool)


def fresh_browsers(api, world) -> dict:
    """A reader and a signed-in organisation and coordinator of this test's own (an outage may
    end a session: the module's browsers stay out of it)."""
    org, office, reader = ApiClient(api.platform), ApiClient(api.platform), ApiClient(api.platform)
    assert sign_in(org, world.key_a).status_code == 303 and sign_in(office, world.office_key).status_code == 303
    return {"reader": reader, "organisation": org, "coordinator": office}


def test_a_service_that_is_down_gives_a_gateway_error_page(api, world, monkeypatch):
    findings, before = Findings(), snapshot(api, world)
    for outage in ("every service down", "all but the registry down"):
        browsers = fresh_browsers(api, world)
        csrf = {role: csrf_of(client.get("/signin" if role == "reader" else "/me/webhooks"))
                for role, client in browsers.items()}
        if outage == "every service down":
            _transport(monkeypatch, api.platform.web_api, f"http://127.0.0.1:{free_port()}", None)
        else:
            _only_the_registry_answers(monkeypatch, api)
        for rule in web_rules(api):
            if rule.endpoint in ("account.signin", "account.signout", "security.end_other_sessions"):
                continue  # they change sessions (this module's own browsers' too), not what is shown
            for role, client in browsers.items():
                path = fill(rule, world.own[role])
                for method in sorted(rule.methods & {"GET", "POST"}):
                    request = {"data": {"csrf": csrf[role], **world.acting}, "content_type": FORM} \
                        if method == "POST" else {}
                    for accept in (BROWSER, PROGRAM):
                        answer = call(client, method, path, accept, **request)
                        what = f"{role} {method} {path} with {outage}"
                        findings.check(answer, what, rule.endpoint, accept, method, gateway=True,
                                       pages_for_programs=True)
                        if b"Traceback" in answer.data:
                            findings.append(f"{what}: a traceback")
        if outage == "all but the registry down":
            for role in ("organisation", "coordinator"):
                home = call(browsers[role], "GET", "/me")
                findings.check(home, f"{role} /me with {outage}", "account.home", BROWSER, "GET", {502},
                               gateway=True)
        monkeypatch.undo()
    assert findings == [], "\n".join(findings)
    assert_unchanged(before, snapshot(api, world))


def _answering(body: bytes, kind: str):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]
    return app


def test_a_service_answering_nonsense_gives_a_gateway_error_page(api, world, monkeypatch):
    findings = Findings()
    paths = {"campaigns": "/", "campaign": f"/campaigns/{world.campaign}", "event": f"/events/{world.a_approved}",
             "participation": f"/p/{world.participation}"}
    for body, kind in ((b"<html>a captive portal</html>", "text/html"), (b"{}", "application/json"),
                       (b"[]", "application/json"), (b"{", "application/json")):
        _transport(monkeypatch, api.platform.web_api, "http://doa.internal", _answering(body, kind))
        for endpoint, path in paths.items():
            answer = call(world.stranger, "GET", path)
            findings.check(answer, f"GET {path} when the services answer {body!r}", endpoint, BROWSER, "GET", {502},
                           gateway=True)
    assert findings == [], "\n".join(findings)


def test_a_registry_outage_does_not_sign_anyone_out(api, world, monkeypatch):
    browsers = fresh_browsers(api, world)
    web_api = api.platform.web_api
    _transport(monkeypatch, web_api, f"http://127.0.0.1:{free_port()}", None)
    for role in ("organisation", "coordinator"):
        assert browsers[role].get("/").status_code == 502
    monkeypatch.undo()
    for role in ("organisation", "coordinator"):
        assert browsers[role].get("/me").status_code == 200, f"the {role} was signed out by the outage"


# --- redirects, sessions, headers -----------------------------------------------------------

def test_signing_in_and_switching_language_stay_on_the_site(api, world):
    reader = ApiClient(api.platform)
    assert reader.get("/me").headers["Location"].startswith("/signin?next=")  # a local path, never a host
    page = reader.get("/signin?next=https%3A%2F%2Fevil.example%2F")
    signed = reader.post("/signin?next=https%3A%2F%2Fevil.example%2F", data={"key": world.key_a,
                                                                           "csrf": csrf_of(page)}, content_type=FORM)
    assert signed.status_code == 303 and urlsplit(signed.headers["Location"]).netloc in ("", "localhost")
    for code in ("xx", "<script>", "x" * 300, "de%0d%0aSet-Cookie:%20a=b"):
        switched = reader.get(f"/lang/{code}")
        assert switched.status_code == 303 and switched.headers["Location"] in ("/", "http://localhost/")
        assert "lang=" not in switched.headers.get("Set-Cookie", "") and "a=b" not in str(switched.headers)
    same_site = reader.get("/lang/de", headers={"Referer": f"http://localhost/campaigns/{world.campaign}"})
    assert same_site.headers["Location"].endswith(f"/campaigns/{world.campaign}") and "lang=de" in same_site.headers[
        "Set-Cookie"]


def test_the_language_switch_never_sends_readers_to_another_site(api, world):
    for referrer in ("https://evil.example/phish", "//evil.example/phish", "http://localhost.evil.example/"):
        switched = world.stranger.get("/lang/de", headers={"Referer": referrer})
        assert urlsplit(switched.headers["Location"]).netloc in ("", "localhost"), switched.headers["Location"]


def test_a_405_page_says_which_methods_are_allowed(api, world):
    assert call(world.stranger, "PUT", "/me", PROGRAM).headers.get("Allow")
    page = call(world.stranger, "PUT", "/me", BROWSER)
    assert page.status_code == 405 and "GET" in page.headers.get("Allow", "")


def test_the_language_links_of_a_refused_forms_page_lead_to_a_page(api, world):
    findings = Findings()
    refusals = {"/me/holds": (world.office, {"csrf": world.csrf["coordinator"], "country": "XX", "reason": "r",
                                             "action": "hold"}),
                "/me/events": (world.org, {"csrf": world.csrf["organisation"], "title": "x"}),
                f"/campaigns/{world.campaign}/subscription": (world.stranger, {"email": "nope"})}
    for path, (client, body) in refusals.items():
        refused = call(client, "POST", path, data=body, content_type=FORM)
        assert refused.status_code == 422
        link = re.search(r'href="([^"]*lang[=/]de[^"]*)"', refused.data.decode()).group(1)
        followed = call(client, "GET", urljoin(f"http://localhost{path}", link.replace("&amp;", "&")))
        findings.check(followed, f"the German link on the refusal of POST {path}", "", BROWSER, "GET", {200, 303})
    assert findings == [], "\n".join(findings)


def test_refusals_are_problems_for_programs(api, world):
    findings = Findings()
    for client, path, body in ((world.office, "/me/holds", {"csrf": world.csrf["coordinator"], "country": "XX",
                                                             "reason": "r", "action": "hold"}),
                               (world.stranger, f"/campaigns/{world.campaign}/subscription", {"email": "nope"})):
        answer = call(client, "POST", path, PROGRAM, data=body, content_type=FORM)
        findings.check(answer, f"POST {path} from a program", "", PROGRAM, "POST", {422})
    for path in (f"/me/webhooks/{uuid.uuid4()}", f"/me/events/{uuid.uuid4()}/edit"):
        answer = call(world.org, "GET", path, PROGRAM)
        findings.check(answer, f"GET {path} from a program", "", PROGRAM, "GET", {404})
    assert findings == [], "\n".join(findings)


def test_a_decision_or_action_that_is_neither_is_refused(api, world):
    setting = {"campaign": {"id": world.campaign}, "tokens": [world.token_a, world.token_b]}
    event = submit(api, setting, token=world.token_b, title={"en": "Decide me"}).json["id"]  # this test's own
    report = send(api, world.token_b, campaign_id=world.campaign, country="BG").json["id"]
    findings, valid = Findings(), world.csrf["coordinator"]
    try:
        for path, fields in ((f"/me/events/{event}/decision", {"decision": "aprove", "reason": "A typo"}),
                             (f"/me/reports/{report}/decision", {"decision": "", "reason": "Left blank"}),
                             ("/me/holds", {"action": "hide?", "country": "BG", "reason": "A typo"})):
            before = snapshot(api, world)
            answer = call(world.office, "POST", path, data={"csrf": valid, **fields}, content_type=FORM)
            findings.check(answer, f"POST {path} with {fields}", "", BROWSER, "POST", {400, 422})
            after = snapshot(api, world)
            if after != before:
                findings.append(f"POST {path} with {fields} changed {[k for k in before if before[k] != after[k]]}")
    finally:
        api.delete("/api/events/countries/BG/hold", token=world.coordinator)
    assert findings == [], "\n".join(findings)


def test_a_coordinate_that_is_not_a_finite_number_is_named_beside_its_field(api, world):
    before = snapshot(api, world)
    for latitude in ("nan", "inf", "1e999"):
        answer = call(world.org, "POST", "/me/events", data={
            "csrf": world.csrf["organisation"], "campaign_id": world.campaign, "title": "Rally", "language": "en",
            "activity_type": "rally", "city": "Nairobi", "country": "KE", "timezone": "Africa/Nairobi",
            "start": "2022-12-01T17:00", "end": "2022-12-01T19:00", "latitude": latitude, "longitude": "36.8"},
            content_type=FORM)
        html = answer.data.decode()
        assert answer.status_code == 422 and 'id="f-latitude-error"' in html and "did not answer" not in html, latitude
    assert_unchanged(before, snapshot(api, world))


def test_a_turnout_that_is_not_a_plain_number_is_refused(api, world):
    findings, before = Findings(), snapshot(api, world)
    for turnout in ("²", "9" * 5000):
        answer = call(world.org, "POST", "/me/reports", data={
            "csrf": world.csrf["organisation"], "campaign_id": world.campaign, "title": "We marched",
            "text": "Many came.", "country": "KE", "language": "en", "turnout": turnout}, content_type=FORM)
        findings.check(answer, f"turnout={turnout[:5]}", "organisation.send_report", BROWSER, "POST", {422})
    assert findings == [], "\n".join(findings)
    assert_unchanged(before, snapshot(api, world))


def test_the_page_with_a_webhooks_secret_is_not_kept(api, world):
    added = call(world.org, "POST", "/me/webhooks", data={"csrf": world.csrf["organisation"],
                                                         "url": "http://127.0.0.1:9/kept", "types": "campaign.adopted"},
                 content_type=FORM)
    try:
        assert added.status_code == 200 and 'id="secret"' in added.data.decode()
        assert "no-store" in added.headers.get("Cache-Control", "")
        assert "no-store" in world.org.get("/me").headers.get("Cache-Control", "")
    finally:
        for hook in api.get("/api/notify/webhooks", token=world.token_a).json["items"]:
            if hook["url"].endswith("/kept"):
                api.delete(f"/api/notify/webhooks/{hook['id']}", token=world.token_a)


def test_a_session_cookie_copied_before_signing_out_is_of_no_use_after(api, world):
    browser = ApiClient(api.platform)
    assert sign_in(browser, world.key_a).status_code == 303
    copied = browser.http.get_cookie("doa_session").value
    assert browser.post("/signout", data={"csrf": csrf_of(browser.get("/me"))}, content_type=FORM).status_code == 303
    assert browser.get("/me").status_code == 302
    thief = ApiClient(api.platform)
    thief.http.set_cookie("doa_session", copied)
    assert thief.get("/me").status_code == 302


def test_a_form_field_cannot_steer_the_web_front_to_another_api_call(api, world):
    setting = {"campaign": {"id": world.campaign}, "tokens": [world.token_a, world.token_b]}
    event = submit(api, setting, token=world.token_a, title={"en": "Steered"}).json["id"]  # this test's own
    answer = call(world.org, "POST", "/me/events", data={"csrf": world.csrf["organisation"],
                                                         "campaign_id": f"../events/{event}/cancellation?"},
                  content_type=FORM)
    status = api.get(f"{EVENTS}/{event}", token=world.token_a).json["status"]
    assert (answer.status_code, status) == (422, "submitted")


# --- accessibility of every page ------------------------------------------------------------

class Outline(HTMLParser):
    """Headings, fields and their labels, ids and the references to them, images."""

    FIELDS = {"input", "select", "textarea"}
    UNLABELLED_INPUTS = {"hidden", "submit", "button", "image", "reset"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lang, self.headings, self.ids, self.refs, self.fields, self.labels_for = None, [], [], [], [], set()
        self.images_without_alt, self.open_labels, self.in_svg = 0, 0, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.in_svg += 1
        if tag == "html":
            self.lang = a.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if "id" in a:
            self.ids.append(a["id"])
        for name in ("aria-describedby", "aria-labelledby"):
            self.refs.extend((a.get(name) or "").split())
        if tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
                self.refs.append(a["for"])
        if tag == "img" and "alt" not in a:
            self.images_without_alt += 1
        if tag in self.FIELDS and not (tag == "input" and a.get("type") in self.UNLABELLED_INPUTS):
            self.fields.append((a.get("name"), a.get("id"), self.open_labels > 0,
                                bool(a.get("aria-label") or a.get("aria-labelledby"))))

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1
        if tag == "svg":
            self.in_svg -= 1

    def problems(self) -> list[str]:
        found = []
        if not self.lang:
            found.append("no lang on <html>")
        if self.headings.count(1) != 1 or (self.headings and self.headings[0] != 1):
            found.append(f"headings start with h1, once: {self.headings}")
        found += [f"h{b} after h{a}" for a, b in zip(self.headings, self.headings[1:], strict=False) if b > a + 1]
        found += [f"id {i} twice" for i in set(self.ids) if self.ids.count(i) > 1]
        found += [f"a reference to a missing id {r}" for r in self.refs if r not in self.ids]
        found += [f"field {name} without a label" for name, id_, wrapped, aria in self.fields
                  if not (wrapped or aria or (id_ and id_ in self.labels_for))]
        if self.images_without_alt:
            found.append(f"{self.images_without_alt} images without alt")
        return found


def test_every_page_has_its_outline_labels_and_language(api, world):
    pages = {}
    for rule in web_rules(api):
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES | NOT_THE_WEB_FRONTS:
            continue
        for role in ROLES:
            path = fill(rule, world.own[role])
            for query in ("", "?lang=fa"):
                answer = call(world.clients[role], "GET", path + query)
                if answer.mimetype == "text/html" and answer.data:
                    pages[f"{role} GET {path}{query} ({answer.status_code})"] = answer.data.decode()
    refused = {  # forms shown again with the API's errors beside their fields
        "the event form": (world.org, "/me/events", {"csrf": world.csrf["organisation"], "title": "x",
                                                     "campaign_id": world.campaign, "latitude": "north"}),
        "the edit form": (world.org, f"/me/events/{world.a_submitted}/edit", {"csrf": world.csrf["organisation"],
                                                                             "title": "", "country": "XX"}),
        "the webhook form": (world.org, "/me/webhooks", {"csrf": world.csrf["organisation"], "url": "ftp://x"}),
        "a refused hold": (world.office, "/me/holds", {"csrf": world.csrf["coordinator"], "country": "XX"}),
        "a wrong key": (world.reader, "/signin", {"csrf": world.csrf["reader"], "key": "doa_nope"}),
    }
    for name, (client, path, body) in refused.items():
        answer = call(client, "POST", path, data=body, content_type=FORM)
        assert 400 <= answer.status_code < 500 and answer.mimetype == "text/html", (name, answer.status_code)
        pages[name] = answer.data.decode()
    assert len(pages) > 30
    found = {}
    for name, html in pages.items():
        outline = Outline()
        outline.feed(html)
        if outline.problems():
            found[name] = outline.problems()
    assert found == {}


def test_the_sites_navigation_is_not_labelled_as_the_language_menu(api, world):
    html = world.stranger.get("/").data.decode()
    navigation = re.search(r'<nav [^>]*aria-label="([^"]*)">(.*?)</nav>', html, re.S)
    assert 'href="/signin"' in navigation.group(2)
    assert navigation.group(1) != "Language"

"""Nothing left behind: after a subscriber's erasure, a notify contact's removal and an
organisation's contact e-mail set to null, no file under the data directory (SQLite files and
their -wal/-shm, the .eml files, the platform's log) and no line the platform logged holds any
of the addresses — not only no live row. On PostgreSQL, whose files are not ours to read, every
page of every table and index of the services' databases is read instead (pageinspect); its WAL
and backups are the operator's (docs/notify.md)."""
from __future__ import annotations

import email
import uuid
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from services.notify.models import Notification
from tests.captured_logs import logs_into
from tests.conftest import wait_until
from tests.integration.conftest import ApiClient
from tests.integration.test_finding_events import approved

SUBSCRIPTIONS = "/api/notify/subscriptions"


def forms_of(address: str) -> dict[str, bytes]:
    """The ways a file could hold the address: as written, in UTF-16 (either order)."""
    return {"as written": address.encode(), "UTF-16-LE": address.encode("utf-16-le"),
            "UTF-16-BE": address.encode("utf-16-be")}


def holders(folder: Path, addresses: list[str]) -> list[str]:
    """Each file under `folder` that holds one of the addresses (any case), and how."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes().lower()
        for address in addresses:
            for form, needle in forms_of(address.lower()).items():
                if needle in data:
                    found.append(f"{path.relative_to(folder)} holds {address} ({form})")
    return found


def pg_holders(kernels: dict, addresses: list[str]) -> list[str]:
    """Each table or index page of the services' PostgreSQL databases that holds an address
    (dead row versions included: what VACUUM left in a page's free space)."""
    found = []
    for name, kernel in kernels.items():
        with kernel.db.engine.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            relations = conn.execute(text(
                "SELECT c.oid::regclass::text, pg_relation_size(c.oid) / current_setting('block_size')::int "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 'i', 't')")).all()
            for relation, blocks in relations:
                for (page,) in conn.execute(text("SELECT get_raw_page(:r, g::int) FROM generate_series(0, :n - 1) g"),
                                            {"r": relation, "n": blocks}):
                    data = bytes(page).lower()
                    found += [f"{name}: {relation} holds {a}" for a in addresses if a.lower().encode() in data]
            conn.commit()
    return sorted(set(found))


def mails(var: Path) -> list:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted((var / "mail").glob("*.eml"))]


def mails_to(var: Path, address: str) -> list:
    return [m for m in mails(var) if m["To"] == address]


def link_in(message, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    url = next(word for word in text.split() if f"/api/notify/{path}?token=" in word).strip("<>()")
    return url.split("doa.test", 1)[1]


@pytest.fixture
def log_file(tmp_path):
    """The platform's log as an operator keeps it: INFO and up, through the configured handler,
    into a file under the data directory (so the grep reads it too)."""
    path = tmp_path / "var" / "logs" / "platform.log"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8") as stream, logs_into(stream):
        yield path


@pytest.fixture(params=["sqlite", "postgres"])
def api(request, make_platform, log_file) -> ApiClient:
    """The platform writing its e-mails as .eml files (no SMTP server), the embedded default."""
    return ApiClient(make_platform(db=request.param, PUBLIC_URL="http://doa.test"))


def unsent(api) -> int:
    with api.platform.kernels["notify"].db.transaction() as s:
        return s.execute(select(func.count()).select_from(Notification)
                         .where(Notification.status != "sent")).scalar_one()


def test_erasure_leaves_no_copy_of_the_addresses_anywhere(api, coordinator, setting, log_file, tmp_path, request):
    var = tmp_path / "var"
    tag = uuid.uuid4().hex[:10]
    subscriber, contact, office = (f"erase-me-{tag}@example.org", f"contact-{tag}@example.org",
                                   f"office-{tag}@example.org")
    old_contact = f"old-contact-{tag}@example.org"  # replaced by `contact`: forgotten as if removed

    # An organisation's contact address at the registry.
    org = api.register(coordinator, abbreviation=f"E{tag[:5]}", name=f"Erasure Test {tag}",
                       name_en=f"Erasure Test {tag}", contact_email=office)
    # A notify contact of an organisation, told of its event's approval.
    assert api.put("/api/notify/contacts/me", token=setting["tokens"][0],
                   json={"email": old_contact, "language": "en"}).status_code == 200
    # A subscriber, confirmed, told of a new event.
    assert api.post(SUBSCRIPTIONS, json={"email": subscriber, "language": "en", "scope": "country",
                                         "country": "KE"}).status_code == 202
    bystander = f"stays-{tag}@example.org"  # another subscriber, whose e-mail is kept
    assert api.post(SUBSCRIPTIONS, json={"email": bystander, "language": "en", "scope": "country",
                                         "country": "KE"}).status_code == 202
    wait_until(lambda: mails_to(var, subscriber) and mails_to(var, bystander), message="the confirmation e-mails")
    assert api.post(link_in(mails_to(var, subscriber)[0], "subscriptions/confirmation")).status_code == 200
    approved(api, coordinator, setting, title={"en": "Rally for erasure"})
    wait_until(lambda: len(mails_to(var, subscriber)) == 2, message="the new event's e-mail")
    wait_until(lambda: mails_to(var, old_contact), message="the organisation's e-mail")
    assert api.put("/api/notify/contacts/me", token=setting["tokens"][0],
                   json={"email": contact, "language": "en"}).status_code == 200
    approved(api, coordinator, setting, title={"en": "Second rally"})
    wait_until(lambda: len(mails_to(var, subscriber)) == 3, message="the second event's e-mail")
    wait_until(lambda: mails_to(var, contact), message="the organisation's e-mail to its new address")
    wait_until(lambda: unsent(api) == 0, message="every e-mail sent")

    postgres = request.node.callspec.params["api"] == "postgres"
    replaced = holders(var, [old_contact]) + (pg_holders(api.platform.kernels, [old_contact]) if postgres else [])
    assert not replaced, "a contact's replaced address is still written down:\n" + "\n".join(replaced)

    addresses = [subscriber, contact, office, old_contact]
    before = "\n".join(holders(var, addresses))
    assert f"holds {subscriber}" in before and f"holds {contact}" in before  # the grep finds what is there
    if postgres:
        before = "\n".join(pg_holders(api.platform.kernels, addresses))
        assert f"notify: subscriptions holds {subscriber}" in before and f"holds {office}" in before, before
    else:
        assert "registry.db" in before and f"holds {office}" in before, before

    erase = link_in(mails_to(var, subscriber)[-1], "erasure")
    assert api.post(erase).status_code == 200
    assert api.delete("/api/notify/contacts/me", token=setting["tokens"][0]).status_code == 204
    changed = api.patch(f"/api/registry/organisations/{org['id']}", token=coordinator, json={"contact_email": None})
    assert changed.status_code == 200 and changed.json["contact_email"] is None

    # The platform goes on (its workers write, the relay sends) while we look.
    approved(api, coordinator, setting, title={"en": "After the erasure"})
    wait_until(lambda: unsent(api) == 0, message="the next e-mails sent")
    left = holders(var, addresses) + (pg_holders(api.platform.kernels, addresses) if postgres else [])
    assert not left, "an erased address is still written down:\n" + "\n".join(left)
    assert mails_to(var, bystander) and not mails_to(var, subscriber) and not mails_to(var, contact)
    log = log_file.read_text()
    assert "sent" in log and "e-mails" in log  # the log was written to
    assert "cleaning up after an erasure failed" not in log and "could not be truncated" not in log


@pytest.mark.parametrize("way", ["link", "mail"])
def test_a_participants_erasure_leaves_no_copy_of_their_address_or_name(api, coordinator, organisations, log_file,
                                                                       tmp_path, request, way):
    """Someone who signed up with an address and a name, confirmed it, was written to by the
    hosts, then pressed "erase everything about me" — on their sign-up's page, or in an e-mail:
    no file under the data directory and (on PostgreSQL) no page of any table holds the address
    or the name afterwards."""
    from tests.integration.test_campaigns_api import CAMPAIGNS
    from tests.integration.test_local_events_api import EVENTS, event
    from tests.integration.test_participation import FUTURE_CAMPAIGN, notify_knows

    var, tag = tmp_path / "var", uuid.uuid4().hex[:10]
    address, name = f"participant-{tag}@example.org", f"Parisa{tag}"
    campaign = api.post(CAMPAIGNS, token=coordinator, json=FUTURE_CAMPAIGN).json
    owner = api.organisation_token(coordinator, organisations[0]["id"])[1]
    made = api.post(f"{CAMPAIGNS}/{campaign['id']}/events", token=owner, json=event(
        start="2027-05-01T17:00:00", end="2027-05-01T19:00:00")).json
    api.post(f"{EVENTS}/{made['id']}/approval", token=coordinator)
    wait_until(lambda: notify_knows(api, made["id"]), message="notify to know the event")
    assert api.post(f"/api/notify/events/{made['id']}/participants", json={
        "email": address, "name": name, "show_name": True, "language": "en"}).status_code == 202
    wait_until(lambda: mails_to(var, address), message="the confirmation e-mail")
    assert api.post(link_in(mails_to(var, address)[0], "subscriptions/confirmation")).status_code == 200
    api.post(f"/api/notify/events/{made['id']}/messages", token=owner, json={"text": {"en": "Bring water."}})
    wait_until(lambda: len(mails_to(var, address)) == 2, message="the hosts' message")
    wait_until(lambda: unsent(api) == 0, message="every e-mail sent")
    postgres = request.node.callspec.params["api"] == "postgres"
    before = "\n".join(holders(var, [address, name]) + (pg_holders(api.platform.kernels, [address, name])
                                                        if postgres else []))
    assert f"holds {address}" in before and f"holds {name}" in before  # the grep finds what is there

    text_of_mail = mails_to(var, address)[0].get_body(("plain",)).get_content()
    key = next(w for w in text_of_mail.split() if "doa.test/p/" in w).rsplit("/", 1)[1]
    if way == "link":
        assert api.delete(f"/api/notify/participations/{key}").status_code == 204
    else:
        assert api.post(link_in(mails_to(var, address)[-1], "erasure")).status_code == 200
    assert api.get(f"/api/notify/participations/{key}").status_code == 404
    counts = api.get(f"/api/notify/events/{made['id']}/participation", token=owner).json
    assert counts["coming"] == 0 and counts["cancelled"] == 1  # the count of it stays
    left = holders(var, [address, name]) + (pg_holders(api.platform.kernels, [address, name]) if postgres else [])
    assert not left, "an erased participant is still written down:\n" + "\n".join(left)

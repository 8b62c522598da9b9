"""Mode 3 for real: docker-compose.yml built and started in containers (podman here), then
driven through the nginx gateway as a coordinator and an organisation would, its webhooks and
e-mails received outside the stack; then Redis and the notify worker are SIGKILLed and started
again, and nothing that was accepted is lost. `make test-containers` (docs/containers.md)."""
from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from services.notify.webhooks.signing import verify
from tests.conftest import free_port, wait_until
from tests.containers.stack import IMAGE, ROOT, Stack, need_root, podman
from tests.e2e.conftest import Http, a_campaign, an_organisation, find_key
from tests.integration.conftest import Mailbox
from tests.integration.test_media_uploads import jpeg_with_secrets

PROJECT = "doatest"
EVENTS_AFTER_FAULTS = 3   # approved while the notify worker is dead, and while Redis is
COORDINATOR_MAIL = "office@coalition.example"
ORGANISATION_MAIL = "cpk@example.org"


class Receiver:
    """Webhook requests as they arrive, answered 200; each checked against the endpoint's secret."""

    def __init__(self, host: str):
        self.received: list[dict] = []
        self.secret = ""
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                verify(receiver.secret, dict(self.headers), body)  # raises: a 500, and the test sees none
                with receiver.lock:
                    receiver.received.append({"id": self.headers["webhook-id"], **json.loads(body)})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://{host}:{self.server.server_port}/hooks"

    def approvals(self) -> dict[str, set[str]]:
        """event id → the webhook-ids it came with."""
        with self.lock:
            found: dict[str, set[str]] = {}
            for message in self.received:
                if message["type"] == "event.approved":
                    found.setdefault(message["data"]["id"], set()).add(message["id"])
            return found


@pytest.fixture(scope="module")
def stack():
    need_root()
    figures = {}
    started = time.monotonic()
    prepared = subprocess.run([str(ROOT / "scripts/containers/prepare.sh")], capture_output=True, text=True,
                              timeout=3600)
    assert prepared.returncode == 0, prepared.stdout[-3000:] + prepared.stderr[-3000:]
    figures["stand-in images (prepare.sh)"] = time.monotonic() - started

    started = time.monotonic()
    built = subprocess.run(["nice", "-n", "10", "podman", "build", "-t", IMAGE, "-f", "Dockerfile", "."], cwd=ROOT,
                           capture_output=True, text=True, timeout=3600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    figures["project image (Dockerfile)"] = time.monotonic() - started

    port = free_port()
    stack = Stack(PROJECT, {})
    stack.down()  # what a failed run may have left
    gateway, subnet = stack.gateway()
    smtp_port = free_port()
    stack.env.update({
        "DOA_PORT": f"127.0.0.1:{port}", "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SMTP_HOST": gateway, "SMTP_PORT": str(smtp_port), "SMTP_SECURITY": "none",
        "WEBHOOK_ALLOW": subnet, "POSTGRES_PASSWORD": uuid.uuid4().hex})
    try:
        started = time.monotonic()
        stack.compose("up", "-d", "--no-build")
        stack.wait_healthy()
        figures["stack start to every container healthy"] = time.monotonic() - started
        # The sinks listen on the bridge's host side, which exists once a container runs.
        mailbox = Mailbox()
        smtp = Controller(mailbox, hostname=gateway, port=smtp_port)
        smtp.start()
        receiver = Receiver(gateway)
        yield {"stack": stack, "base": f"http://127.0.0.1:{port}", "mailbox": mailbox, "receiver": receiver,
               "figures": figures}
        smtp.stop()
        receiver.server.shutdown()
    except BaseException:
        print(stack.logs())
        raise
    finally:
        started = time.monotonic()
        stack.down()
        figures["teardown"] = time.monotonic() - started
        print("\n".join(f"{name}: {seconds:.0f} s" for name, seconds in figures.items()))


def an_event(http: Http, token: str, campaign_id: str, title: str) -> str:
    """Submitted as a client would: again after a 503 that says to try again (the events service
    hears of a new organisation over the bus, a moment after the registry made it)."""
    def submit():
        made = http.call("POST", f"/api/events/campaigns/{campaign_id}/events", token=token, json={
            "title": {"en": title}, "activity_type": "rally", "city": "Nairobi", "country": "KE",
            "timezone": "Africa/Nairobi", "start": "2027-05-01T17:00:00", "end": "2027-05-01T19:00:00",
            "address": "Uhuru Park, gate 2", "venue": "Uhuru Park", "latitude": -1.29, "longitude": 36.82})
        if made.status_code == 503 and made.json()["type"].endswith(":not-yet-known"):
            return None
        assert made.status_code == 201, made.text
        return made.json()["id"]

    return wait_until(submit, timeout=30, interval=0.5, message="the events service to know the organisation")


def approve(http: Http, office: str, event_id: str) -> None:
    approved = http.call("POST", f"/api/events/events/{event_id}/approval", token=office)
    assert approved.status_code == 200, approved.text


def mails_about(mailbox: Mailbox, address: str, event_id: str) -> list:
    return [m for m in mailbox.to(address) if event_id in m.get_body(("plain",)).get_content()]


def test_the_compose_stack_serves_the_whole_path_and_loses_nothing_when_redis_and_a_worker_die(stack):
    base, mailbox, receiver = stack["base"], stack["mailbox"], stack["receiver"]
    containers: Stack = stack["stack"]
    http = Http(base)

    # The first coordinator, as docs/deployment.md says: `doa admin create-coordinator` in the registry's container.
    made = containers.exec("registry", "doa", "admin", "create-coordinator", "Coalition office")
    coordinator_key = find_key(made.stdout)
    assert coordinator_key, made.stdout

    # Signing in on the public site, through the gateway.
    form = http.call("GET", "/signin")
    assert form.status_code == 200, form.text[:500]
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    signed_in = http.call("POST", "/signin", data={"csrf": csrf, "key": coordinator_key}, allow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text[:500]
    assert http.call("GET", "/me", allow_redirects=False).headers["Location"].endswith("/me/security")

    office = http.token(coordinator_key)
    assert http.call("PUT", "/api/notify/contacts/me", token=office, json={"email": COORDINATOR_MAIL}).status_code == 200
    _, org_key = an_organisation(
        http, office, abbreviation="CPK", name="Communist Party of Kenya", name_en="Communist Party of Kenya",
        country="KE", timezone="Africa/Nairobi", languages=["en"], contact_email=ORGANISATION_MAIL)
    org = http.token(org_key)
    assert http.call("PUT", "/api/notify/contacts/me", token=org, json={"email": ORGANISATION_MAIL}).status_code == 200
    endpoint = http.call("POST", "/api/notify/webhooks", token=org, json={"url": receiver.url, "types": ["event.approved"]})
    assert endpoint.status_code == 201, endpoint.text
    receiver.secret = endpoint.json()["secret"]
    campaign_id = a_campaign(http, office, name="Global day of action", description="The call.", languages=["en"],
                             day_of_action="2027-05-01", window_start="2027-04-25", window_end="2027-05-10")

    # An organisation submits, the coordinators are told; one approves; the organisation's
    # receiver gets the signed webhook and its office the e-mail.
    first = an_event(http, org, campaign_id, "Rally at Uhuru Park")
    wait_until(lambda: mails_about(mailbox, COORDINATOR_MAIL, first), timeout=60, message="the coordinators' e-mail")
    approve(http, office, first)
    wait_until(lambda: first in receiver.approvals(), timeout=60, message="the signed webhook")
    [decision] = wait_until(lambda: mails_about(mailbox, ORGANISATION_MAIL, first), timeout=60,
                            message="the organisation's e-mail")
    # Its links lead to where people reach the platform (PUBLIC_URL: the gateway), and answer.
    links = re.findall(r"https?://[^\s<>\"]+", decision.get_body(("plain",)).get_content())
    assert links and all(link.startswith(base + "/") for link in links), links
    assert http.session.get(links[0], timeout=10).status_code == 200, links[0]
    page = http.call("GET", f"/campaigns/{campaign_id}")
    assert page.status_code == 200 and "Rally at Uhuru Park" in page.text

    # A phone's photo through the gateway: into the S3 store, cleaned by the media worker,
    # served back without what it said of the phone and the place.
    sent = http.call("POST", f"/api/media/uploads?campaign_id={campaign_id}&event_id={first}&name=IMG_0042.jpg",
                     token=org, data=jpeg_with_secrets(), headers={"Content-Type": "application/octet-stream"})
    assert sent.status_code == 202, sent.text
    item = wait_until(lambda: (found := http.call("GET", sent.headers["Location"], token=org).json())["status"]
                      in ("processed", "rejected", "held") and found, timeout=120, interval=1,
                      message="the media worker to process the photo")
    assert item["status"] == "processed", item
    clean = http.call("GET", item["file_url"], token=org)
    assert clean.status_code == 200 and clean.headers["Content-Type"] == "image/jpeg"
    assert b"iPhone" not in clean.content and b"Apple" not in clean.content

    # The notify worker dies: approvals wait on the bus. Then Redis dies too, at once (its
    # append-only file is written before it answers; `everysec` is when it is fsynced, which
    # matters when the machine dies, not the process): the events service keeps what it
    # accepts meanwhile in its outbox. Both start again.
    containers.kill("notify-worker")
    while_worker_dead = [an_event(http, org, campaign_id, f"March {n}") for n in range(EVENTS_AFTER_FAULTS)]
    for event_id in while_worker_dead:
        approve(http, office, event_id)
    containers.kill("redis")
    while_redis_dead = [an_event(http, org, campaign_id, f"Picket {n}") for n in range(EVENTS_AFTER_FAULTS)]
    for event_id in while_redis_dead:
        approve(http, office, event_id)
    # Nothing got past the dead worker: the approvals were waiting, not sent by another route.
    assert not set(while_worker_dead) & set(receiver.approvals())
    restarted = time.monotonic()
    containers.start("redis")
    containers.start("notify-worker")
    containers.wait_healthy(["redis", "notify-worker"], timeout=120)

    expected = {first, *while_worker_dead, *while_redis_dead}
    wait_until(lambda: set(receiver.approvals()) == expected, timeout=180, interval=1,
               message="every approval's webhook after the restarts")
    wait_until(lambda: all(mails_about(mailbox, ORGANISATION_MAIL, e) for e in expected), timeout=120, interval=1,
               message="the organisation's e-mail about every approval")
    stack["figures"]["restart of Redis and the notify worker to every webhook and e-mail"] = \
        time.monotonic() - restarted
    # Repeats on the wire carry the same webhook-id (receivers drop them): one id per delivery.
    assert all(len(ids) == 1 for ids in receiver.approvals().values()), receiver.approvals()
    assert len(mails_about(mailbox, ORGANISATION_MAIL, first)) == 1
    containers.wait_healthy(timeout=120)
    assert podman("image", "exists", IMAGE, check=False).returncode == 0

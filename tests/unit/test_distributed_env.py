"""`make distributed` (mode 2): the links its e-mails carry lead to its own web front."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

ENV = Path(__file__).resolve().parents[2] / "deploy" / "distributed.env"


def settings() -> dict[str, str]:
    lines = (line.strip() for line in ENV.read_text(encoding="utf-8").splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_mailed_links_point_at_the_web_front_that_answers_them():
    env = settings()
    public = urlsplit(env["PUBLIC_URL"])
    assert public.scheme == "http" and public.hostname == "127.0.0.1"
    assert public.port == int(env["WEB_PORT"]), "confirmation and unsubscribe links would lead nowhere"

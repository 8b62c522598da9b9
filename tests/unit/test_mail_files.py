"""The file outbox's .eml files name their recipient, so none outlives what it belongs to:
those of an erased recipient go at once, the others after MAIL_FILES_KEEP_DAYS or when their
e-mail's record is gone."""
from __future__ import annotations

import os
import time

from services.notify.mail.compose import compose
from services.notify.mail.files import remove_mail_of, sweep
from services.notify.mail.render import Rendered
from services.notify.mail.sending import EmlSender


def _write(folder, notification_id: int, to: str):
    rendered = Rendered(subject="Hello", text="Hi", html="<p>Hi</p>", language="en")
    message = compose(rendered, sender="notify@doa.example", to=to, message_id=f"n{notification_id}")
    return EmlSender(folder).write(message, f"n{notification_id}")


def _addresses_in(folder) -> set[str]:
    found = set()
    for path in folder.glob("*.eml"):
        for line in path.read_bytes().decode().splitlines():
            if line.startswith("To: "):
                found.add(line[4:])
    return found


def test_the_files_of_erased_e_mails_go_and_no_other(tmp_path):
    _write(tmp_path, 1, "erase-me@example.org")
    _write(tmp_path, 12, "erase-me@example.org")
    _write(tmp_path, 12, "erase-me@example.org")  # a second file of one e-mail ("…-n12-1.eml")
    _write(tmp_path, 2, "stays@example.org")
    _write(tmp_path, 121, "stays-too@example.org")  # n121 is not n12
    assert remove_mail_of(tmp_path, [1, 12]) == 3
    assert _addresses_in(tmp_path) == {"stays@example.org", "stays-too@example.org"}
    assert remove_mail_of(tmp_path / "never-written", [2]) == 0


def test_a_sweep_removes_the_old_the_unknown_and_half_written_files(tmp_path):
    now = time.time()
    old = _write(tmp_path, 1, "old@example.org")
    os.utime(old, (now - 8 * 86400, now - 8 * 86400))
    _write(tmp_path, 2, "gone@example.org")  # its record deleted while it was being written
    _write(tmp_path, 3, "kept@example.org")
    half = tmp_path / ".abc.tmp"
    half.write_bytes(b"To: half@example.org\r\n")
    os.utime(half, (now - 7200, now - 7200))
    fresh_half = tmp_path / ".def.tmp"
    fresh_half.write_bytes(b"being written")
    asked = []

    def still_held(ids):
        asked.append(ids)
        return {1, 3}

    assert sweep(tmp_path, 7, still_held, now=now) == 3
    assert asked == [[1, 2, 3]]
    assert _addresses_in(tmp_path) == {"kept@example.org"}
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".tmp") == [".def.tmp"]
    assert sweep(tmp_path / "never-written", 7, still_held, now=now) == 0

"""A rendered e-mail made into a message for one recipient: text and HTML alternatives in UTF-8, and the
headers a mail client and a spam filter expect (RFC 8058 one-click unsubscribe for subscribers).

Nothing else goes in: no X-Mailer, no tracking ids, the Date in UTC so the server's zone is not told.
"""
from __future__ import annotations

import re
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, getaddresses, parseaddr
from urllib.parse import urlsplit

from services.notify.mail.render import Rendered

MESSAGE_ID_DOMAIN = "dayofaction"
# A caller's id goes into Message-ID and into .eml file names, so it keeps to characters safe in both.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=-]{0,200}")
_LINE_BREAK = re.compile(r"[\r\n\x00]")


def compose(rendered: Rendered, *, sender: str, to: str, message_id: str, unsubscribe_url: str | None = None,
            reply_to: str | None = None) -> Message:
    """One message to one address. `message_id` is stable for the e-mail (a re-send is recognisable by it).
    ValueError for a line break in any header value (header injection), a `to` that is not exactly one
    address, a message id with other characters than letters, digits and ._+=-, or a non-http(s) unsubscribe link."""
    if not _MESSAGE_ID.fullmatch(message_id or ""):
        raise ValueError(f"message_id must be letters, digits and ._+=- only, not {message_id!r}")
    headers = {"From": sender, "To": to, "Subject": rendered.subject, "Reply-To": reply_to,
               "Content-Language": rendered.language}
    if unsubscribe_url is not None:
        headers["List-Unsubscribe"] = f"<{_unsubscribe_link(unsubscribe_url)}>"
    for name, value in headers.items():
        if value is not None and _LINE_BREAK.search(value):
            raise ValueError(f"the {name} header must not contain a line break")

    addresses = getaddresses([to])
    if len(addresses) != 1 or "@" not in addresses[0][1] or not all(addresses[0][1].split("@")):
        raise ValueError("an e-mail goes to exactly one address, so no recipient learns another's")
    # The compat32 MIME classes: several times faster than EmailMessage's header objects, which
    # matters when 100,000 subscribers are told of one event.
    message = MIMEMultipart("alternative")
    message["From"] = _header(sender)
    message["To"] = _header(to)
    if reply_to:
        message["Reply-To"] = _header(reply_to)
    message["Subject"] = _header(rendered.subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{message_id}@{MESSAGE_ID_DOMAIN}>"
    # Every e-mail here is sent by the machine: out-of-office replies should not answer it (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url is not None:
        message["List-Unsubscribe"] = headers["List-Unsubscribe"]
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Content-Language"] = rendered.language
    message.attach(MIMEText(rendered.text, "plain", "utf-8"))
    message.attach(MIMEText(rendered.html, "html", "utf-8"))
    return message


def _header(value: str):
    """ASCII as it is; anything else encoded (RFC 2047), display names of addresses included.
    Text that looks like an encoded word ("=?utf-8?b?…?=", from an event's title) is encoded
    too, so that mail programs show it as written, not what the word decodes to."""
    if value.isascii() and "=?" not in value:
        return value
    name, address = parseaddr(value)
    if value.isascii() and value.strip() == address:
        return value  # a bare address: mail programs decode no word in it, and it must stay one
    if address and "@" in address and value.strip().endswith(">") and address.isascii():
        if "=?" in name:
            return f"{Header(name, 'utf-8').encode()} <{address}>"
        return formataddr((name, address), charset="utf-8")
    return Header(value, "utf-8")


def message_id_of(message: Message) -> str:
    """The caller's id back from a composed message's Message-ID ("<abc@dayofaction>" → "abc")."""
    value = str(message.get("Message-ID", "")).strip().strip("<>")
    return value.removesuffix(f"@{MESSAGE_ID_DOMAIN}")


def _unsubscribe_link(url: str) -> str:
    """RFC 8058 wants an HTTPS link the mail client can POST to; http is let through for local development."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or re.search(r"[\s<>\x00-\x1f]", url):
        raise ValueError(f"the unsubscribe link must be an https URL, not {url!r}")
    return url

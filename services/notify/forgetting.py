"""What goes with an address once it leaves notify's tables (an erasure, an unsubscription,
a purge, a contact removed or changed): the .eml files of its e-mails and the old copies of
its rows in the database's files — both once the transaction has committed, never before
(rolled back, nothing was erased)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from services.notify.mail.files import remove_mail_of
from services.notify.models import Notification
from shared.db import Database, forget_after_commit

_KEY = "doa_notify_forget_mail"
# The tables that held the address (the first: rewritten on PostgreSQL, see forget_deleted),
# or what an e-mail to it said (an SMTP reply quoting it in last_error).
SUBSCRIBER_TABLES = ("subscriptions", "notifications", "notices", "reminders")
CONTACT_TABLES = ("contacts", "notifications")


def forget_mail(session: Session, recipients: list[str], tables: tuple[str, ...]) -> None:
    """The e-mails to `recipients` ("subscription:<id>", "contact:<id>") leave no file once
    this transaction commits, and `tables` no old row versions. Call it before deleting the
    recipients' notifications (their ids name the files)."""
    if not recipients:
        return
    ids = session.execute(select(Notification.id).where(Notification.recipient.in_(recipients))).scalars()
    session.info.setdefault(_KEY, set()).update(ids)
    forget_after_commit(session, *tables, rewrite=tables[:1])


def forget_contact(session: Session, owner_id: str) -> None:
    """A contact's address is removed or replaced: its e-mails' files go, and what an SMTP
    server answered about the old address (it may quote it) is cleared from its log."""
    recipient = f"contact:{owner_id}"
    forget_mail(session, [recipient], CONTACT_TABLES)
    session.execute(update(Notification).where(Notification.recipient == recipient,
                                               Notification.last_error.is_not(None)).values(last_error=None))


def install(db: Database, mail_folder: Path) -> None:
    def committed(session: Session) -> None:
        ids = session.info.pop(_KEY, None)
        if ids:
            remove_mail_of(mail_folder, ids)

    event.listen(db.sessions, "after_commit", committed)
    event.listen(db.sessions, "after_soft_rollback", lambda session, _previous: session.info.pop(_KEY, None))

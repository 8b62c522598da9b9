"""Uploads become media items: who may upload where, the item recorded with its message in
one transaction, who may see it afterwards, and a rejection (the worker's, or a
coordinator's of one file). Each use case takes a session and commits nothing; the caller's
transaction holds the change and its message."""
from __future__ import annotations

import logging
import re
import unicodedata
from contextlib import contextmanager
from typing import Iterable, Iterator

from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from services.media.models import Blob, KnownCampaign, KnownEvent, KnownOrganisation, MediaItem
from services.media.receiving import Received
from services.media.reports import is_public_media
from services.media.storage import Storage, blob_key
from shared.auth import Principal
from shared.bus.outbox import Outbox
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.ids import refuse_unknown

log = logging.getLogger("doa.media.uploads")
NO_CAMPAIGN = "No open or closed campaign has this id."
NO_EVENT = "No approved event of this campaign has this id."


def original_key(media_id: str) -> str:
    """Where an upload waits, metadata and all, until the worker has cleaned it: one per item
    and apart from the clean blobs, so removing it never removes anything else. (What is
    kept, the clean files, is stored once per content.)"""
    return f"originals/{media_id}"


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, errors=[{"field": field, "location": "query", "message": message}])


def acting_organisation(session: Session, principal: Principal, organisation_id: str | None,
                        coalition_allowed: bool = True) -> str | None:
    """An organisation acts for itself; a coordinator for the coalition (None, where that is
    allowed) or, naming it, for an organisation the registry announced and did not suspend."""
    if not principal.is_coordinator:
        if organisation_id not in (None, principal.subject_id):
            raise Forbidden("An organisation acts for itself only.")
        return principal.subject_id
    if organisation_id is None:
        if coalition_allowed:
            return None
        raise Invalid("Coordinators name the organisation they act for.",
                      errors=[{"field": "organisation_id", "location": "json", "message": "Missing data."}])
    known = session.get(KnownOrganisation, organisation_id)
    if known is None or known.status != "active":
        refused = Invalid("No active organisation has this id.",
                          errors=[{"field": "organisation_id", "location": "json",
                                   "message": "No active organisation has this id."}])
        if known is None:
            refuse_unknown(organisation_id, refused, "this organisation")
        raise refused
    return organisation_id


def check_target(session: Session, principal: Principal, options: dict) -> tuple[KnownCampaign, KnownEvent | None]:
    """The campaign (and event) an upload is for must exist, and an event must be the
    uploader's own."""
    campaign = session.get(KnownCampaign, options["campaign_id"])
    if campaign is None:
        refuse_unknown(options["campaign_id"], _invalid("campaign_id", NO_CAMPAIGN), "this campaign")
    if campaign.status == "draft":
        raise _invalid("campaign_id", NO_CAMPAIGN)
    event = None
    if options.get("event_id"):
        event = session.get(KnownEvent, options["event_id"])
        if event is None:
            refuse_unknown(options["event_id"], _invalid("event_id", NO_EVENT), "this event")
        if event.campaign_id != campaign.id or event.status != "approved":
            raise _invalid("event_id", NO_EVENT)
        if not principal.is_coordinator and event.organisation_id != principal.subject_id:
            raise Forbidden("Media are attached to the uploader's own events only.")
    return campaign, event


def clean_name(name: str | None) -> str | None:
    """The uploader's file name, for display and downloads: no path, no control characters."""
    if not name:
        return None
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"]", "", name).strip(" .")
    return name[:200] or None


def accept(session: Session, outbox: Outbox, storage: Storage, principal: Principal, options: dict,
           received: Received) -> MediaItem:
    """Record an upload and announce it to the worker. The caller has stored the original
    (`store_original`) before its transaction, so no lock is held while bytes move."""
    campaign, event = check_target(session, principal, options)
    item = MediaItem(id=received.media_id,
                     organisation_id=acting_organisation(session, principal, options.get("organisation_id")),
                     uploaded_by=principal.subject_id, campaign_id=campaign.id, event_id=event.id if event else None,
                     kind=received.sniffed.kind, content_type=received.sniffed.content_type, size=received.size,
                     name=clean_name(options.get("name")), original_sha256=received.sha256,
                     consent=bool(options.get("consent")), blur_faces=bool(options.get("blur_faces")),
                     status="received", variants={})
    session.add(item)
    session.flush()
    outbox.add(session, "media.uploaded", message_data(item))
    return item


@contextmanager
def stored_original(storage: Storage, received: Received) -> Iterator[None]:
    """Put the upload into storage under its item's id; take it out again if the item is not
    recorded after all (the block raised)."""
    storage.put(received.path, original_key(received.media_id), received.sniffed.content_type)
    try:
        yield
    except BaseException:
        storage.delete(original_key(received.media_id))
        raise


def message_data(item: MediaItem) -> dict:
    return {"id": item.id, "organisation_id": item.organisation_id, "campaign_id": item.campaign_id,
            "event_id": item.event_id, "kind": item.kind, "content_type": item.content_type, "size": item.size,
            "status": item.status}


def may_manage(item: MediaItem, principal: Principal | None) -> bool:
    return principal is not None and (principal.is_coordinator or (
        item.organisation_id is not None and principal.owns(item.organisation_id)))


def get_item(session: Session, media_id: str, principal: Principal | None) -> tuple[MediaItem, bool]:
    """The item and whether the caller manages it (its owner, coordinators) or is the public
    seeing a published one. What a caller may not see does not exist for it."""
    item = session.get(MediaItem, media_id)
    if item is not None and may_manage(item, principal):
        return item, True
    if item is not None and is_public_media(session, item.id, utcnow()):
        return item, False
    raise NotFound("No media item has this id.")


def remember_blob(session: Session, sha256: str, size: int, content_type: str) -> None:
    if session.get(Blob, sha256) is None:
        session.add(Blob(sha256=sha256, size=size, content_type=content_type))


def forget_unreferenced_blobs(session: Session, shas: Iterable[str]) -> list[str]:
    """The counterpart of `remember_blob`: of these blobs, those no media item refers to any
    more (as its clean file or as a variant) lose their row. Answers their storage keys, to
    be deleted once the caller's transaction is committed (never before: it may roll back)."""
    shas = sorted(set(shas))
    if not shas:
        return []
    session.flush()  # the caller's own item no longer refers to them
    # Locked, in order: two rejections of the same bytes see each other's outcome, and a new
    # item the worker records with one as its clean file waits (its foreign key), then fails
    # and is processed again if the row went (PostgreSQL; SQLite writes one transaction at a
    # time anyway).
    session.execute(select(Blob.sha256).where(Blob.sha256.in_(shas)).order_by(Blob.sha256).with_for_update()).all()
    keys = []
    for sha in shas:
        referenced = session.execute(select(MediaItem.id).where(or_(
            MediaItem.clean_sha256 == sha,
            cast(MediaItem.variants, String).contains(sha, autoescape=True))).limit(1)).first()
        if referenced is None:
            session.execute(delete(Blob).where(Blob.sha256 == sha))
            keys.append(blob_key(sha))
    return keys


def delete_stored(storage: Storage, keys: Iterable[str]) -> None:
    """Delete files once what decided it is committed. A store that fails is logged with the
    keys, for an operator to remove by hand: the decision stands."""
    for key in keys:
        try:
            storage.delete(key)
        except Exception:
            log.exception("could not delete %s from media storage; delete it by hand", key)


def record_rejection(session: Session, outbox: Outbox, item: MediaItem, reason: str) -> None:
    """The item is rejected, with why, and `media.rejected` says so: the worker's verdict on a
    file it cannot clean, and a coordinator's on one that must not be seen."""
    item.status, item.reason, item.processed_at = "rejected", reason, utcnow()
    outbox.add(session, "media.rejected", {**message_data(item), "reason": reason})


# "processing": the worker has the file and would overwrite the verdict; "rejected": decided.
REJECTABLE = ("received", "held", "processed")


def reject(session: Session, outbox: Outbox, media_id: str, reason: str) -> tuple[MediaItem, list[str]]:
    """A coordinator rejects one file (a face that must not be seen…), saying why: it is
    never served again, to the public nor to its owner, and leaves every report it is part of
    while the rest of the report goes on. Answers the item and the storage keys to delete
    once the transaction is committed (`delete_stored`): the upload as it came, if still
    there, and the clean file and its variants unless another item has the same bytes."""
    item = session.get(MediaItem, media_id)
    if item is None:
        raise NotFound("No media item has this id.")
    seen = item.status
    # Only from the state it was read in: the worker may claim a received item meanwhile.
    won = seen in REJECTABLE and session.execute(
        update(MediaItem).where(MediaItem.id == item.id, MediaItem.status == seen).values(status="rejected")
        .execution_options(synchronize_session=False)).rowcount == 1
    if not won:
        session.refresh(item)
        if item.status == "rejected":
            raise Conflict("The file is already rejected.", current_status=item.status, reason=item.reason)
        if item.status == "processing":
            raise Conflict("The file is being processed; decide on it once it is done.", current_status=item.status)
        raise Conflict(f"The file became {item.status} meanwhile; try again.", current_status=item.status)
    shas = {item.clean_sha256, *(v["sha256"] for v in (item.variants or {}).values())} - {None}
    item.clean_sha256 = item.clean_content_type = None
    item.variants = {}
    record_rejection(session, outbox, item, reason)
    return item, [original_key(item.id), *forget_unreferenced_blobs(session, shas)]

"""What the views hand to their response schemas: the stored rows with the links the API adds
(a file's URL, its variants' URLs, a report's media), and the lookups several resources share.
The schemas in `schemas.py` dump these; no view builds an answer by hand."""
from __future__ import annotations

from types import SimpleNamespace

from flask import request

from services.media import reports
from services.media.models import KnownCampaign, Material, MediaItem, Report, public_revisions
from services.media.storage import Storage
from shared.db import utcnow
from shared.errors import NotFound
from shared.ids import refuse_unknown
from shared.kernel import current_kernel as kernel
from shared.kernel import dependency
from shared.revisions import status_and_revision

# What the public sees of a file (MediaOut's other fields are for those who manage it).
PUBLIC_MEDIA_FIELDS = ("id", "kind", "content_type", "file_url", "variants", "width", "height", "duration")


class Linked:
    """A row with what the API adds to it: the extra attributes first, then the row's own."""

    def __init__(self, row, **extra):
        self.__dict__.update(extra)
        self._row = row

    def __getattr__(self, name):  # only asked for what `extra` does not hold
        return getattr(self.__dict__["_row"], name)


def storage() -> Storage:
    return dependency("storage")  # built once per process by the service's bootstrap (app.py)


def url(path: str) -> str:
    """An absolute path under this service, for Location headers and links."""
    return f"{request.script_root}/api/media{path}"


def media_out(item: MediaItem, manager: bool):
    """An item as its owner and coordinators see it, or (manager False) as the public does."""
    base = url(f"/media/{item.id}")
    variants = {name: {**v, "url": f"{base}/variants/{name}"} for name, v in (item.variants or {}).items()}
    if manager:
        return Linked(item, file_url=f"{base}/file" if item.status == "processed" else None, variants=variants)
    return SimpleNamespace(id=item.id, kind=item.kind, content_type=item.clean_content_type,
                           file_url=f"{base}/file", variants=variants, width=item.width, height=item.height,
                           duration=item.duration)


def reports_out(session, rows: list[Report], principal, wanted: tuple[str, ...] = ()) -> list[Linked]:
    """Reports with their media — all of them for those who manage a report, what the public
    may see for everyone else — and their text in the first of the `wanted` languages they have."""
    now = utcnow()
    public = reports.attached_media(session, [r.id for r in rows], True, now)
    full = reports.attached_media(session, [r.id for r in rows if reports.may_manage(r, principal)], False, now)
    return [Linked(r, media=[media_out(m, True) for m in full[r.id]] if r.id in full
                   else [media_out(m, False) for m in public[r.id]], **reports.in_language(r, wanted)) for r in rows]


def material_out(material: Material, **extra) -> Linked:
    return Linked(material, file_url=url(f"/media/{material.media_id}/file"), **extra)


def _unknown_campaign(campaign_id: str):
    refuse_unknown(str(campaign_id), NotFound("No campaign has this id."), "this campaign")


def public_campaign(session, campaign_id) -> KnownCampaign:
    """A campaign the public may see: 404 for a draft or a made-up id, 503 for one made a
    moment ago that this service has not heard of yet."""
    campaign = session.get(KnownCampaign, str(campaign_id))
    if campaign is None:
        _unknown_campaign(campaign_id)
    if campaign.status == "draft":
        raise NotFound("No campaign has this id.")
    return campaign


def public_revision(campaign_id: str) -> int:
    """Of a campaign the public may see (as `public_campaign`): one query per request."""
    with kernel().db.engine.connect() as connection:
        row = status_and_revision(connection, public_revisions, KnownCampaign, campaign_id)
    if row is None:
        _unknown_campaign(campaign_id)
    if row[0] == "draft":
        raise NotFound("No campaign has this id.")
    return row[1]

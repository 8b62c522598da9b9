"""The campaign's material package: statements, lectures, songs, slogans, posters and videos
that coordinators publish for everyone, each in versions, and the whole package as one zip
streamed with a manifest of every file's SHA-256."""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.media.models import Blob, KnownCampaign, Material, MediaItem
from services.media.sniff import EXTENSIONS
from services.media.storage import Storage, blob_key
from shared.bus.outbox import Outbox
from shared.errors import Invalid, NotFound
from shared.ids import new_id, refuse_unknown

KINDS = ("statement", "lecture", "song", "slogan", "poster", "video", "other")
MESSAGE_FIELDS = ("id", "series_id", "version", "campaign_id", "kind", "language", "title")


def message_data(material: Material) -> dict:
    return {f: getattr(material, f) for f in MESSAGE_FIELDS}


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, errors=[{"field": field, "location": "json", "message": message}])


def _publishable(session: Session, media_id: str, campaign_id: str) -> MediaItem:
    item = session.get(MediaItem, media_id)
    if item is None:
        raise _invalid("media_id", "No upload has this id.")
    if item.campaign_id != campaign_id:
        raise _invalid("media_id", "The file was uploaded for another campaign.")
    if item.status != "processed":
        raise _invalid("media_id", f"The file is {item.status}; only a processed file is published.")
    if item.organisation_id is not None:  # an organisation's upload is public only through its report
        raise _invalid("media_id", "The material package holds the coalition's own uploads (made by a "
                                   "coordinator for no organisation), not an organisation's.")
    return item


def publish(session: Session, outbox: Outbox, campaign_id: str, coordinator_id: str, fields: dict) -> Material:
    campaign = session.get(KnownCampaign, campaign_id)
    if campaign is None:
        refuse_unknown(campaign_id, NotFound("No campaign has this id."), "this campaign")
    _publishable(session, fields["media_id"], campaign.id)
    series = new_id()
    material = Material(id=series, series_id=series, version=1, current=True, campaign_id=campaign.id,
                        kind=fields["kind"], language=fields["language"], title=fields["title"],
                        description=fields.get("description") or "", media_id=fields["media_id"],
                        published_by=coordinator_id)
    session.add(material)
    session.flush()
    outbox.add(session, "material.published", message_data(material))
    return material


def replace(session: Session, outbox: Outbox, earlier: Material, coordinator_id: str, fields: dict) -> Material:
    """A new version of an item; the earlier ones stay, no longer current."""
    _publishable(session, fields["media_id"], earlier.campaign_id)
    current = session.execute(select(Material).where(Material.series_id == earlier.series_id, Material.current)
                              .with_for_update()).scalar_one()
    current.current = False
    session.flush()
    material = Material(series_id=current.series_id, version=current.version + 1, current=True,
                        campaign_id=current.campaign_id, kind=fields.get("kind") or current.kind,
                        language=fields.get("language") or current.language,
                        title=fields.get("title") or current.title,
                        description=fields["description"] if "description" in fields else current.description,
                        media_id=fields["media_id"], published_by=coordinator_id)
    session.add(material)
    session.flush()
    outbox.add(session, "material.published", message_data(material))
    return material


def get_material(session: Session, material_id: str) -> Material:
    material = session.get(Material, material_id)
    if material is None:
        raise NotFound("No material has this id.")
    return material


def versions(session: Session, material: Material) -> list[Material]:
    return list(session.execute(select(Material).where(Material.series_id == material.series_id)
                                .order_by(Material.version.desc())).scalars())


# The order of the package: by kind, then language, oldest first (the list pages by it).
PACKAGE_ORDER = (Material.kind, Material.language, Material.created_at, Material.id)


def _current(stmt, campaign_id: str, language: str | None):
    stmt = (stmt.join(MediaItem, MediaItem.id == Material.media_id).join(Blob, Blob.sha256 == MediaItem.clean_sha256)
            .where(Material.campaign_id == campaign_id, Material.current))
    return stmt.where(Material.language == language) if language else stmt


def current_statement(campaign_id: str, language: str | None):
    """The current items with their files' hash, type and size, in the package's order."""
    stmt = select(Material, MediaItem.clean_sha256, MediaItem.clean_content_type, Blob.size)
    return _current(stmt, campaign_id, language).order_by(*PACKAGE_ORDER)


def listing_statement(campaign_id: str, language: str | None):
    """The current items, unordered: for a page (keyset_page orders by PACKAGE_ORDER)."""
    return _current(select(Material), campaign_id, language)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "item"


def package_entries(rows) -> list[dict]:
    """Each file's place in the zip, with what the manifest says of it."""
    entries, used = [], set()
    for material, sha, content_type, size in rows:
        base = f"{material.kind}/{material.language}-{_slug(material.title)}-v{material.version}"
        path, n = f"{base}.{EXTENSIONS.get(content_type, 'bin')}", 2
        while path in used:  # two items with one title: both keep their file
            path, n = f"{base}-{n}.{EXTENSIONS.get(content_type, 'bin')}", n + 1
        used.add(path)
        entries.append({"path": path, "sha256": sha, "size": size, "content_type": content_type,
                        "id": material.id, "series_id": material.series_id, "version": material.version,
                        "kind": material.kind, "language": material.language, "title": material.title,
                        "description": material.description})
    return entries


def readable_index(campaign_name: str, entries: list[dict]) -> str:
    lines = [f"Material package: {campaign_name}", "", f"{len(entries)} files. Check a file with: sha256sum <path>",
             ""]
    for e in entries:
        lines += [f"{e['path']}", f"  {e['title']} ({e['kind']}, {e['language']}, version {e['version']})",
                  f"  {e['size']:,} bytes, SHA-256 {e['sha256']}", ""]
    return "\n".join(lines)


def zip_stream(storage: Storage, campaign: KnownCampaign, entries: list[dict]) -> Iterator[bytes]:
    """The package as a zip, made while it is sent: each file is read from storage in chunks
    and stored as it is (photos, videos and PDFs do not compress), so memory stays flat."""
    from zipstream import ZIP_STORED, ZipStream

    package = ZipStream(compress_type=ZIP_STORED, sized=True)
    manifest = {"campaign": {"id": campaign.id, "name": campaign.name}, "files": entries}
    package.add(json.dumps(manifest, ensure_ascii=False, indent=2).encode(), "manifest.json")
    package.add(readable_index(campaign.name, entries).encode(), "INDEX.txt")
    for entry in entries:
        package.add(storage.read(blob_key(entry["sha256"])), entry["path"], size=entry["size"])
    return package

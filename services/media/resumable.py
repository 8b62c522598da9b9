"""Resumable uploads, as the tus protocol 1.0.0 says (core, creation, termination and
expiration): a large video over a bad connection continues from where it stopped.

The bytes grow in a local part file; the database holds the offset. A PATCH holds an
exclusive lock on the part file, so two at once cannot interleave. When the last byte is in,
the file goes the way of every upload (`uploads.accept`).
"""
from __future__ import annotations

import base64
import binascii
import fcntl
import re
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import ClientDisconnected

from services.media.models import ResumableUpload
from services.media.receiving import CHUNK, TooLarge, check_size, check_type, limits
from services.media.sniff import HEAD_SIZE, Sniffed
from shared.auth import Principal
from shared.config import Config
from shared.db import utcnow
from shared.errors import Conflict, DomainError, Invalid, Malformed, NotFound

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration"


class Gone(DomainError):
    status, type_ = 410, "gone"


def part_path(folder: Path, upload_id: str) -> Path:
    return folder / f"{upload_id}.part"


def parse_metadata(header: str | None) -> dict[str, str]:
    """`Upload-Metadata`: comma-separated `key base64(value)` pairs."""
    out: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in (header or "").split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            out[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8") if encoded else ""
        except (binascii.Error, UnicodeDecodeError):
            raise Malformed("Upload-Metadata values must be base64 of UTF-8 text.",
                          errors=[{"field": key, "location": "header", "message": "Not base64 of UTF-8 text."}]) \
                from None
    return out


def parse_length(value: str | None, name: str) -> int:
    if value is None or not re.fullmatch(r"[0-9]{1,15}", value):  # isdigit() takes "²" too
        raise Malformed(f"{name} must be a whole number of bytes.",
                      errors=[{"field": name, "location": "header", "message": "A whole number of bytes."}])
    return int(value)


def create(session: Session, config: Config, folder: Path, principal: Principal, organisation_id: str | None,
           length: int, options: dict) -> ResumableUpload:
    largest = max(limits(config).values())
    if length > largest:
        raise TooLarge(f"No upload may have more than {largest:,} bytes.")
    if length == 0:
        raise Invalid("The upload is empty.", errors=[{"field": "Upload-Length", "location": "header",
                                                       "message": "Must be more than 0."}])
    upload = ResumableUpload(organisation_id=organisation_id, uploaded_by=principal.subject_id, length=length,
                             offset=0, options=options,
                             expires_at=utcnow() + timedelta(hours=config.MEDIA_UPLOAD_EXPIRY_HOURS))
    session.add(upload)
    session.flush()
    part_path(folder, upload.id).touch()
    return upload


def get(session: Session, upload_id: str, principal: Principal) -> ResumableUpload:
    upload = session.get(ResumableUpload, upload_id)
    if upload is None or upload.uploaded_by != principal.subject_id:
        raise NotFound("No upload of yours has this id.")
    if upload.media_id is None and upload.expires_at <= utcnow():
        raise Gone("This upload expired; start a new one.")
    return upload


@contextmanager
def locked(path: Path) -> Iterator[BinaryIO]:
    """The part file, held by this request alone: a PATCH, a DELETE and the expiry purge each
    take it, so none pulls the file from under another."""
    try:
        f = open(path, "r+b")
    except FileNotFoundError:
        raise Gone("This upload's bytes are gone; start a new one.") from None
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict("Another request is working on this upload right now.") from None
        yield f
    finally:
        f.close()


def append(part: BinaryIO, offset: int, length: int, stream: BinaryIO, config: Config) -> tuple[int, Sniffed | None]:
    """Write what the request brings at `offset`; answer the new offset, and what the file is
    once its first bytes are in (refused early when it is not taken, or too large). A client
    that drops the connection keeps what arrived: it asks for the offset and goes on."""
    part.seek(offset)
    sniffed = _sniff_part(part, offset, length, config)
    try:
        while offset < length:
            try:
                chunk = stream.read(min(CHUNK, length - offset))
            except ClientDisconnected:
                break
            if not chunk:
                break
            part.write(chunk)
            offset += len(chunk)
            if sniffed is None:
                part.flush()
                sniffed = _sniff_part(part, offset, length, config)
                part.seek(offset)
    finally:
        part.flush()
    return offset, sniffed


def _sniff_part(part: BinaryIO, offset: int, length: int, config: Config) -> Sniffed | None:
    if offset < min(HEAD_SIZE, length):
        return None
    part.seek(0)
    sniffed = check_type(part.read(HEAD_SIZE))
    check_size(sniffed, length, config)
    return sniffed


def expired(session: Session, now: datetime) -> list[ResumableUpload]:
    return list(session.execute(select(ResumableUpload).where(ResumableUpload.media_id.is_(None),
                                                              ResumableUpload.expires_at <= now)).scalars())

"""An upload's bytes, taken in as they arrive: written to a local file in chunks, hashed on
the way, its type decided by its first bytes, its size held to its kind's limit while it
streams. Whatever goes wrong, the partial file is removed."""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from services.media.sniff import HEAD_SIZE, Sniffed, sniff
from shared.config import Config
from shared.errors import DomainError, Invalid
from shared.ids import new_id

CHUNK = 256 * 1024


class TooLarge(DomainError):
    status, type_ = 413, "too-large"


class UnsupportedType(DomainError):
    status, type_ = 415, "unsupported-media-type"


@dataclass(frozen=True)
class Received:
    path: Path
    sha256: str
    size: int
    sniffed: Sniffed
    media_id: str = field(default_factory=new_id)  # the item it will become


def limits(config: Config) -> dict[str, int]:
    return {"photo": config.MEDIA_MAX_PHOTO_BYTES, "video": config.MEDIA_MAX_VIDEO_BYTES,
            "audio": config.MEDIA_MAX_AUDIO_BYTES, "document": config.MEDIA_MAX_DOCUMENT_BYTES}


def check_type(head: bytes) -> Sniffed:
    sniffed = sniff(head)
    if sniffed is None:
        raise UnsupportedType("This kind of file is not taken: photos (JPEG, PNG, WebP, HEIC), videos (MP4, WebM, "
                              "QuickTime), songs (MP3, Ogg, M4A) and documents (PDF, ODT, DOCX, plain text) are.")
    return sniffed


def check_size(sniffed: Sniffed, size: int, config: Config) -> None:
    limit = limits(config)[sniffed.kind]
    if size > limit:
        raise TooLarge(f"A {sniffed.kind} may have {limit:,} bytes at most.", limit=limit, kind=sniffed.kind)


def receive(stream: BinaryIO, config: Config, folder: Path, declared_length: int | None = None) -> Received:
    """Read `stream` to its end into a new file in `folder`."""
    if declared_length is not None and declared_length > max(limits(config).values()):
        raise TooLarge(f"No upload may have more than {max(limits(config).values()):,} bytes.")
    fd, name = tempfile.mkstemp(dir=folder, suffix=".upload")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest, size, head, sniffed = hashlib.sha256(), 0, b"", None
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
                if sniffed is None:
                    head += chunk[:HEAD_SIZE - len(head)]
                    if len(head) >= HEAD_SIZE:
                        sniffed = check_type(head)
                        if declared_length is not None:
                            check_size(sniffed, declared_length, config)  # no need to wait for the bytes
                if sniffed is not None:
                    check_size(sniffed, size, config)
            if size == 0:
                raise Invalid("The upload is empty.", errors=[{"field": "body", "location": "body",
                                                              "message": "An empty file is not a photo, video, song "
                                                                         "or document."}])
            if sniffed is None:  # shorter than the head
                sniffed = check_type(head)
                check_size(sniffed, size, config)
        return Received(path, digest.hexdigest(), size, sniffed)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()

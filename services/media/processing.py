"""The media worker's processing loop: it takes received uploads one at a time, cleans them
outside any database transaction (a video may take minutes), stores what the cleaning made
and announces `media.processed`, or `media.rejected` with why.

The database is the queue: an item is claimed by moving it from `received` to `processing`
with a time stamp; one whose worker died is claimed again after LEASE. `media.uploaded`
only wakes the loop early.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select, update

from services.media import resumable
from services.media.models import MediaItem
from services.media.privacy import Unprocessable
from services.media.receiving import sha256_of
from services.media.resumable import Gone
from services.media.storage import Storage, blob_key, work_dir
from services.media.uploads import message_data, original_key, record_rejection, remember_blob
from shared.db import utcnow
from shared.errors import Conflict
from shared.kernel import Kernel

log = logging.getLogger("doa.media.processing")

WAKE = threading.Event()
LEASE = timedelta(hours=2)  # longer than the longest video takes
MAX_ATTEMPTS = 3  # a file that crashes the worker this often is rejected
POLL_SECONDS = 5.0
PURGE_EVERY_SECONDS = 600


@dataclass
class Output:
    """What cleaning made of an upload."""

    path: Path
    content_type: str
    variants: dict[str, tuple[Path, str, dict]] = field(default_factory=dict)  # name -> (path, type, extra)
    facts: dict = field(default_factory=dict)  # width, height, duration, faces_blurred


class NeedsFfmpeg(Exception):
    """Videos and songs wait, held, until ffmpeg is installed."""


def clean(item: MediaItem, source: Path, folder: Path, ffmpeg: str) -> Output:
    """Run the privacy pipeline of the item's kind on its original."""
    if item.kind == "photo":
        from services.media.privacy.photos import clean_photo

        photo = clean_photo(source, item.content_type, folder, item.blur_faces)
        return Output(photo.path, photo.content_type,
                      {str(width): (path, "image/jpeg", {"width": min(width, photo.width)})
                       for width, path in photo.derivatives.items()},
                      {"width": photo.width, "height": photo.height, "faces_blurred": photo.faces_blurred})
    if item.kind in ("video", "audio"):
        from services.media.privacy import av

        if not av.ffmpeg_available(ffmpeg):
            raise NeedsFfmpeg
        if item.kind == "audio":
            audio = av.clean_audio(source, item.content_type, folder, ffmpeg=ffmpeg)
            return Output(audio.path, audio.content_type, facts={"duration": audio.duration})
        video = av.clean_video(source, item.content_type, folder, ffmpeg=ffmpeg)
        variants = {"poster": (video.poster, "image/jpeg", {})} if video.poster else {}
        return Output(video.path, video.content_type, variants,
                      {"duration": video.duration, "width": video.width, "height": video.height})
    from services.media.privacy.documents import clean_document

    target = folder / "clean"
    clean_document(source, item.content_type, target)
    return Output(target, item.content_type)


class Processor:
    def __init__(self, kernel: Kernel, storage: Storage):
        self.kernel = kernel
        self.storage = storage
        self._last_purge = float("-inf")

    @property
    def ffmpeg(self) -> str:
        return self.kernel.config.FFMPEG

    def run_forever(self, stop: threading.Event) -> None:
        self.release_held()
        while not stop.is_set():
            WAKE.clear()  # before looking: a wake during the look is kept for the next round
            try:
                self.purge_expired_uploads()
                worked = self.process_next()
            except Exception:  # a database or storage outage: wait, then go on
                log.exception("media processing failed; trying again shortly")
                worked = False
            if not worked:
                self._idle(stop)

    @staticmethod
    def _idle(stop: threading.Event) -> None:
        """Until a `media.uploaded` wakes the loop, the worker stops, or it is time to look
        at the queue anyway (an item whose message was lost, a claim whose worker died)."""
        for _ in range(int(POLL_SECONDS / 0.25)):
            if stop.is_set() or WAKE.wait(0.25):
                break

    def purge_expired_uploads(self) -> None:
        """Resumable uploads left unfinished past their expiry: their bytes go (tus expiration)."""
        now = time.monotonic()
        if now - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        folder = work_dir(self.kernel.config)
        with self.kernel.db.transaction() as session:
            for upload in resumable.expired(session, utcnow()):
                try:
                    with resumable.locked(resumable.part_path(folder, upload.id)):
                        resumable.part_path(folder, upload.id).unlink(missing_ok=True)
                except Conflict:  # a PATCH is writing right now: next round
                    continue
                except Gone:
                    pass
                session.delete(upload)
        self._remove_leftovers(folder)

    @staticmethod
    def _remove_leftovers(folder: Path) -> None:
        """What a process killed mid-upload or mid-processing left in the work folder."""
        stale = time.time() - LEASE.total_seconds()
        for path in folder.iterdir():
            try:
                if path.stat().st_mtime > stale:
                    continue
                if path.is_dir() and path.name.startswith("processing-"):
                    shutil.rmtree(path, ignore_errors=True)
                elif path.suffix == ".upload":
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue

    def release_held(self) -> None:
        """Held videos and songs go back to the queue once ffmpeg is there."""
        from services.media.privacy import av

        if av.ffmpeg_available(self.ffmpeg):
            with self.kernel.db.transaction() as session:
                session.execute(update(MediaItem).where(MediaItem.status == "held").values(status="received"))

    def claim(self) -> str | None:
        stale = utcnow() - LEASE
        with self.kernel.db.transaction() as session:
            row = session.execute(
                select(MediaItem.id, MediaItem.status).where(or_(
                    MediaItem.status == "received",
                    (MediaItem.status == "processing") & (MediaItem.claimed_at < stale)))
                .order_by(MediaItem.created_at).limit(1)).first()
            if row is None:
                return None
            # Only one worker wins the item: the update names the state it was read in.
            won = session.execute(update(MediaItem).where(MediaItem.id == row.id, MediaItem.status == row.status)
                                  .values(status="processing", claimed_at=utcnow(),
                                          attempts=MediaItem.attempts + 1)).rowcount
            return row.id if won == 1 else None

    def process_next(self) -> bool:
        media_id = self.claim()
        if media_id is None:
            return False
        with self.kernel.db.transaction() as session:
            item = session.get(MediaItem, media_id)
            session.expunge(item)
        folder = Path(tempfile.mkdtemp(dir=work_dir(self.kernel.config), prefix="processing-"))
        try:
            source = folder / "original"
            self.storage.fetch(original_key(item.id), source)
            output = clean(item, source, folder, self.ffmpeg)
            self._finish(item.id, output)
        except Unprocessable as exc:
            self._reject(item.id, exc.reason)
        except NeedsFfmpeg:
            self._hold(item.id)
        except Exception as exc:
            log.exception("processing media %s failed", item.id)
            if item.attempts >= MAX_ATTEMPTS:
                self._reject(item.id, f"The file could not be processed ({type(exc).__name__}).")
            else:
                with self.kernel.db.transaction() as session:
                    session.get(MediaItem, item.id).status = "received"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return True

    def _store(self, path: Path, content_type: str) -> tuple[str, int]:
        sha, size = sha256_of(path), path.stat().st_size
        if self.storage.exists(blob_key(sha)):
            path.unlink()
        else:
            self.storage.put(path, blob_key(sha), content_type)
        return sha, size

    def _finish(self, media_id: str, output: Output) -> None:
        stored = {"": (*self._store(output.path, output.content_type), output.content_type, {})}
        for name, (path, content_type, extra) in output.variants.items():
            stored[name] = (*self._store(path, content_type), content_type, extra)
        with self.kernel.db.transaction() as session:
            item = session.get(MediaItem, media_id)
            for sha, size, content_type, _ in stored.values():
                remember_blob(session, sha, size, content_type)
            sha, _, content_type, _ = stored.pop("")
            item.clean_sha256, item.clean_content_type = sha, content_type
            item.variants = {name: {"sha256": s, "content_type": t, "size": n, **extra}
                             for name, (s, n, t, extra) in stored.items()}
            for name, value in output.facts.items():
                setattr(item, name, value)
            item.status, item.processed_at, item.reason = "processed", utcnow(), None
            self.kernel.outbox.add(session, "media.processed", message_data(item))
        self._drop_original(media_id)
        log.info("media %s processed", media_id)

    def _reject(self, media_id: str, reason: str) -> None:
        with self.kernel.db.transaction() as session:
            record_rejection(session, self.kernel.outbox, session.get(MediaItem, media_id), reason)
        self._drop_original(media_id)
        log.info("media %s rejected: %s", media_id, reason)

    def _hold(self, media_id: str) -> None:
        with self.kernel.db.transaction() as session:
            item = session.get(MediaItem, media_id)
            item.status = "held"
            item.reason = "Waiting for ffmpeg: videos and songs are published only once their metadata is removed."
        log.warning("media %s held: ffmpeg (%s) is not installed", media_id, self.ffmpeg)

    def _drop_original(self, media_id: str) -> None:
        """The upload as it came (GPS, device, names) goes once the item is decided."""
        self.storage.delete(original_key(media_id))

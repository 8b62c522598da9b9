"""Where media files live: a local folder by default, an S3-compatible object store when
configured. Content is addressed by its SHA-256 (`blob_key`), so the same bytes are stored
once. Files are always read and written in chunks: nothing here holds a file whole."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator, Protocol
from urllib.parse import urlparse

from shared.config import Config

CHUNK = 1024 * 1024


def blob_key(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}"


class Storage(Protocol):
    def put(self, source: Path, key: str, content_type: str) -> None:
        """Store the local file `source` under `key` (the file is moved or removed)."""

    def exists(self, key: str) -> bool: ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes from `start` to `end` (inclusive; None: the last), in chunks."""

    def fetch(self, key: str, target: Path) -> None:
        """Copy the object to a local file (the worker processes local files)."""

    def delete(self, key: str) -> None: ...


class LocalStorage:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / key

    def put(self, source: Path, key: str, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, path)  # a rename when both are on one file system

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        with open(self._path(key), "rb") as f:
            f.seek(start)
            left = None if end is None else end - start + 1
            while left is None or left > 0:
                chunk = f.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def fetch(self, key: str, target: Path) -> None:
        shutil.copyfile(self._path(key), target)

    def delete(self, key: str) -> None:
        try:
            os.remove(self._path(key))
        except FileNotFoundError:
            pass


class S3Storage:
    """Any store that speaks the S3 API (AWS, MinIO, Ceph…). Uploads go up in parts
    (boto3's managed transfer), downloads come down in ranges: memory stays bounded."""

    def __init__(self, bucket: str, prefix: str, config: Config):
        import boto3  # only deployments with a store need it loaded

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = boto3.client(
            "s3", endpoint_url=config.S3_ENDPOINT_URL or None, region_name=config.S3_REGION,
            aws_access_key_id=config.S3_ACCESS_KEY_ID or None,
            aws_secret_access_key=config.S3_SECRET_ACCESS_KEY or None)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, source: Path, key: str, content_type: str) -> None:
        self.client.upload_file(str(source), self.bucket, self._key(key), ExtraArgs={"ContentType": content_type})
        os.remove(source)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        # No Range for the whole object: S3 answers a range of an empty object with 416.
        wanted = {} if start == 0 and end is None else {"Range": f"bytes={start}-{'' if end is None else end}"}
        body = self.client.get_object(Bucket=self.bucket, Key=self._key(key), **wanted)["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def fetch(self, key: str, target: Path) -> None:
        self.client.download_file(self.bucket, self._key(key), str(target))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def open_storage(config: Config) -> Storage:
    url = config.MEDIA_STORAGE_URL
    if not url:
        return LocalStorage(config.var_dir / "media")
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(Path(parsed.path))
    if parsed.scheme == "s3" and parsed.netloc:
        return S3Storage(parsed.netloc, parsed.path, config)
    raise ValueError(f"MEDIA_STORAGE_URL must be file:///path or s3://bucket/prefix, not {url!r}")


def work_dir(config: Config) -> Path:
    """Local room for uploads arriving and files being processed (always on this machine)."""
    path = config.var_dir / "media-work"
    path.mkdir(parents=True, exist_ok=True)
    return path

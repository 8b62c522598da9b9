"""Office documents are zip packages of XML parts (ODT, DOCX): opened only once they are safe
to decompress (no bombs, no escaping paths, no encryption), their parts checked to be plain
well-formed XML, and copied entry by entry with fresh headers, some parts dropped or edited."""
from __future__ import annotations

import contextlib
import html
import pyexpat
import re
import shutil
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote

from services.media.privacy import Unprocessable
from services.media.privacy.embedded_images import PNG_SIGNATURE, strip_image

CHUNK = 1 << 20
_MAX_ENTRY_SIZE = 200 * 1024 * 1024
_MAX_ENTRIES = 10_000
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # entry times would say when, and in which time zone, it was edited
Edit = str | Callable[[str], str]  # a part's new text, or how to edit its XML
# An XML attribute value, quoted either way; and the inside of a tag, quotes taken into account.
VALUE = r"(?:\"[^\"]*\"|'[^']*')"
TAG_BODY = r"(?:[^>\"']|\"[^\"]*\"|'[^']*')*"


@contextlib.contextmanager
def open_package(source: Path) -> Iterator[tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]]:
    """The archive and its entries once they are known to be safe to decompress; any zip or deflate
    error inside the block means a corrupt document."""
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            _check_entries(infos, source.stat().st_size)
            yield archive, infos
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, UnicodeDecodeError) as exc:
        raise Unprocessable("corrupt document: the archive cannot be read") from exc


def _check_entries(infos: list[zipfile.ZipInfo], archive_size: int) -> None:
    """Refuse decompression bombs (from the sizes in the central directory, which zipfile enforces
    when reading), paths that would escape a folder, encryption, and duplicate names (two readers
    could pick different ones)."""
    if len(infos) > _MAX_ENTRIES:
        raise Unprocessable("decompression bomb: too many entries in the archive")
    total, seen = 0, set()
    for info in infos:
        name = info.filename
        parts = re.split(r"[\\/]", name)
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts:
            raise Unprocessable("unsafe archive: an entry has an absolute path or '..'")
        if name.lower() in seen:
            raise Unprocessable("unsafe archive: an entry name appears twice")
        seen.add(name.lower())
        if not 0 <= info.header_offset < archive_size:
            raise Unprocessable("corrupt document: the archive cannot be read")
        if info.flag_bits & 0x01:
            raise Unprocessable("encrypted document")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Unprocessable("corrupt document: unsupported compression in the archive")
        if info.file_size > _MAX_ENTRY_SIZE:
            raise Unprocessable("decompression bomb: an entry of the archive expands beyond 200 MB")
        total += info.file_size
    if total > 20 * archive_size + 10 * 1024 * 1024:
        raise Unprocessable("decompression bomb: the archive expands to more than 20 times its size")


def read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as entry:
        return entry.read(info.file_size + 1)  # zipfile stops at the declared size and checks the CRC


def xml_part(data: bytes) -> str:
    """The text of an XML part, once known to be well-formed UTF-8 XML without a DTD. The edits are
    textual: well-formedness is what makes them safe (every element they look for is closed, so no
    search runs to the end of the part again and again) and keeps the output well-formed; no DTD
    means no entity tricks (neither OOXML nor ODF use one)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unprocessable("corrupt document: a part is not UTF-8 XML") from None

    def refuse_dtd(*args: object) -> None:
        raise Unprocessable("corrupt document: a part declares a DTD")

    parser = pyexpat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    try:
        parser.Parse(text, True)
    except pyexpat.ExpatError:
        raise Unprocessable("corrupt document: a part is not well-formed XML") from None
    return text


def rewrite(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    target: Path,
    dropped: set[str],
    edit_for: Callable[[str], Edit | None],
    stored_first: str | None = None,
) -> None:
    """Copy the archive entry by entry into `target`, one entry in memory at most: without the
    `dropped` entries, the parts `edit_for` names replaced (a text) or edited (a function of the
    part's XML), photos stripped, fresh entry headers (no times, comments or extra fields), and
    `stored_first` first and uncompressed."""
    if stored_first is not None:
        infos = sorted(infos, key=lambda info: info.filename != stored_first)
    with zipfile.ZipFile(target, "w") as out:
        for info in infos:
            name = info.filename
            if name in dropped:
                continue
            fresh = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            stored = info.compress_type == zipfile.ZIP_STORED or name == stored_first
            fresh.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            fresh.external_attr = (0o40755 << 16 | 0x10) if info.is_dir() else 0o644 << 16
            edit = edit_for(name)
            if info.is_dir():
                out.writestr(fresh, b"")
            elif name == stored_first:
                out.writestr(fresh, read_entry(archive, info))
            elif isinstance(edit, str):
                out.writestr(fresh, edit.encode("utf-8"))
            elif edit is not None:
                out.writestr(fresh, edit(xml_part(read_entry(archive, info))).encode("utf-8"))
            else:
                with archive.open(info) as entry:
                    start = entry.read(8)
                    if start.startswith((b"\xff\xd8\xff", PNG_SIGNATURE)):
                        out.writestr(fresh, strip_image(start + entry.read(info.file_size + 1)))
                        continue
                    with out.open(fresh, "w") as copy:
                        copy.write(start)
                        shutil.copyfileobj(entry, copy, CHUNK)


def attribute(tag: str, name: str) -> str | None:
    found = re.search(rf"\s{re.escape(name)}\s*=\s*({VALUE})", tag)
    return html.unescape(found.group(1)[1:-1]) if found else None


def remove_elements(text: str, element: str, remove: Callable[[str], bool]) -> str:
    """Remove each <element .../> or <element ...>...</element> for whose start tag `remove` is true."""
    pattern = re.compile(rf"<{element}\b{TAG_BODY}>(?:(?<=/>)|.*?</{element}\s*>)", re.S)
    return pattern.sub(lambda found: "" if remove(found.group(0)) else found.group(0), text)


def part_name(name: str | None) -> str:
    return unquote(name or "").lstrip("/").lower()

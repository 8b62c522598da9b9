"""Documents published without what says who wrote them, on which computer, and when: document
properties, XMP, revision history, the names on comments and tracked changes, thumbnails (a preview
of an earlier state of the document), and what can act on a reader (PDF JavaScript, actions, embedded
files). Photos embedded in a document lose their EXIF/XMP/IPTC (GPS position, camera serial, author).

Each cleaner reads the upload from disk and writes a new file; nothing is edited in place. A file
that is not what its first bytes claim, is damaged, encrypted, or too big once decompressed is
refused with Unprocessable, and no partial copy is left at the target.
"""
from __future__ import annotations

import codecs
import contextlib
import html
import os
import posixpath
import pyexpat
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote

import pikepdf

from services.media.privacy import Unprocessable
from services.media.sniff import DOCX, HEAD_SIZE, ODT, Sniffed, sniff

_DESCRIPTIONS = {"application/pdf": "a PDF", ODT: "an ODT document", DOCX: "a DOCX document", "text/plain": "a plain text"}
_CHUNK = 1 << 20


def clean_document(source: Path, content_type: str, target: Path) -> None:
    """Write to `target` a copy of the document without author, creator tool, revision history,
    comments' authors where feasible, and embedded thumbnails; raise Unprocessable(reason) when the
    file is corrupt or is not really of that type.

    `content_type` is what sniff() found for the upload: one of the document types of ALLOWED
    (ValueError for any other, a caller's mistake). `target` is written only on success."""
    cleaners: dict[str, Callable[[Path, Path], None]] = {
        "application/pdf": _clean_pdf,
        ODT: _clean_odt,
        DOCX: _clean_docx,
        "text/plain": _clean_text,
    }
    if content_type not in cleaners:
        raise ValueError(f"{content_type!r} is not a document type")
    source, target = Path(source), Path(target)
    with source.open("rb") as file:
        head = file.read(HEAD_SIZE)
    # The content type comes from the upload's first bytes; checked again here, as the cleaning of
    # one type must never be handed another (a PNG "renamed" to PDF, HTML sent as text...).
    found = sniff(head)
    if found is None or found.content_type != content_type:
        raise Unprocessable(_mismatch(content_type, found, head))
    with _written_atomically(target) as partial:
        cleaners[content_type](source, partial)


def _mismatch(content_type: str, found: Sniffed | None, head: bytes) -> str:
    """Why the upload is not what it was taken for, in words its sender can act on."""
    if found is not None:
        return f"not {_DESCRIPTIONS[content_type]}: its content is {found.content_type}"
    if content_type == "text/plain":
        try:
            text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            return "not a plain text: it is not valid UTF-8"
        if _TEXT_CONTROL.search(text):
            return "not a plain text: it contains NUL or control characters"
        if not text.strip():
            return "not a plain text: it is empty"
        return "not a plain text: it looks like markup (HTML, SVG, XML), a script or another format"
    return f"not {_DESCRIPTIONS[content_type]}: its content is not of an accepted type"


@contextlib.contextmanager
def _written_atomically(target: Path) -> Iterator[Path]:
    """A new file beside `target` that becomes `target` only when the cleaning succeeds."""
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=".cleaning-")
    os.close(descriptor)
    partial = Path(name)
    try:
        yield partial
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


# --- Embedded photos -------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_METADATA = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


def _strip_jpeg(data: bytes) -> bytes:
    """The JPEG without its APP1-APP15 and COM segments (EXIF and its thumbnail, XMP, IPTC, maker
    notes, MPF previews) nor anything after its end, losslessly: the scans are copied byte for byte.
    Kept: JFIF (without its thumbnail), the ICC colour profile and the Adobe segment colours depend on."""
    if not data.startswith(b"\xff\xd8"):
        raise Unprocessable("an embedded image is corrupt")
    out = [b"\xff\xd8"]
    pos, end = 2, len(data)
    while pos < end:
        if data[pos] != 0xFF:
            raise Unprocessable("an embedded image is corrupt")
        while pos < end and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= end:
            break
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # end of image: what follows (MPF previews, anything appended) is dropped
            out.append(b"\xff\xd9")
            return b"".join(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out.append(bytes((0xFF, marker)))
            continue
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > end:
            raise Unprocessable("an embedded image is corrupt")
        payload = data[pos + 2 : pos + length]
        if marker == 0xE0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14:
            out.append(b"\xff\xe0\x00\x10" + payload[:12] + b"\x00\x00")  # JFIF without its thumbnail
        elif (
            not (0xE0 <= marker <= 0xEF or marker == 0xFE)
            or (marker == 0xE2 and payload.startswith(b"ICC_PROFILE\x00"))
            or (marker == 0xEE and payload.startswith(b"Adobe"))
        ):
            out.append(data[pos - 2 : pos + length])
        pos += length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker
            scan = pos
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= end:
                    pos = end  # no end marker: a cut image, kept as it is
                    break
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos += 2
                elif following == 0xFF:
                    pos += 1
                else:
                    break
            out.append(data[scan:pos])
    return b"".join(out)


def _strip_png(data: bytes) -> bytes:
    """The PNG without its text chunks (author, software, comments), EXIF and modification time."""
    out = [_PNG_SIGNATURE]
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            break
        if kind not in _PNG_METADATA:
            out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            return b"".join(out)
    raise Unprocessable("an embedded image is corrupt")


def _strip_image(data: bytes) -> bytes:
    if data.startswith(b"\xff\xd8\xff"):
        return _strip_jpeg(data)
    if data.startswith(_PNG_SIGNATURE):
        return _strip_png(data)
    return data


# --- PDF -------------------------------------------------------------------------------------

# Keys that carry metadata or act on the reader, wherever they are (catalog, pages, XObjects, annotations).
_PDF_DROPPED_KEYS = ("/Metadata", "/PieceInfo", "/LastModified", "/Thumb", "/AA", "/AF")
_PDF_CATALOG_DROPPED = ("/OpenAction", "/Collection", "/SpiderInfo")
_SAFE_ACTIONS = {"/URI", "/GoTo", "/Named"}  # a web link, a place in the document, "next page"...
_EMBEDDING_ANNOTATIONS = {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}


def _clean_pdf(source: Path, target: Path) -> None:
    with source.open("rb") as file:
        file.seek(max(0, source.stat().st_size - 1024))
        if b"%%EOF" not in file.read():
            # qpdf would rebuild a cut file silently; a cut upload is refused rather than half published.
            raise Unprocessable("truncated PDF: it has no end-of-file marker")
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError:
        raise Unprocessable("encrypted PDF") from None
    except pikepdf.PikepdfError as exc:
        raise Unprocessable("corrupt PDF: it cannot be read") from exc
    with pdf:
        if pdf.is_encrypted:  # even with an empty user password: its permissions would not survive
            raise Unprocessable("encrypted PDF")
        try:
            if len(pdf.pages) == 0:
                raise Unprocessable("corrupt PDF: it has no pages")
            _strip_pdf(pdf)
            # No /ID in the trailer, so qpdf does not keep the original's first ID element; a
            # deterministic ID is a hash of the cleaned content, without the time or the file's name.
            pdf.save(target, deterministic_id=True, fix_metadata_version=False, preserve_pdfa=False)
        except (pikepdf.PikepdfError, ValueError, TypeError, KeyError) as exc:
            raise Unprocessable("corrupt PDF: it cannot be rewritten") from exc


def _strip_pdf(pdf: pikepdf.Pdf) -> None:
    for key in ("/Info", "/ID"):
        if key in pdf.trailer:
            del pdf.trailer[key]
    root = pdf.Root
    for key in _PDF_DROPPED_KEYS + _PDF_CATALOG_DROPPED:
        if key in root:
            del root[key]
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        for key in ("/JavaScript", "/EmbeddedFiles"):
            if key in names:
                del names[key]
    form = root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary) and "/XFA" in form:
        del form["/XFA"]  # XFA forms carry scripts; the AcroForm fields remain
    # Every indirect object: page-level and XObject-level metadata, actions, thumbnails, photos.
    # What is no longer referenced (the old info dictionary, XMP streams...) is not written at all.
    for obj in pdf.objects:
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            _strip_pdf_object(obj)
        if isinstance(obj, pikepdf.Stream):
            _strip_pdf_photo(obj)
    for page in pdf.pages:
        annotations = page.obj.get("/Annots")
        if isinstance(annotations, pikepdf.Array):
            kept = [
                annotation
                for annotation in annotations
                if not (
                    isinstance(annotation, pikepdf.Dictionary)
                    and str(annotation.get("/Subtype", "")) in _EMBEDDING_ANNOTATIONS
                )
            ]
            for annotation in kept:
                if isinstance(annotation, pikepdf.Dictionary):
                    _strip_annotation(annotation)
            page.obj.Annots = pikepdf.Array(kept)


def _strip_pdf_object(obj: pikepdf.Object) -> None:
    for key in _PDF_DROPPED_KEYS:
        if key in obj:
            del obj[key]
    action = obj.get("/A")
    if isinstance(action, pikepdf.Dictionary) and (
        str(action.get("/S", "")) not in _SAFE_ACTIONS or "/Next" in action
    ):
        del obj["/A"]  # JavaScript, Launch, SubmitForm, GoToR...


def _strip_annotation(annotation: pikepdf.Dictionary) -> None:
    """A comment without its author (/T) or dates. A form field's /T is its name, and stays."""
    _strip_pdf_object(annotation)
    for key in ("/M", "/CreationDate"):
        if key in annotation:
            del annotation[key]
    if str(annotation.get("/Subtype", "")) != "/Widget" and "/T" in annotation:
        del annotation["/T"]


def _strip_pdf_photo(stream: pikepdf.Stream) -> None:
    """JPEG images are often embedded as they came from the camera, EXIF and GPS included."""
    if str(stream.get("/Subtype", "")) != "/Image":
        return
    filters = stream.get("/Filter")
    if isinstance(filters, pikepdf.Array):
        filters = filters[0] if len(filters) == 1 else None
    if str(filters) != "/DCTDecode":
        return
    raw = stream.read_raw_bytes()
    cleaned = _strip_jpeg(raw)
    if cleaned != raw:
        stream.write(cleaned, filter=pikepdf.Name.DCTDecode, decode_parms=stream.get("/DecodeParms"))


# --- Zip packages (ODT, DOCX) ------------------------------------------------------------------

_MAX_ENTRY_SIZE = 200 * 1024 * 1024
_MAX_ENTRIES = 10_000
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # entry times would say when, and in which time zone, it was edited
Edit = str | Callable[[str], str]  # a part's new text, or how to edit its XML
# An XML attribute value, quoted either way; and the inside of a tag, quotes taken into account.
_VALUE = r"(?:\"[^\"]*\"|'[^']*')"
_TAG_BODY = r"(?:[^>\"']|\"[^\"]*\"|'[^']*')*"


@contextlib.contextmanager
def _package(source: Path) -> Iterator[tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]]:
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


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as entry:
        return entry.read(info.file_size + 1)  # zipfile stops at the declared size and checks the CRC


def _xml_part(data: bytes) -> str:
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


def _rewrite(
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
                out.writestr(fresh, _read_entry(archive, info))
            elif isinstance(edit, str):
                out.writestr(fresh, edit.encode("utf-8"))
            elif edit is not None:
                out.writestr(fresh, edit(_xml_part(_read_entry(archive, info))).encode("utf-8"))
            else:
                with archive.open(info) as entry:
                    start = entry.read(8)
                    if start.startswith((b"\xff\xd8\xff", _PNG_SIGNATURE)):
                        out.writestr(fresh, _strip_image(start + entry.read(info.file_size + 1)))
                        continue
                    with out.open(fresh, "w") as copy:
                        copy.write(start)
                        shutil.copyfileobj(entry, copy, _CHUNK)


def _attribute(tag: str, name: str) -> str | None:
    found = re.search(rf"\s{re.escape(name)}\s*=\s*({_VALUE})", tag)
    return html.unescape(found.group(1)[1:-1]) if found else None


def _remove_elements(text: str, element: str, remove: Callable[[str], bool]) -> str:
    """Remove each <element .../> or <element ...>...</element> for whose start tag `remove` is true."""
    pattern = re.compile(rf"<{element}\b{_TAG_BODY}>(?:(?<=/>)|.*?</{element}\s*>)", re.S)
    return pattern.sub(lambda found: "" if remove(found.group(0)) else found.group(0), text)


def _part_name(name: str | None) -> str:
    return unquote(name or "").lstrip("/").lower()


# --- DOCX ------------------------------------------------------------------------------------

_DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_CORE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
    ' xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
_APP_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
    ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>'
)
# In Word's parts: people's names, initials and account ids (comments, tracked changes, people.xml).
_WORD_BLANKED = re.compile(rf"(\s(?:[\w.-]+:)?(?:author|initials|userId|providerId)\s*=\s*){_VALUE}")
# Revision dates and the rsid editing-session ids (they link documents edited in the same session).
_WORD_REMOVED = re.compile(rf"\s(?:[\w.-]+:)?(?:date|dateUtc|rsid\w*)\s*=\s*{_VALUE}")
_WORD_TAG = re.compile(rf"<[A-Za-z_][\w.:-]*(?=[^>]*?(?:author|initials|userId|providerId|date|rsid)){_TAG_BODY}>")


def _docx_drops(name: str) -> bool:
    return (
        name.startswith(("docProps/thumbnail.", "_xmlsignatures/"))
        or name == "docProps/custom.xml"  # custom properties: sensitivity labels name their owner's e-mail
        or name in ("word/vbaProject.bin", "word/vbaData.xml", "word/_rels/vbaProject.bin.rels")
    )


def _clean_docx(source: Path, target: Path) -> None:
    with _package(source) as (archive, infos):
        names = {info.filename for info in infos}
        if not {"word/document.xml", "[Content_Types].xml"} <= names:
            raise Unprocessable("not a DOCX document: word/document.xml or [Content_Types].xml is missing")
        content_types = _xml_part(_read_entry(archive, archive.getinfo("[Content_Types].xml")))
        if _docx_main_type(content_types) != _DOCX_MAIN:
            raise Unprocessable("not a DOCX document: a template, a macro-enabled or another Office document")
        dropped = {name for name in names if _docx_drops(name)}
        kept = names - dropped

        def edit_for(name: str) -> Edit | None:
            if name == "[Content_Types].xml":
                return lambda text: _prune_content_types(text, dropped, kept)
            if name == "docProps/core.xml":
                return _CORE_XML
            if name == "docProps/app.xml":
                return _APP_XML
            if name.endswith(".rels"):
                return lambda text: _prune_relationships(text, name, dropped)
            if name == "word/settings.xml":
                return lambda text: _scrub_word(_scrub_word_settings(text))
            if name.startswith("word/") and name.endswith(".xml"):
                return _scrub_word
            return None

        _rewrite(archive, infos, target, dropped, edit_for)


def _docx_main_type(content_types: str) -> str | None:
    default = None
    for tag in re.findall(rf"<(?:Override|Default)\b{_TAG_BODY}>", content_types):
        if tag.startswith("<Override") and _part_name(_attribute(tag, "PartName")) == "word/document.xml":
            return _attribute(tag, "ContentType")
        if tag.startswith("<Default") and (_attribute(tag, "Extension") or "").lower() == "xml":
            default = _attribute(tag, "ContentType")
    return default


def _prune_content_types(text: str, dropped: set[str], kept: set[str]) -> str:
    """Without the overrides of dropped parts, nor the defaults only dropped parts used."""
    dropped_lower = {name.lower() for name in dropped}

    def extension(name: str) -> str:
        return posixpath.splitext(name)[1][1:].lower()

    kept_extensions = {extension(name) for name in kept}
    dropped_extensions = {extension(name) for name in dropped} - kept_extensions
    text = _remove_elements(
        text, "Override", lambda tag: _part_name(_attribute(tag, "PartName")) in dropped_lower
    )
    return _remove_elements(
        text, "Default", lambda tag: (_attribute(tag, "Extension") or "").lower() in dropped_extensions
    )


def _prune_relationships(text: str, rels_name: str, dropped: set[str]) -> str:
    """Without the relationships to dropped parts, nor the attached template (its path names the
    author's account, "C:\\Users\\jane\\...", and a remote one is a known way to load macros)."""
    base = posixpath.dirname(posixpath.dirname(rels_name))  # word/_rels/x.rels describes word/x
    dropped_lower = {name.lower() for name in dropped}

    def remove(tag: str) -> bool:
        if (_attribute(tag, "Type") or "").endswith("/attachedTemplate"):
            return True
        target = _attribute(tag, "Target")
        if target is None or _attribute(tag, "TargetMode") == "External":
            return False
        path = target if target.startswith("/") else posixpath.normpath(posixpath.join("/", base, target))
        return _part_name(path) in dropped_lower

    return _remove_elements(text, "Relationship", remove)


def _scrub_word_settings(text: str) -> str:
    text = re.sub(r"<w:rsids\b.*?</w:rsids\s*>", "", text, flags=re.S)
    return _remove_elements(text, "w:attachedTemplate", lambda tag: True)


def _scrub_word(text: str) -> str:
    """Blank the names (attributes required by the schema stay, empty) and drop dates and rsids, in
    start tags only: the document's own text is never touched."""

    def scrub(tag: re.Match) -> str:
        return _WORD_REMOVED.sub("", _WORD_BLANKED.sub(r'\1""', tag.group(0)))

    return _WORD_TAG.sub(scrub, text)


# --- ODT -------------------------------------------------------------------------------------

# Whole folders: preview images, macros (Basic, Python/JavaScript scripts); and signatures, which name
# the signer and would no longer match the cleaned content anyway.
_ODT_DROPPED_FOLDERS = ("Thumbnails/", "Basic/", "Scripts/")
_ODT_DROPPED_FILES = {"META-INF/documentsignatures.xml", "META-INF/macrosignatures.xml"}
# Who and when in comments and tracked changes: <dc:creator>, <dc:date>, the author's initials.
_ODT_PEOPLE = re.compile(
    r"(<(dc:creator|dc:date|meta:creator-initials|loext:sender-initials)\b[^>]*(?<!/)>).*?(</\2\s*>)", re.S
)
# The printer's name and driver set-up (often a network path) in settings.xml.
_ODT_PRINTER = re.compile(
    r"(<config:config-item\b[^>]*config:name=\"(?:PrinterName|PrinterSetup)\"[^>]*(?<!/)>).*?(</config:config-item\s*>)",
    re.S,
)


def _odt_meta(version: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"'
        f' office:version="{version}"><office:meta/></office:document-meta>'
    )


def _clean_odt(source: Path, target: Path) -> None:
    with _package(source) as (archive, infos):
        first = infos[0] if infos else None
        if (
            first is None
            or first.filename != "mimetype"
            or first.compress_type != zipfile.ZIP_STORED
            or _read_entry(archive, first) != ODT.encode()
        ):
            raise Unprocessable("not an ODT document: the first entry is not a stored 'mimetype' of a text")
        names = {info.filename for info in infos}
        if "content.xml" not in names:
            raise Unprocessable("not an ODT document: content.xml is missing")
        manifest = ""
        if "META-INF/manifest.xml" in names:
            manifest = _xml_part(_read_entry(archive, archive.getinfo("META-INF/manifest.xml")))
        if "encryption-data" in manifest:
            raise Unprocessable("encrypted document")
        version = "1.2"
        if "meta.xml" in names:
            meta = _read_entry(archive, archive.getinfo("meta.xml")).decode("utf-8", "replace")
            found = re.search(r'office:version="([0-9.]{1,5})"', meta)  # kept: readers compare the parts'
            version = found.group(1) if found else version
        dropped = {name for name in names if name.startswith(_ODT_DROPPED_FOLDERS) or name in _ODT_DROPPED_FILES}

        def edit_for(name: str) -> Edit | None:
            if name == "meta.xml":
                return _odt_meta(version)
            if name == "META-INF/manifest.xml":
                return lambda text: _prune_manifest(text, dropped)
            if name in ("content.xml", "styles.xml"):
                return lambda text: _ODT_PEOPLE.sub(r"\1\3", text)
            if name == "settings.xml":
                return lambda text: _ODT_PRINTER.sub(r"\1\2", text)
            return None

        _rewrite(archive, infos, target, dropped, edit_for, stored_first="mimetype")


def _prune_manifest(text: str, dropped: set[str]) -> str:
    def remove(tag: str) -> bool:
        path = _attribute(tag, "manifest:full-path") or ""
        return path in dropped or path.startswith(_ODT_DROPPED_FOLDERS) or path in _ODT_DROPPED_FILES

    return _remove_elements(text, "manifest:file-entry", remove)


# --- Plain text ------------------------------------------------------------------------------

_TEXT_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _clean_text(source: Path, target: Path) -> None:
    """Checked all through (the sniffing saw only the head), copied as it is without a leading BOM."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with source.open("rb") as text, target.open("wb") as copy:
            chunk = text.read(_CHUNK)
            if chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8) :]
            while chunk:
                if _TEXT_CONTROL.search(decoder.decode(chunk)):
                    raise Unprocessable("not a plain text: it contains NUL or control characters")
                copy.write(chunk)
                chunk = text.read(_CHUNK)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise Unprocessable("not a plain text: it is not valid UTF-8") from None

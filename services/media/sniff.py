"""What an upload is, decided from its first bytes only: never from its name or its declared type,
which the sender controls. Anything that is not clearly one of the allowed types is refused.

`filetype` gives the first guess for the formats with a fixed signature (JPEG, PNG, WebP, PDF, Ogg).
It is not enough on its own, so these are checked here instead:
- ISO-BMFF (MP4, MOV, M4A, HEIC) are told apart by the ftyp brands: filetype calls any file with an
  `isom`/`mp41`/`mp42` compatible brand an MP4 (a Canon CR3 raw too), misses the HEIF variants
  (`heix`, `hevc`, `mif1`+`heix`...) and knows M4A only by the first three letters of the brand;
- WebM needs the EBML header's DocType to be exactly "webm": filetype searches the whole head for the
  string and only with a one-byte size;
- MP3: filetype takes "ID3" followed by anything (FLAC, AAC) and misses frames with CRC (FF FA) and
  MPEG 2.5 frames; here the ID3 header is checked, skipped, and the first MPEG layer III frame header
  after it checked when it lies in the head;
- Ogg: filetype says audio for any Ogg; here the first packet must be Vorbis, Opus, FLAC or Speex;
- ODT: filetype compares only a prefix of the mimetype entry (an ODT template or master document
  passes) and does not check that the entry is stored; DOCX: its matcher misses archives whose entries
  come in another order;
- plain text, which filetype does not detect at all.
"""
from __future__ import annotations

import codecs
import re
import struct
from dataclasses import dataclass

import filetype


@dataclass(frozen=True)
class Sniffed:
    kind: str  # photo | video | audio | document
    content_type: str  # one of ALLOWED
    extension: str  # without the dot, e.g. "jpg"


HEAD_SIZE = 8192  # how many first bytes sniff() wants (it must work with fewer when the file is shorter)

ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# content type -> kind: the single list of what the media service accepts.
ALLOWED: dict[str, str] = {
    "image/jpeg": "photo",
    "image/png": "photo",
    "image/webp": "photo",
    "image/heic": "photo",
    "video/mp4": "video",
    "video/webm": "video",
    "video/quicktime": "video",
    "audio/mpeg": "audio",
    "audio/ogg": "audio",
    "audio/mp4": "audio",
    "application/pdf": "document",
    ODT: "document",
    DOCX: "document",
    "text/plain": "document",
}

EXTENSIONS: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/mp4": "m4a",
    "application/pdf": "pdf",
    ODT: "odt",
    DOCX: "docx",
    "text/plain": "txt",
}


def _found(content_type: str) -> Sniffed:
    return Sniffed(ALLOWED[content_type], content_type, EXTENSIONS[content_type])


def sniff(head: bytes) -> Sniffed | None:
    """The allowed type of a file whose first (up to HEAD_SIZE) bytes are `head`, or None to refuse it.
    A head shorter than HEAD_SIZE is taken to be the whole file."""
    head = bytes(head[:HEAD_SIZE])
    if not head:
        return None
    guess = filetype.guess(head)
    # Containers whose signature says little on its own are decided by their own structure; the
    # signatures filetype knows are confirmed. A text may happen to begin like one ("ID3 tags...").
    if head[4:8] == b"ftyp":
        found = _iso_bmff(head)
    elif head.startswith(b"\x1a\x45\xdf\xa3"):
        found = _ebml(head)
    elif head.startswith(b"PK\x03\x04"):
        found = _zip_document(head)
    elif head.startswith(b"ID3") or _mpeg_audio_frame(head, 0):
        found = _mp3(head)
    else:
        confirm = _CONFIRM.get(guess.mime) if guess is not None else None
        found = confirm(head) if confirm is not None else None
    return found or _text(head, guess)


# --- ISO base media file format -------------------------------------------------------------

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_GENERIC = {b"mif1", b"msf1"}  # HEIF with any codec: HEIC only with a HEVC brand beside it
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
    b"mp41", b"mp42", b"mp71", b"avc1", b"dash", b"mmp4", b"MSNV", b"XAVC", b"M4V ", b"M4VH", b"M4VP",
}
# Major brands that are never an MP4 video even when they list `isom` as compatible.
_NOT_VIDEO = {b"avif", b"avis", b"crx ", b"M4B ", b"M4P ", b"F4A ", b"F4B ", b"mjp2"}


def _iso_bmff(head: bytes) -> Sniffed | None:
    size = int.from_bytes(head[0:4], "big")
    if size < 16 or size % 4 or size > len(head):
        return None
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, size, 4)}
    if major in _HEIC_BRANDS:
        return _found("image/heic")
    if major in _HEIF_GENERIC:
        # AVIF and other HEIF codecs share these brands and are not accepted.
        return _found("image/heic") if compatible & _HEIC_BRANDS else None
    if major == b"M4A ":
        return _found("audio/mp4")
    if major == b"qt  ":
        return _found("video/quicktime")
    if major in _MP4_BRANDS:
        return _found("video/mp4")
    if major in _NOT_VIDEO or compatible & (_HEIC_BRANDS | _HEIF_GENERIC):
        return None
    # An unknown major brand (3GP and other phone variants) is what its compatible brands say.
    if b"qt  " in compatible:
        return _found("video/quicktime")
    if compatible & _MP4_BRANDS:
        return _found("video/mp4")
    return None


# --- Matroska / WebM --------------------------------------------------------------------------


def _vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at `pos`: (value, position after it), None when cut or invalid."""
    if pos >= len(data) or data[pos] == 0:
        return None
    first = data[pos]
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        return None
    value = first if keep_marker else first & ((1 << (8 - length)) - 1)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, pos + length


def _ebml(head: bytes) -> Sniffed | None:
    """WebM only when the EBML header's DocType element says exactly "webm" (plain Matroska is refused)."""
    size = _vint(head, 4, keep_marker=False)
    if size is None:
        return None
    length, pos = size
    end = pos + length
    if end > len(head):
        return None
    while pos < end:
        element = _vint(head, pos, keep_marker=True)
        if element is None:
            return None
        element_id, pos = element
        size = _vint(head, pos, keep_marker=False)
        if size is None:
            return None
        length, pos = size
        if pos + length > end:
            return None
        if element_id == 0x4282:  # DocType
            doc_type = head[pos : pos + length].rstrip(b"\x00")
            return _found("video/webm") if doc_type == b"webm" else None
        pos += length
    return None


# --- MP3 -------------------------------------------------------------------------------------


def _mpeg_audio_frame(head: bytes, pos: int) -> bool:
    """An MPEG audio layer III frame header at `pos` (MPEG 1, 2 or 2.5)."""
    if pos + 4 > len(head):
        return False
    b0, b1, b2, b3 = head[pos : pos + 4]
    return (
        b0 == 0xFF
        and b1 & 0xE0 == 0xE0  # frame sync
        and (b1 >> 3) & 0x03 != 0x01  # version: 01 is reserved
        and (b1 >> 1) & 0x03 == 0x01  # layer III (ADTS AAC has 00 here)
        and b2 >> 4 != 0x0F  # bitrate index 1111 is invalid
        and (b2 >> 2) & 0x03 != 0x03  # sample rate index 11 is reserved
        and b3 & 0x03 != 0x02  # emphasis 10 is reserved
    )


def _mp3(head: bytes) -> Sniffed | None:
    if not head.startswith(b"ID3"):
        return _found("audio/mpeg")  # the caller saw a frame header at 0
    if len(head) < 10:
        return None
    version, revision, flags = head[3], head[4], head[5]
    size_bytes = head[6:10]
    if version not in (2, 3, 4) or revision == 0xFF or any(b & 0x80 for b in size_bytes):
        return None
    tag_size = 0
    for byte in size_bytes:  # "syncsafe": 7 bits a byte
        tag_size = (tag_size << 7) | byte
    pos = 10 + tag_size + (10 if version == 4 and flags & 0x10 else 0)  # footer
    while pos < len(head) and head[pos] == 0:  # padding some taggers leave after the tag
        pos += 1
    if pos >= len(head):
        # The tag (often with cover art) runs past the head: the audio is checked when it is processed.
        # A head shorter than HEAD_SIZE is the whole file, though, and a tag alone is no MP3.
        return _found("audio/mpeg") if len(head) >= HEAD_SIZE else None
    return _found("audio/mpeg") if _mpeg_audio_frame(head, pos) else None


# --- Signatures filetype finds, confirmed here ---------------------------------------------------


def _jpeg(head: bytes) -> Sniffed | None:
    return _found("image/jpeg") if head.startswith(b"\xff\xd8\xff") else None


def _png(head: bytes) -> Sniffed | None:
    # The full signature and the IHDR chunk first (filetype looks at 4 bytes). An APNG is a PNG.
    return _found("image/png") if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR" else None


def _webp(head: bytes) -> Sniffed | None:
    ok = head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:16] in (b"VP8 ", b"VP8L", b"VP8X")
    return _found("image/webp") if ok else None


def _pdf(head: bytes) -> Sniffed | None:
    # filetype also takes a UTF-8 BOM before "%PDF" and no version dash: the header must come first.
    return _found("application/pdf") if head.startswith(b"%PDF-") else None


_OGG_AUDIO_CODECS = (b"\x01vorbis", b"OpusHead", b"\x7fFLAC", b"Speex   ")


def _ogg(head: bytes) -> Sniffed | None:
    """Ogg audio: the first page begins a stream (BOS) whose first packet names an audio codec
    (Theora video, Ogg Skeleton... are refused)."""
    if len(head) < 27 or head[:4] != b"OggS" or head[4] != 0 or not head[5] & 0x02:
        return None
    packet = 27 + head[26]  # after the segment table
    return _found("audio/ogg") if head[packet:].startswith(_OGG_AUDIO_CODECS) else None


_CONFIRM = {
    "image/jpeg": _jpeg,
    "image/png": _png,
    "image/apng": _png,
    "image/webp": _webp,
    "application/pdf": _pdf,
    "audio/ogg": _ogg,
}


# --- ODT / DOCX ------------------------------------------------------------------------------


def _local_headers(head: bytes):
    """The (name, flags, method, compressed size, uncompressed size, data offset) of each zip local file
    header in the head, in order, stopping at one cut by the end of the head; and whether that listing
    is complete (the central directory starts in the head right after it)."""
    entries = []
    pos = 0
    while head[pos : pos + 4] == b"PK\x03\x04" and pos + 30 <= len(head):
        flags, method = struct.unpack_from("<HH", head, pos + 6)
        compressed, uncompressed, name_len, extra_len = struct.unpack_from("<IIHH", head, pos + 18)
        name = head[pos + 30 : pos + 30 + name_len]
        if len(name) < name_len:
            break
        data = pos + 30 + name_len + extra_len
        entries.append((name, flags, method, compressed, uncompressed, data))
        if flags & 0x08 or compressed == 0xFFFFFFFF:
            # Sizes in a data descriptor (or zip64): find the next header by its signature.
            following = [i for i in (head.find(b"PK\x03\x04", data), head.find(b"PK\x01\x02", data)) if i >= 0]
            if not following:
                break
            pos = min(following)
        else:
            pos = data + compressed
    return entries, head[pos : pos + 4] == b"PK\x01\x02"


def _zip_document(head: bytes) -> Sniffed | None:
    entries, complete = _local_headers(head)
    if not entries:
        return None
    name, flags, method, compressed, uncompressed, data = entries[0]
    if name == b"mimetype":
        # ODF: the first entry, stored, holds exactly the document's type (spreadsheets, templates...
        # have other values and are refused).
        if method != 0 or flags & 0x01 or compressed != uncompressed:
            return None
        return _found(ODT) if head[data : data + uncompressed] == ODT.encode() else None
    names = [entry[0] for entry in entries]
    if any(n.startswith((b"xl/", b"ppt/", b"visio/")) for n in names):
        return None  # another Office Open XML type
    if any(n.startswith(b"word/") for n in names):
        return _found(DOCX)
    if b"[Content_Types].xml" in names and not complete:
        # The Word part may lie past the head; the document cleaning checks the whole archive.
        return _found(DOCX)
    return None


# --- Plain text ------------------------------------------------------------------------------

# C0 and C1 control characters other than tab, LF, FF and CR (ESC sequences can drive terminals).
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# Markup a browser could render, wherever it is in the head.
_MARKUP = ("<script", "<html", "<svg", "<!doctype", "<?xml", "<body", "<head", "<iframe", "<object", "<embed")
# Formats made of text that are not plain text.
_TEXT_FORMATS = ("#!", "{\\rtf", "%!")
# filetype matchers so weak that ordinary prose can match them ("BMW...", "CWS...", "ID3 tags..."); the
# real formats are refused anyway as their headers hold NUL or control bytes, or are not UTF-8.
_WEAK_MATCHES = {"image/bmp", "application/x-shockwave-flash", "audio/mp4", "audio/mpeg", "image/vnd.dwg"}
# What may come before markup and still let it be read as markup: whitespace, BOMs, zero-width characters.
_LEADING = re.compile("[\\s\ufeff\u200b\u200c\u200d\u2060]*")


def _text(head: bytes, guess: filetype.Type | None) -> Sniffed | None:
    if guess is not None and guess.mime not in _WEAK_MATCHES:
        return None  # a format filetype knows and which is not allowed
    body = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    try:
        # Not final: a multi-byte character cut by the end of the head is fine, an invalid byte is not.
        text = codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
    except UnicodeDecodeError:
        return None  # not UTF-8 (UTF-16, Latin-1, binary)
    if _CONTROL.search(text):
        return None
    start = text[_LEADING.match(text).end() :]
    if not start or start.startswith("<") or start.startswith(_TEXT_FORMATS):
        return None
    lowered = text.lower()
    if any(marker in lowered for marker in _MARKUP):
        return None
    return _found("text/plain")

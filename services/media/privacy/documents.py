"""Documents published without what says who wrote them, on which computer, and when: document
properties, XMP, revision history, the names on comments and tracked changes, thumbnails (a preview
of an earlier state of the document), and what can act on a reader (PDF JavaScript, actions, embedded
files). Photos embedded in a document lose their EXIF/XMP/IPTC (GPS position, camera serial, author).

Each cleaner reads the upload from disk and writes a new file; nothing is edited in place. A file
that is not what its first bytes claim, is damaged, encrypted, or too big once decompressed is
refused with Unprocessable, and no partial copy is left at the target.

One module per format: pdf, docx, odt (the last two zip packages, see packages); plain text
is checked here.
"""
from __future__ import annotations

import codecs
import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from services.media.privacy import Unprocessable
from services.media.privacy.docx import clean_docx
from services.media.privacy.odt import clean_odt
from services.media.privacy.packages import CHUNK
from services.media.privacy.pdf import clean_pdf
from services.media.sniff import DOCX, HEAD_SIZE, ODT, Sniffed, sniff

_DESCRIPTIONS = {"application/pdf": "a PDF", ODT: "an ODT document", DOCX: "a DOCX document", "text/plain": "a plain text"}


def clean_document(source: Path, content_type: str, target: Path) -> None:
    """Write to `target` a copy of the document without author, creator tool, revision history,
    comments' authors where feasible, and embedded thumbnails; raise Unprocessable(reason) when the
    file is corrupt or is not really of that type.

    `content_type` is what sniff() found for the upload: one of the document types of ALLOWED
    (ValueError for any other, a caller's mistake). `target` is written only on success."""
    cleaners: dict[str, Callable[[Path, Path], None]] = {
        "application/pdf": clean_pdf,
        ODT: clean_odt,
        DOCX: clean_docx,
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


# --- Plain text ------------------------------------------------------------------------------

_TEXT_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _clean_text(source: Path, target: Path) -> None:
    """Checked all through (the sniffing saw only the head), copied as it is without a leading BOM."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with source.open("rb") as text, target.open("wb") as copy:
            chunk = text.read(CHUNK)
            if chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8) :]
            while chunk:
                if _TEXT_CONTROL.search(decoder.decode(chunk)):
                    raise Unprocessable("not a plain text: it contains NUL or control characters")
                copy.write(chunk)
                chunk = text.read(CHUNK)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise Unprocessable("not a plain text: it is not valid UTF-8") from None

"""PDFs without document properties, XMP, thumbnails, page-piece data, and what can act on a
reader (JavaScript, actions other than links, embedded files, XFA forms); their JPEGs lose
their EXIF. pikepdf (qpdf) rewrites the file."""
from __future__ import annotations

from pathlib import Path

import pikepdf

from services.media.privacy import Unprocessable
from services.media.privacy.embedded_images import strip_jpeg

# Keys that carry metadata or act on the reader, wherever they are (catalog, pages, XObjects, annotations).
_PDF_DROPPED_KEYS = ("/Metadata", "/PieceInfo", "/LastModified", "/Thumb", "/AA", "/AF")
_PDF_CATALOG_DROPPED = ("/OpenAction", "/Collection", "/SpiderInfo")
_SAFE_ACTIONS = {"/URI", "/GoTo", "/Named"}  # a web link, a place in the document, "next page"...
_EMBEDDING_ANNOTATIONS = {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}


def clean_pdf(source: Path, target: Path) -> None:
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
    cleaned = strip_jpeg(raw)
    if cleaned != raw:
        stream.write(cleaned, filter=pikepdf.Name.DCTDecode, decode_parms=stream.get("/DecodeParms"))

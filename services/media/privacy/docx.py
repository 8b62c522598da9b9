"""DOCX documents without properties, thumbnails, macros, signatures, the attached template,
nor the names, dates and editing-session ids on comments and tracked changes."""
from __future__ import annotations

import posixpath
import re
from pathlib import Path

from services.media.privacy import Unprocessable
from services.media.privacy.packages import (
    TAG_BODY,
    VALUE,
    Edit,
    attribute,
    open_package,
    part_name,
    read_entry,
    remove_elements,
    rewrite,
    xml_part,
)

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
_WORD_BLANKED = re.compile(rf"(\s(?:[\w.-]+:)?(?:author|initials|userId|providerId)\s*=\s*){VALUE}")
# Revision dates and the rsid editing-session ids (they link documents edited in the same session).
_WORD_REMOVED = re.compile(rf"\s(?:[\w.-]+:)?(?:date|dateUtc|rsid\w*)\s*=\s*{VALUE}")
_WORD_TAG = re.compile(rf"<[A-Za-z_][\w.:-]*(?=[^>]*?(?:author|initials|userId|providerId|date|rsid)){TAG_BODY}>")


def _docx_drops(name: str) -> bool:
    return (
        name.startswith(("docProps/thumbnail.", "_xmlsignatures/"))
        or name == "docProps/custom.xml"  # custom properties: sensitivity labels name their owner's e-mail
        or name in ("word/vbaProject.bin", "word/vbaData.xml", "word/_rels/vbaProject.bin.rels")
    )


def clean_docx(source: Path, target: Path) -> None:
    with open_package(source) as (archive, infos):
        names = {info.filename for info in infos}
        if not {"word/document.xml", "[Content_Types].xml"} <= names:
            raise Unprocessable("not a DOCX document: word/document.xml or [Content_Types].xml is missing")
        content_types = xml_part(read_entry(archive, archive.getinfo("[Content_Types].xml")))
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

        rewrite(archive, infos, target, dropped, edit_for)


def _docx_main_type(content_types: str) -> str | None:
    default = None
    for tag in re.findall(rf"<(?:Override|Default)\b{TAG_BODY}>", content_types):
        if tag.startswith("<Override") and part_name(attribute(tag, "PartName")) == "word/document.xml":
            return attribute(tag, "ContentType")
        if tag.startswith("<Default") and (attribute(tag, "Extension") or "").lower() == "xml":
            default = attribute(tag, "ContentType")
    return default


def _prune_content_types(text: str, dropped: set[str], kept: set[str]) -> str:
    """Without the overrides of dropped parts, nor the defaults only dropped parts used."""
    dropped_lower = {name.lower() for name in dropped}

    def extension(name: str) -> str:
        return posixpath.splitext(name)[1][1:].lower()

    kept_extensions = {extension(name) for name in kept}
    dropped_extensions = {extension(name) for name in dropped} - kept_extensions
    text = remove_elements(
        text, "Override", lambda tag: part_name(attribute(tag, "PartName")) in dropped_lower
    )
    return remove_elements(
        text, "Default", lambda tag: (attribute(tag, "Extension") or "").lower() in dropped_extensions
    )


def _prune_relationships(text: str, rels_name: str, dropped: set[str]) -> str:
    """Without the relationships to dropped parts, nor the attached template (its path names the
    author's account, "C:\\Users\\jane\\...", and a remote one is a known way to load macros)."""
    base = posixpath.dirname(posixpath.dirname(rels_name))  # word/_rels/x.rels describes word/x
    dropped_lower = {name.lower() for name in dropped}

    def remove(tag: str) -> bool:
        if (attribute(tag, "Type") or "").endswith("/attachedTemplate"):
            return True
        target = attribute(tag, "Target")
        if target is None or attribute(tag, "TargetMode") == "External":
            return False
        path = target if target.startswith("/") else posixpath.normpath(posixpath.join("/", base, target))
        return part_name(path) in dropped_lower

    return remove_elements(text, "Relationship", remove)


def _scrub_word_settings(text: str) -> str:
    text = re.sub(r"<w:rsids\b.*?</w:rsids\s*>", "", text, flags=re.S)
    return remove_elements(text, "w:attachedTemplate", lambda tag: True)


def _scrub_word(text: str) -> str:
    """Blank the names (attributes required by the schema stay, empty) and drop dates and rsids, in
    start tags only: the document's own text is never touched."""

    def scrub(tag: re.Match) -> str:
        return _WORD_REMOVED.sub("", _WORD_BLANKED.sub(r'\1""', tag.group(0)))

    return _WORD_TAG.sub(scrub, text)

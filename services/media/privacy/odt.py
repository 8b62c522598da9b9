"""ODT documents without their meta.xml, thumbnails, macros, signatures, the printer's set-up,
nor who wrote comments and tracked changes, and when."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

from services.media.privacy import Unprocessable
from services.media.privacy.packages import (
    Edit,
    attribute,
    open_package,
    read_entry,
    remove_elements,
    rewrite,
    xml_part,
)
from services.media.sniff import ODT

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


def clean_odt(source: Path, target: Path) -> None:
    with open_package(source) as (archive, infos):
        first = infos[0] if infos else None
        if (
            first is None
            or first.filename != "mimetype"
            or first.compress_type != zipfile.ZIP_STORED
            or read_entry(archive, first) != ODT.encode()
        ):
            raise Unprocessable("not an ODT document: the first entry is not a stored 'mimetype' of a text")
        names = {info.filename for info in infos}
        if "content.xml" not in names:
            raise Unprocessable("not an ODT document: content.xml is missing")
        manifest = ""
        if "META-INF/manifest.xml" in names:
            manifest = xml_part(read_entry(archive, archive.getinfo("META-INF/manifest.xml")))
        if "encryption-data" in manifest:
            raise Unprocessable("encrypted document")
        version = "1.2"
        if "meta.xml" in names:
            meta = read_entry(archive, archive.getinfo("meta.xml")).decode("utf-8", "replace")
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

        rewrite(archive, infos, target, dropped, edit_for, stored_first="mimetype")


def _prune_manifest(text: str, dropped: set[str]) -> str:
    def remove(tag: str) -> bool:
        path = attribute(tag, "manifest:full-path") or ""
        return path in dropped or path.startswith(_ODT_DROPPED_FOLDERS) or path in _ODT_DROPPED_FILES

    return remove_elements(text, "manifest:file-entry", remove)

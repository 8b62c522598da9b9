"""Documents are published without who wrote them and when: real PDF, DOCX and ODT files full of
identifying metadata are built here (pikepdf, zipfile, Pillow), cleaned, and read back as a reader
of the published file would."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String
from PIL import Image

from services.media.privacy import Unprocessable
from services.media.privacy.documents import clean_document
from services.media.sniff import DOCX, ODT

NAME = b"Jane Activist"
PDF = "application/pdf"
TEXT = "text/plain"


def photo_with_gps(fmt: str = "JPEG") -> bytes:
    """A phone photo: EXIF with the artist's name and a GPS position."""
    exif = Image.Exif()
    exif[0x013B] = NAME.decode()  # Artist
    exif[0x0110] = "Phone of Jane Activist"  # Model
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})  # GPS
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(buf, fmt, exif=exif)
    return buf.getvalue()


def assert_clean_photo(data: bytes) -> None:
    assert NAME not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as img:
        assert not img.getexif()
        img.load()  # still a whole, readable image
        assert img.size == (32, 24)


def refused(source: Path, content_type: str, tmp_path: Path) -> str:
    target = tmp_path / "cleaned"
    with pytest.raises(Unprocessable) as err:
        clean_document(source, content_type, target)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".cleaning-")] == []  # no partial copy
    return err.value.reason


# --- PDF -------------------------------------------------------------------------------------

XMP = b"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:creator><rdf:Seq><rdf:li>Jane Activist</rdf:li></rdf:Seq></dc:creator></rdf:Description>
</rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def make_pdf(path: Path, **save_options) -> Path:
    pdf = pikepdf.new()
    font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    jpeg = photo_with_gps()
    image = pdf.make_stream(
        jpeg, Type=Name.XObject, Subtype=Name.Image, Width=32, Height=24,
        ColorSpace=Name.DeviceRGB, BitsPerComponent=8, Filter=Name.DCTDecode,
    )
    for line in (b"Meet at the square", b"Bring water"):
        page = pdf.add_blank_page()
        page.obj.Resources = Dictionary(Font=Dictionary(F1=font), XObject=Dictionary(Im1=image))
        page.obj.Contents = pdf.make_stream(b"BT /F1 12 Tf 72 720 Td (" + line + b") Tj ET q 32 0 0 24 72 600 cm /Im1 Do Q")
    first = pdf.pages[0].obj
    first.Thumb = pdf.make_stream(bytes(64), Width=8, Height=8, ColorSpace=Name.DeviceGray, BitsPerComponent=8)
    first.PieceInfo = Dictionary(Editor=Dictionary(Private=String("Jane Activist's laptop")))
    first.Metadata = pdf.make_stream(XMP, Type=Name.Metadata, Subtype=Name.XML)
    comment = Dictionary(
        Type=Name.Annot, Subtype=Name.Text, Rect=[72, 500, 92, 520], Contents=String("check the route"),
        T=String("Jane Activist"), M=String("D:20240501093000+02'00'"),
    )
    link = Dictionary(
        Type=Name.Annot, Subtype=Name.Link, Rect=[72, 400, 200, 420],
        A=Dictionary(S=Name.JavaScript, JS=String("app.launchURL('https://tracker.example/')")),
    )
    first.Annots = Array([pdf.make_indirect(comment), pdf.make_indirect(link)])
    pdf.docinfo["/Author"] = NAME.decode()
    pdf.docinfo["/Creator"] = "Writer on Jane's laptop"
    pdf.docinfo["/Producer"] = "LibreOffice 7.6"
    pdf.docinfo["/CreationDate"] = "D:20240501093000+02'00'"
    pdf.Root.Metadata = pdf.make_stream(XMP, Type=Name.Metadata, Subtype=Name.XML)
    pdf.Root.OpenAction = Dictionary(S=Name.JavaScript, JS=String("app.alert('opened')"))
    pdf.attachments["contacts.txt"] = pikepdf.AttachedFileSpec(pdf, b"Jane Activist +1 555 0100")
    pdf.save(path, **save_options)
    return path


def every_pdf_byte(pdf: pikepdf.Pdf) -> bytes:
    """What a reader could find: every object, streams decoded (images as stored)."""
    parts = [repr(pdf.trailer).encode()]
    for obj in pdf.objects:
        parts.append(repr(obj).encode(errors="replace"))
        if isinstance(obj, pikepdf.Stream):
            image = str(obj.get("/Subtype", "")) == "/Image"
            parts.append(obj.read_raw_bytes() if image else obj.read_bytes())
    return b"".join(parts)


def test_pdf_loses_its_metadata_actions_attachments_and_thumbnails(tmp_path):
    source = make_pdf(tmp_path / "flyer.pdf")
    target = tmp_path / "clean.pdf"
    clean_document(source, PDF, target)

    with pikepdf.open(source) as original:
        original_id = list(original.trailer.ID)
        assert NAME in every_pdf_byte(original)  # the sample does carry the name everywhere
    with pikepdf.open(target) as pdf:
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root and "/OpenAction" not in pdf.Root
        assert len(pdf.attachments) == 0
        first = pdf.pages[0].obj
        assert not {"/Thumb", "/PieceInfo", "/Metadata"} & set(first.keys())
        comment, link = first.Annots
        assert str(comment.Contents) == "check the route" and "/T" not in comment and "/M" not in comment
        assert "/A" not in link
        assert NAME not in every_pdf_byte(pdf)
        assert NAME not in target.read_bytes()
        # The document itself is intact.
        assert len(pdf.pages) == 2
        assert b"(Meet at the square) Tj" in pdf.pages[0].Contents.read_bytes()
        assert b"(Bring water) Tj" in pdf.pages[1].Contents.read_bytes()
        # Nothing links it to the original file: both ID elements are new.
        assert not set(map(bytes, pdf.trailer.ID)) & set(map(bytes, original_id))
        # The photo on the page no longer says where it was taken.
        assert_clean_photo(pdf.pages[0].Resources.XObject.Im1.read_raw_bytes())


def test_cleaning_the_same_pdf_twice_gives_the_same_file(tmp_path):
    source = make_pdf(tmp_path / "flyer.pdf")
    clean_document(source, PDF, tmp_path / "a.pdf")
    clean_document(source, PDF, tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()  # no time, no random ID


@pytest.mark.parametrize("user_password", ["secret", ""], ids=["password", "owner-password-only"])
def test_encrypted_pdf_is_refused(tmp_path, user_password):
    source = make_pdf(tmp_path / "locked.pdf", encryption=pikepdf.Encryption(owner="owner", user=user_password))
    assert refused(source, PDF, tmp_path) == "encrypted PDF"


def test_truncated_pdf_is_refused(tmp_path):
    data = make_pdf(tmp_path / "whole.pdf").read_bytes()
    for cut in (len(data) // 2, len(data) - 40):  # halfway, and just the cross-reference table missing
        source = tmp_path / "cut.pdf"
        source.write_bytes(data[:cut])
        assert "truncated PDF" in refused(source, PDF, tmp_path)


def test_corrupt_pdf_is_refused(tmp_path):
    source = tmp_path / "broken.pdf"
    source.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R\n%%EOF\n")
    assert "corrupt PDF" in refused(source, PDF, tmp_path)


def test_a_png_renamed_to_pdf_is_refused(tmp_path):
    source = tmp_path / "flyer.pdf"
    Image.new("RGB", (4, 4)).save(source, "PNG")
    assert refused(source, PDF, tmp_path) == "not a PDF: its content is image/png"


# --- DOCX ------------------------------------------------------------------------------------

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"

DOCX_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Default Extension="jpeg" ContentType="image/jpeg"/>
<Default Extension="png" ContentType="image/png"/>
<Override PartName="/word/document.xml" ContentType="{main}"/>
<Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/>
<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>
<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>
</Types>"""
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"

DOCX_PARTS = {
    "_rels/.rels": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PR}">
<Relationship Id="rId1" Type="{R}/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="{PR}/metadata/core-properties" Target="docProps/core.xml"/>
<Relationship Id="rId3" Type="{R}/extended-properties" Target="docProps/app.xml"/>
<Relationship Id="rId4" Type="{PR}/metadata/thumbnail" Target="docProps/thumbnail.jpeg"/>
<Relationship Id="rId5" Type="{R}/custom-properties" Target="/docProps/custom.xml"/>
</Relationships>""",
    "docProps/core.xml": """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<dc:title>Plan</dc:title><dc:creator>Jane Activist</dc:creator><cp:lastModifiedBy>Jane Activist</cp:lastModifiedBy>
<cp:revision>7</cp:revision>
<dcterms:created xsi:type="dcterms:W3CDTF">2024-05-01T09:30:00Z</dcterms:created>
</cp:coreProperties>""",
    "docProps/app.xml": """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">
<Template>Normal.dotm</Template><TotalTime>93</TotalTime><Application>Microsoft Office Word</Application>
<Company>Secret Org</Company></Properties>""",
    "docProps/custom.xml": """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
 xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">
<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="MSIP_Label_Owner">
<vt:lpwstr>jane@secret.example</vt:lpwstr></property></Properties>""",
    "word/_rels/document.xml.rels": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PR}">
<Relationship Id="rId1" Type="{R}/comments" Target="comments.xml"/>
<Relationship Id="rId2" Type="{R}/settings" Target="settings.xml"/>
<Relationship Id="rId3" Type="{R}/image" Target="media/image1.jpeg"/>
</Relationships>""",
    "word/_rels/settings.xml.rels": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PR}">
<Relationship Id="rId1" Type="{R}/attachedTemplate"
 Target="file:///C:\\Users\\jane\\AppData\\Roaming\\Microsoft\\Templates\\Normal.dotm" TargetMode="External"/>
</Relationships>""",
    "word/document.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document {W} xmlns:r="{R}"><w:body>
<w:p w:rsidR="00A1B2C3" w:rsidRDefault="00A1B2C3"><w:r><w:t>Meet at the square at noon.</w:t></w:r>
<w:ins w:id="1" w:author="Jane Activist" w:date="2024-05-01T09:30:00Z"><w:r><w:t>Bring water.</w:t></w:r></w:ins>
<w:del w:id="2" w:author="Jane Activist" w:date="2024-05-01T09:31:00Z"><w:r><w:delText>Bring flags.</w:delText></w:r></w:del>
<w:commentRangeStart w:id="0"/><w:r><w:t>Say author="someone" here.</w:t></w:r><w:commentRangeEnd w:id="0"/>
<w:r><w:commentReference w:id="0"/></w:r></w:p>
</w:body></w:document>""",
    "word/comments.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:comments {W}><w:comment w:id="0" w:author="Jane Activist" w:date="2024-05-01T09:32:00Z" w:initials="JA">
<w:p><w:r><w:t>Is noon too early?</w:t></w:r></w:p></w:comment></w:comments>""",
    "word/people.xml": """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml">
<w15:person w15:author="Jane Activist"><w15:presenceInfo w15:providerId="AD"
 w15:userId="S::jane.activist@secret.example::8f3c"/></w15:person></w15:people>""",
    "word/settings.xml": f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings {W} xmlns:r="{R}"><w:attachedTemplate r:id="rId1"/><w:defaultTabStop w:val="720"/>
<w:rsids><w:rsidRoot w:val="00A1B2C3"/><w:rsid w:val="00A1B2C3"/></w:rsids></w:settings>""",
}


def make_docx(path: Path, main: str = DOCX_MAIN, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", DOCX_CONTENT_TYPES.format(main=main))
        for name, text in DOCX_PARTS.items():
            zf.writestr(name, text)
        zf.writestr("docProps/thumbnail.jpeg", photo_with_gps())
        zf.writestr("word/media/image1.jpeg", photo_with_gps())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {info.filename: zf.read(info) for info in zf.infolist()}


def assert_well_formed(parts: dict[str, bytes]) -> None:
    for name, data in parts.items():
        if name.endswith((".xml", ".rels")):
            ElementTree.fromstring(data)  # raises when an edit broke the XML


def test_docx_loses_its_author_properties_and_thumbnail(tmp_path):
    source = make_docx(tmp_path / "plan.docx")
    target = tmp_path / "clean.docx"
    clean_document(source, DOCX, target)

    parts = entries(target)
    assert_well_formed(parts)
    for name, data in parts.items():
        assert NAME not in data, name
        assert b"Secret Org" not in data and b"jane@secret.example" not in data and b"Users\\jane" not in data
    assert "docProps/thumbnail.jpeg" not in parts and "docProps/custom.xml" not in parts
    core, app = parts["docProps/core.xml"], parts["docProps/app.xml"]
    assert b"creator" not in core and b"lastModifiedBy" not in core and b"created" not in core
    assert b"Company" not in app and b"Application" not in app and b"Template" not in app
    # The package stays consistent: nothing points at the parts that were removed...
    assert b"thumbnail" not in parts["[Content_Types].xml"] and b"custom.xml" not in parts["[Content_Types].xml"]
    assert b"thumbnail" not in parts["_rels/.rels"] and b"custom" not in parts["_rels/.rels"]
    assert b"word/document.xml" in parts["_rels/.rels"]
    assert b'Extension="jpeg"' in parts["[Content_Types].xml"]  # still used by word/media/image1.jpeg
    assert b"attachedTemplate" not in parts["word/settings.xml"] + parts["word/_rels/settings.xml.rels"]
    # ...and the text, tracked changes and comments are all there, without names or dates.
    document = parts["word/document.xml"].decode()
    for text in ("Meet at the square at noon.", "Bring water.", "Bring flags.", 'Say author="someone" here.'):
        assert text in document
    assert document.count('w:author=""') == 2 and "w:date" not in document and "rsid" not in document
    comments = parts["word/comments.xml"].decode()
    assert 'w:author=""' in comments and 'w:initials=""' in comments and "Is noon too early?" in comments
    assert "rsid" not in parts["word/settings.xml"].decode()
    # Zip entry times would tell when it was edited; the photo in it, where.
    with zipfile.ZipFile(target) as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert_clean_photo(parts["word/media/image1.jpeg"])


def test_a_part_with_entity_tricks_is_refused(tmp_path):
    laughs = '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><w:document/>'
    source = make_docx(tmp_path / "plan.docx", extra={"word/footer1.xml": laughs.encode()})
    assert refused(source, DOCX, tmp_path) == "corrupt document: a part declares a DTD"


def test_a_part_that_is_not_xml_is_refused(tmp_path):
    source = make_docx(tmp_path / "plan.docx", extra={"word/footer1.xml": b"<w:ftr><w:p>"})
    assert refused(source, DOCX, tmp_path) == "corrupt document: a part is not well-formed XML"


def test_a_macro_enabled_word_document_is_refused(tmp_path):
    source = make_docx(tmp_path / "plan.docx", main="application/vnd.ms-word.document.macroEnabled.main+xml")
    assert "not a DOCX document" in refused(source, DOCX, tmp_path)


def test_a_zip_without_the_word_document_is_refused(tmp_path):
    source = tmp_path / "plan.docx"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("[Content_Types].xml", DOCX_CONTENT_TYPES.format(main=DOCX_MAIN))
        zf.writestr("word/styles.xml", "<w:styles/>")  # enough for the sniffing, which sees only the head
    assert refused(source, DOCX, tmp_path) == (
        "not a DOCX document: word/document.xml or [Content_Types].xml is missing"
    )


def test_another_office_document_is_refused(tmp_path):
    source = tmp_path / "plan.docx"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("[Content_Types].xml", DOCX_CONTENT_TYPES.format(main=DOCX_MAIN))
        zf.writestr("xl/workbook.xml", "<workbook/>")
    assert refused(source, DOCX, tmp_path) == "not a DOCX document: its content is not of an accepted type"


def test_a_decompression_bomb_is_refused_before_it_is_expanded(tmp_path):
    source = make_docx(tmp_path / "bomb.docx")
    with zipfile.ZipFile(source, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("word/media/zeros.bin", "w") as entry:
        chunk = bytes(1 << 20)
        for _ in range(300):
            entry.write(chunk)
    assert source.stat().st_size < 1_000_000
    assert "decompression bomb" in refused(source, DOCX, tmp_path)


def test_an_entry_escaping_its_folder_is_refused(tmp_path):
    source = make_docx(tmp_path / "plan.docx", extra={"../evil": b"owned"})
    assert "'..'" in refused(source, DOCX, tmp_path)


# --- ODT -------------------------------------------------------------------------------------

ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0"'
)
ODT_PARTS = {
    "META-INF/manifest.xml": """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="Thumbnails/thumbnail.png" manifest:media-type="image/png"/>
 <manifest:file-entry manifest:full-path="Pictures/photo.jpg" manifest:media-type="image/jpeg"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/>
</manifest:manifest>""",
    "meta.xml": f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta {ODF_NS} office:version="1.3"><office:meta>
<meta:initial-creator>Jane Activist</meta:initial-creator><dc:creator>Jane Activist</dc:creator>
<meta:creation-date>2024-05-01T09:30:00</meta:creation-date><dc:date>2024-05-02T10:00:00</dc:date>
<meta:editing-cycles>12</meta:editing-cycles><meta:editing-duration>PT2H</meta:editing-duration>
<meta:generator>LibreOffice/7.6.4.1$Linux_X86_64</meta:generator>
</office:meta></office:document-meta>""",
    "content.xml": f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content {ODF_NS} office:version="1.3"><office:body><office:text>
<text:tracked-changes><text:changed-region text:id="ct1"><text:insertion><office:change-info>
<dc:creator>Jane Activist</dc:creator><dc:date>2024-05-02T10:00:00</dc:date>
</office:change-info></text:insertion></text:changed-region></text:tracked-changes>
<text:p>Meet at the square at noon.<office:annotation><dc:creator>Jane Activist</dc:creator>
<dc:date>2024-05-02T10:01:00</dc:date><meta:creator-initials>JA</meta:creator-initials>
<text:p>Is noon too early?</text:p></office:annotation></text:p>
<text:p><text:change-start text:change-id="ct1"/>Bring water.<text:change-end text:change-id="ct1"/></text:p>
</office:text></office:body></office:document-content>""",
    "styles.xml": f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles {ODF_NS} office:version="1.3"/>""",
    "settings.xml": f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-settings {ODF_NS} office:version="1.3"><office:settings>
<config:config-item-set config:name="ooo:configuration-settings">
<config:config-item config:name="PrinterName" config:type="string">\\\\OFFICE\\Jane Activist</config:config-item>
<config:config-item config:name="PrintReversed" config:type="boolean">false</config:config-item>
</config:config-item-set></office:settings></office:document-settings>""",
}


def make_odt(path: Path) -> Path:
    thumbnail = io.BytesIO()
    Image.new("RGB", (16, 16)).save(thumbnail, "PNG")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", ODT, zipfile.ZIP_STORED)
        for name, text in ODT_PARTS.items():
            zf.writestr(name, text)
        zf.writestr("Thumbnails/thumbnail.png", thumbnail.getvalue())
        zf.writestr("Configurations2/accelerator/", b"")  # LibreOffice writes empty folders
        zf.writestr("Pictures/photo.jpg", photo_with_gps(), zipfile.ZIP_STORED)
    return path


def test_odt_loses_its_author_properties_and_thumbnail(tmp_path):
    source = make_odt(tmp_path / "plan.odt")
    target = tmp_path / "clean.odt"
    clean_document(source, ODT, target)

    with zipfile.ZipFile(target) as zf:
        first = zf.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert zf.read(first) == ODT.encode()
    parts = entries(target)
    assert_well_formed(parts)
    for name, data in parts.items():
        assert NAME not in data, name
    assert not [name for name in parts if name.startswith("Thumbnails/")]
    assert "Configurations2/accelerator/" in parts
    assert b"Thumbnails" not in parts["META-INF/manifest.xml"]
    assert b'manifest:full-path="Pictures/photo.jpg"' in parts["META-INF/manifest.xml"]
    meta = parts["meta.xml"].decode()
    for field in ("creator", "generator", "date", "editing"):
        assert field not in meta
    content = parts["content.xml"].decode()
    for text in ("Meet at the square at noon.", "Is noon too early?", "Bring water.", "<text:tracked-changes>"):
        assert text in content
    assert "<dc:creator></dc:creator>" in content and "2024" not in content and "JA" not in content
    assert b"PrintReversed" in parts["settings.xml"]
    assert_clean_photo(parts["Pictures/photo.jpg"])


def test_an_odt_with_a_compressed_mimetype_is_refused(tmp_path):
    source = tmp_path / "plan.odt"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", ODT)
        zf.writestr("content.xml", ODT_PARTS["content.xml"])
    assert refused(source, ODT, tmp_path) == "not an ODT document: its content is not of an accepted type"


def test_an_odt_without_content_is_refused(tmp_path):
    source = tmp_path / "plan.odt"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", ODT, zipfile.ZIP_STORED)
        zf.writestr("meta.xml", ODT_PARTS["meta.xml"])
    assert refused(source, ODT, tmp_path) == "not an ODT document: content.xml is missing"


# --- Plain text ------------------------------------------------------------------------------


def test_utf8_text_is_copied_without_its_bom(tmp_path):
    source = tmp_path / "notes.txt"
    text = "Rassemblement à midi.\r\nApportez de l'eau. 集会 🙂\n"
    source.write_bytes(b"\xef\xbb\xbf" + text.encode())
    clean_document(source, TEXT, tmp_path / "clean.txt")
    assert (tmp_path / "clean.txt").read_bytes() == text.encode()


def test_latin1_text_is_refused(tmp_path):
    source = tmp_path / "notes.txt"
    source.write_bytes("Rassemblement à midi, café après.".encode("latin-1"))
    assert refused(source, TEXT, tmp_path) == "not a plain text: it is not valid UTF-8"


def test_text_is_checked_past_the_head(tmp_path):
    source = tmp_path / "notes.txt"
    source.write_bytes(b"plain words\n" * 2000 + b"then a NUL\x00")
    assert refused(source, TEXT, tmp_path) == "not a plain text: it contains NUL or control characters"
    source.write_bytes(b"plain words\n" * 2000 + "then a cut character \u00e9".encode()[:-1])
    assert refused(source, TEXT, tmp_path) == "not a plain text: it is not valid UTF-8"


def test_html_sent_as_text_is_refused(tmp_path):
    source = tmp_path / "notes.txt"
    source.write_bytes(b"<html><script>alert(1)</script></html>")
    assert "markup" in refused(source, TEXT, tmp_path)

"""Photos cleaned for publication: real files, made here, with every kind of metadata a phone or
an editor writes; the outputs are read back byte by byte (JPEG segments, PNG chunks, WebP chunks)
to show that none of it survives, that the pixels are upright, and that hostile or broken files
are refused."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from services.media.privacy import Unprocessable
from services.media.privacy.photos import DERIVATIVE_WIDTHS, MAX_PIXELS, clean_photo, find_faces

SECRETS = [b"Canon", b"EOS 5D", b"SN-4711", b"2024:05:01", b"ProprietaryMakerNote", b"Exif", b"ns.adobe.com",
           b"Photoshop", b"8BIM", b"Kreuzberg", b"Jane Doe", b"secret comment", b"52/1", b"ICC_PROFILE"]


# --- reading files back ---


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment, SOI to EOI, stepping over the entropy-coded data;
    fails on anything after EOI."""
    assert data[:2] == b"\xff\xd8"
    segments, i = [(0xD8, b"")], 2
    while True:
        assert data[i] == 0xFF, f"no marker at {i}"
        marker = data[i + 1]
        if marker == 0xD9:
            segments.append((0xD9, b""))
            assert i + 2 == len(data), f"{len(data) - i - 2} bytes after EOI"
            return segments
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        segments.append((marker, data[i + 4:i + 2 + length]))
        i += 2 + length
        if marker == 0xDA:  # scan data runs to the next marker that is not a stuffed 0xFF00 or a restart
            while not (data[i] == 0xFF and data[i + 1] not in (0x00, *range(0xD0, 0xD8))):
                i += 1


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, i = [], 8
    while i < len(data):
        length, kind = struct.unpack(">I4s", data[i:i + 8])
        chunks.append((kind, data[i + 8:i + 8 + length]))
        i += 12 + length
    assert chunks[-1][0] == b"IEND" and i == len(data)
    return chunks


def webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert struct.unpack("<I", data[4:8])[0] + 8 == len(data)
    chunks, i = [], 12
    while i < len(data):
        kind, length = struct.unpack("<4sI", data[i:i + 8])
        chunks.append((kind, data[i + 8:i + 8 + length]))
        i += 8 + length + (length & 1)
    return chunks


def assert_clean_jpeg(path: Path) -> Image.Image:
    data = path.read_bytes()
    markers = [m for m, _ in jpeg_segments(data)]
    assert not [hex(m) for m in markers if 0xE1 <= m <= 0xEF or m == 0xFE], markers  # APP1-15, COM
    for marker, payload in jpeg_segments(data):
        if marker == 0xE0:
            assert payload[:5] == b"JFIF\0" and payload[12:14] == b"\0\0"  # JFIF without a thumbnail
    assert_no_secrets(data)
    image = Image.open(path)
    assert image.format == "JPEG" and len(image.getexif()) == 0
    assert not {"exif", "xmp", "icc_profile", "comment", "photoshop", "adobe", "mp"} & set(image.info)
    return image


def assert_no_secrets(data: bytes) -> None:
    found = [s for s in SECRETS if s in data]
    assert not found, found


def assert_derivatives(photo, size: tuple[int, int]) -> None:
    assert sorted(photo.derivatives) == sorted(DERIVATIVE_WIDTHS)
    for width, path in photo.derivatives.items():
        assert path.parent == photo.path.parent and path.suffix == ".jpg"
        image = assert_clean_jpeg(path)
        expected = min(width, size[0])
        assert image.size == (expected, max(1, round(size[1] * expected / size[0])))


# --- making files ---


def photo_pixels(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """A smooth picture with some grain, top-left quarter red so orientation can be checked."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([60 + 60 * np.sin(x / 90), 120 + 60 * np.cos(y / 70), 90 + 40 * np.sin((x + y) / 150)], -1)
    arr = arr + rng.normal(0, 4, arr.shape)
    arr[: h // 4, : w // 4] = (230, 20, 20)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def tiff_exif(thumbnail: bytes) -> bytes:
    """A little-endian TIFF block as phones write it: IFD0 (camera, orientation 6), the Exif IFD
    (time, serial number, maker note), the GPS IFD, and IFD1 holding a JPEG thumbnail."""
    def ascii_(tag, text):
        return tag, 2, len(text) + 1, text.encode() + b"\0"

    def short(tag, v):
        return tag, 3, 1, struct.pack("<H", v)

    def long_(tag, v):
        return tag, 4, 1, struct.pack("<I", v)

    def rationals(tag, *pairs):
        return tag, 5, len(pairs), b"".join(struct.pack("<II", n, d) for n, d in pairs)

    def ifd(entries, offset, next_ifd=0):
        n = len(entries)
        data_at, head, data = offset + 2 + 12 * n + 4, struct.pack("<H", n), b""
        for tag, typ, count, value in sorted(entries):
            if len(value) <= 4:
                head += struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\0")
            else:
                head += struct.pack("<HHII", tag, typ, count, data_at + len(data))
                data += value + b"\0" * (len(value) % 2)
        return head + struct.pack("<I", next_ifd) + data

    def layout(ptrs):
        ifd0 = [ascii_(0x010F, "Canon"), ascii_(0x0110, "Canon EOS 5D"), short(0x0112, 6),
                ascii_(0x0132, "2024:05:01 14:02:11"), long_(0x8769, ptrs[0]), long_(0x8825, ptrs[1])]
        exif = [ascii_(0x9003, "2024:05:01 14:02:11"), ascii_(0xA431, "SN-4711"),
                (0x927C, 7, 24, b"ProprietaryMakerNote\0\1\2\3")]
        gps = [(0x0000, 1, 4, b"\2\3\0\0"), ascii_(0x0001, "N"), rationals(0x0002, (52, 1), (30, 1), (1234, 100)),
               ascii_(0x0003, "E"), rationals(0x0004, (13, 1), (25, 1), (567, 100))]
        ifd1 = [short(0x0103, 6), long_(0x0201, ptrs[3]), long_(0x0202, len(thumbnail))]
        out, offsets = b"II*\0" + struct.pack("<I", 8), []
        for entries, next_ifd in ((ifd0, ptrs[2]), (exif, 0), (gps, 0), (ifd1, 0)):
            offsets.append(len(out))
            out += ifd(entries, len(out), next_ifd)
        offsets.append(len(out))
        return out + thumbnail, [offsets[1], offsets[2], offsets[3], offsets[4]]

    _, ptrs = layout([0, 0, 0, 0])  # IFD sizes do not depend on the pointers' values
    return layout(ptrs)[0]


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


XMP = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
       b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
       b'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
       b'exif:GPSLatitude="52,30.2N" photoshop:City="Kreuzberg" photoshop:Credit="Jane Doe"/>'
       b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>')


def iptc_app13() -> bytes:
    def record(dataset, text):
        return b"\x1c\x02" + bytes([dataset]) + struct.pack(">H", len(text)) + text

    iptc = record(80, b"Jane Doe") + record(90, b"Kreuzberg") + record(55, b"20240501") + record(120, b"march")
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(iptc)) + iptc
    return segment(0xED, b"Photoshop 3.0\0" + resource)


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def phone_jpeg(path: Path, size=(1600, 1200)) -> Path:
    """A JPEG with everything: EXIF (GPS, camera, serial, maker note, thumbnail, orientation 6),
    XMP, an ICC profile, IPTC and a comment."""
    thumb = io.BytesIO()
    photo_pixels((160, 120)).save(thumb, "JPEG", quality=70)
    base = io.BytesIO()
    photo_pixels(size).save(base, "JPEG", quality=90)
    metadata = (segment(0xE1, b"Exif\0\0" + tiff_exif(thumb.getvalue()))
                + segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + XMP)
                + segment(0xE2, b"ICC_PROFILE\0\1\1" + srgb_icc())
                + iptc_app13() + segment(0xFE, b"secret comment: taken at the march"))
    path.write_bytes(b"\xff\xd8" + metadata + base.getvalue()[2:])
    return path


# --- JPEG ---


def test_a_phone_jpeg_loses_all_its_metadata_and_is_turned_upright(tmp_path):
    source = phone_jpeg(tmp_path / "upload")
    before = Image.open(source)  # the fixture really carries what it claims, as readers see it
    exif = before.getexif()
    assert exif[ExifTags.Base.Make] == "Canon" and exif[ExifTags.Base.Orientation] == 6
    assert ExifTags.GPS.GPSLatitude in exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert ExifTags.Base.MakerNote in exif.get_ifd(ExifTags.IFD.Exif)
    assert ExifTags.Base.JpegIFOffset in exif.get_ifd(ExifTags.IFD.IFD1)
    assert {"exif", "xmp", "icc_profile", "photoshop", "comment"} <= set(before.info)

    photo = clean_photo(source, "image/jpeg", tmp_path / "out", blur_faces=False)

    assert photo.content_type == "image/jpeg" and photo.path.suffix == ".jpg" and photo.faces_blurred == 0
    assert (photo.width, photo.height) == (1200, 1600)
    image = assert_clean_jpeg(photo.path)
    assert image.size == (1200, 1600)
    # Orientation 6: the stored top-left (red) corner is shown at the top right.
    r, g, b = image.convert("RGB").getpixel((1200 - 50, 50))
    assert r > 180 and g < 80 and b < 80
    assert image.convert("RGB").getpixel((50, 50))[0] < 150
    assert_derivatives(photo, (1200, 1600))
    assert {p.name for p in (tmp_path / "out").iterdir()} == {photo.path.name} | {
        p.name for p in photo.derivatives.values()}


def test_a_twelve_megapixel_photo_passes(tmp_path):
    source = tmp_path / "big.jpg"
    Image.new("RGB", (4000, 3000), (40, 90, 160)).save(source, quality=80)
    photo = clean_photo(source, "image/jpeg", tmp_path / "out", blur_faces=False)
    assert (photo.width, photo.height) == (4000, 3000)
    assert_derivatives(photo, (4000, 3000))


@pytest.mark.parametrize("mode, colour, expected", [("CMYK", (0, 255, 255, 0), "RGB"), ("L", 90, "L")])
def test_cmyk_and_grey_jpegs(tmp_path, mode, colour, expected):
    source = tmp_path / "in.jpg"
    Image.new(mode, (300, 200), colour).save(source, quality=95)
    photo = clean_photo(source, "image/jpeg", tmp_path / "out", blur_faces=False)
    image = assert_clean_jpeg(photo.path)
    assert image.mode == expected
    if mode == "CMYK":
        r, g, b = image.getpixel((10, 10))
        assert r > 200 and g < 60 and b < 60


# --- PNG, WebP, HEIC ---


def test_png_text_exif_icc_and_hidden_colours_are_gone(tmp_path):
    image = photo_pixels((400, 300)).convert("RGBA")
    image.paste((200, 10, 10, 0), (0, 0, 100, 100))  # "erased": invisible, but its colour is still there
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Doe")
    info.add_text("Comment", "secret comment", zip=True)
    info.add_itxt("Description", "Kreuzberg", lang="de")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add(b"tIME", struct.pack(">HBBBBB", 2024, 5, 1, 14, 2, 11))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Orientation] = 1
    source = tmp_path / "in.png"
    image.save(source, pnginfo=info, exif=exif.tobytes(), icc_profile=srgb_icc(), dpi=(300, 300))
    kinds = {k for k, _ in png_chunks(source.read_bytes())}
    assert {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"tIME", b"pHYs"} <= kinds

    photo = clean_photo(source, "image/png", tmp_path / "out", blur_faces=False)

    assert photo.content_type == "image/png" and photo.path.suffix == ".png"
    data = photo.path.read_bytes()
    assert [k for k, _ in png_chunks(data) if k not in (b"IDAT",)] == [b"IHDR", b"IEND"]
    assert_no_secrets(data)
    out = Image.open(photo.path)
    assert out.mode == "RGBA" and len(out.getexif()) == 0 and not {"exif", "xmp", "icc_profile", "dpi"} & set(out.info)
    assert out.getpixel((10, 10)) == (0, 0, 0, 0)  # the colour under the transparency is gone
    assert out.getpixel((300, 200)) == image.getpixel((300, 200))  # the rest is lossless
    assert_derivatives(photo, (400, 300))
    assert Image.open(photo.derivatives[320]).convert("RGB").getpixel((10, 10)) == (255, 255, 255)


@pytest.mark.parametrize("make, mode", [
    (lambda: Image.fromarray(np.full((50, 60), 32768, np.uint16)), "L"),  # 16-bit grey: 32768 -> 128, not white
    (lambda: Image.new("P", (60, 50), 3), "RGB"),
    (lambda: Image.new("LA", (60, 50), (90, 128)), "RGBA"),
    (lambda: Image.new("1", (60, 50), 1), "L"),
])
def test_png_modes(tmp_path, make, mode):
    source = tmp_path / "in.png"
    make().save(source)
    photo = clean_photo(source, "image/png", tmp_path / "out", blur_faces=False)
    out = Image.open(photo.path)
    assert out.mode == mode and out.size == (60, 50)
    if mode == "L" and source.read_bytes()[24] == 16:  # IHDR bit depth
        assert out.getpixel((5, 5)) == 128


def test_webp_exif_xmp_and_icc_are_gone(tmp_path):
    source = tmp_path / "in.webp"
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    photo_pixels((500, 400)).save(source, "WEBP", exif=exif.tobytes(), xmp=XMP, icc_profile=srgb_icc())
    assert {b"EXIF", b"XMP ", b"ICCP"} <= {k for k, _ in webp_chunks(source.read_bytes())}

    photo = clean_photo(source, "image/webp", tmp_path / "out", blur_faces=False)

    assert photo.content_type == "image/webp" and photo.path.suffix == ".webp"
    data = photo.path.read_bytes()
    chunks = webp_chunks(data)
    assert {k for k, _ in chunks} <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
    for kind, payload in chunks:
        if kind == b"VP8X":
            assert payload[0] & 0x2C == 0  # no ICC, EXIF or XMP flag
    assert_no_secrets(data)
    assert (Image.open(photo.path).size) == (500, 400)
    assert_derivatives(photo, (500, 400))


def test_heic_becomes_a_clean_upright_jpeg(tmp_path):
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("this libheif has no HEIC encoder to make the test file with")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Orientation] = 6
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
    source = tmp_path / "IMG_0001.HEIC"
    photo_pixels((320, 240)).save(source, "HEIF", exif=exif.tobytes(), xmp=XMP, quality=60)

    photo = clean_photo(source, "image/heic", tmp_path / "out", blur_faces=False)

    assert photo.content_type == "image/jpeg" and photo.path.suffix == ".jpg"
    image = assert_clean_jpeg(photo.path)
    assert image.size == (240, 320)
    assert_derivatives(photo, (240, 320))


def test_a_small_image_gets_every_derivative_at_its_own_width(tmp_path):
    source = tmp_path / "in.png"
    photo_pixels((200, 150)).save(source)
    photo = clean_photo(source, "image/png", tmp_path / "out", blur_faces=False)
    assert_derivatives(photo, (200, 150))
    assert {Image.open(p).size for p in photo.derivatives.values()} == {(200, 150)}


# --- refused ---


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG that claims huge dimensions and holds a few bytes of compressed zeros."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("size", [(30000, 30000), (10000, 10000), (9500, 9000)],
                         ids=["pillow-error", "pillow-warning", "own-limit"])
def test_decompression_bombs_are_refused_before_decoding(tmp_path, size):
    assert size[0] * size[1] > MAX_PIXELS
    source = tmp_path / "bomb.png"
    source.write_bytes(png_header_only(*size))
    with pytest.raises(Unprocessable, match="bomb") as refused:
        clean_photo(source, "image/png", tmp_path / "out", blur_faces=False)
    assert "too many pixels" in refused.value.reason
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fmt, content_type", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_truncated_files_are_refused(tmp_path, fmt, content_type):
    whole = io.BytesIO()
    photo_pixels((300, 300)).save(whole, fmt)
    source = tmp_path / "cut"
    source.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    with pytest.raises(Unprocessable) as refused:
        clean_photo(source, content_type, tmp_path / "out", blur_faces=False)
    assert "truncated" in refused.value.reason or "corrupt" in refused.value.reason or "not a" in refused.value.reason
    if fmt != "WEBP":  # libwebp refuses a cut file at once, without saying why
        assert "truncated" in refused.value.reason
    assert not (tmp_path / "out").exists()


def other_format(fmt: str) -> bytes:
    buf = io.BytesIO()
    photo_pixels((40, 30)).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("content, content_type, reason", [
    (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n", "image/png",
     "not a PNG image"),
    (b"<!doctype html><html><script>alert(1)</script></html>", "image/jpeg", "not a JPEG image"),
    (other_format("JPEG"), "image/png", "not a PNG image"),  # sound, but not what its type says
    (other_format("PNG"), "image/webp", "not a WebP image"),
    (other_format("GIF"), "image/heic", "not a HEIC image"),
    (other_format("PNG"), "image/gif", "not a supported photo type"),
])
def test_files_that_are_not_the_named_format_are_refused(tmp_path, content, content_type, reason):
    source = tmp_path / "upload"
    source.write_bytes(content)
    with pytest.raises(Unprocessable, match=reason) as refused:
        clean_photo(source, content_type, tmp_path / "out", blur_faces=False)
    assert str(tmp_path) not in refused.value.reason


@pytest.mark.parametrize("fmt, content_type", [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_animations_are_refused(tmp_path, fmt, content_type):
    source = tmp_path / "anim"
    frames = [photo_pixels((60, 40), seed) for seed in (1, 2)]
    frames[0].save(source, fmt, save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(Unprocessable, match="animated"):
        clean_photo(source, content_type, tmp_path / "out", blur_faces=False)


# --- faces ---


def checkered_face_png(path: Path) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """Grain everywhere (so any change outside the face shows) and, where the 'face' is, a fine
    checkerboard (detail that survives the 1280 px derivative unless it is blurred)."""
    rng = np.random.default_rng(7)
    arr = rng.integers(0, 256, (1600, 2000, 3), dtype=np.uint8)
    box = (800, 600, 400, 400)
    y, x = np.mgrid[0:400, 0:400]
    arr[600:1000, 800:1200] = (((x // 8 + y // 8) % 2) * 255)[..., None]
    image = Image.fromarray(arr)
    image.save(path)
    return image, box


def detail(image: Image.Image, area: tuple[int, int, int, int]) -> float:
    """Mean difference between horizontally adjacent pixels."""
    a = np.asarray(image.convert("L").crop(area), dtype=np.int16)
    return float(np.abs(np.diff(a, axis=1)).mean())


def test_found_faces_are_blurred_everywhere_and_nothing_else_changes(tmp_path):
    source = tmp_path / "in.png"
    original, box = checkered_face_png(source)
    calls = []

    def detector(image):
        calls.append(image.size)
        return [box]

    photo = clean_photo(source, "image/png", tmp_path / "out", blur_faces=True, detect=detector)

    assert photo.faces_blurred == 1 and calls == [(2000, 1600)]
    out = Image.open(photo.path).convert("RGB")
    widened = (700, 500, 1300, 1100)  # 25 % of the box on each side
    before, after = np.asarray(original), np.asarray(out)
    outside = np.ones(before.shape[:2], bool)
    outside[500:1100, 700:1300] = False
    assert np.array_equal(before[outside], after[outside])
    assert detail(original, widened) > 30 and detail(out, widened) < 1
    # The derivatives are made after the blur: the checkerboard shows in unblurred ones only.
    plain = clean_photo(source, "image/png", tmp_path / "plain", blur_faces=False)
    for width in DERIVATIVE_WIDTHS:
        scaled = tuple(round(v * width / 2000) for v in (800, 600, 1200, 1000))
        assert detail(Image.open(plain.derivatives[width]), scaled) > 30
        assert detail(Image.open(photo.derivatives[width]), scaled) < 1


def test_the_detector_sees_the_upright_picture_and_is_not_asked_when_blurring_is_off(tmp_path):
    source = tmp_path / "in.jpg"
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    photo_pixels((400, 300)).save(source, exif=exif.tobytes())
    seen = []
    clean_photo(source, "image/jpeg", tmp_path / "a", blur_faces=True, detect=lambda im: seen.append(im.size) or [])
    assert seen == [(300, 400)]
    clean_photo(source, "image/jpeg", tmp_path / "b", blur_faces=False, detect=lambda im: seen.append(im.size) or [])
    assert seen == [(300, 400)]


def test_the_haar_detector_runs_and_finds_no_face_in_a_plain_picture(tmp_path):
    assert find_faces(Image.new("RGB", (2400, 1800), (120, 130, 140))) == []
    source = tmp_path / "in.jpg"
    photo_pixels((640, 480)).save(source)
    photo = clean_photo(source, "image/jpeg", tmp_path / "out", blur_faces=True)
    assert photo.faces_blurred == 0


def test_a_multi_picture_jpeg_keeps_only_its_first_picture(tmp_path):
    """Phones append gain maps and depth maps to their JPEGs (MPO, Ultra HDR): not published."""
    source = tmp_path / "in.jpg"
    Image.new("RGB", (300, 200), (220, 20, 20)).save(
        source, "MPO", save_all=True, append_images=[Image.new("RGB", (150, 100), (20, 20, 220))])
    assert Image.open(source, formats=["JPEG"]).n_frames == 2
    photo = clean_photo(source, "image/jpeg", tmp_path / "out", blur_faces=False)
    image = assert_clean_jpeg(photo.path)  # one SOI..EOI, nothing after it
    assert image.size == (300, 200) and image.getpixel((150, 100))[0] > 200


@pytest.mark.parametrize("damaged", [segment(0xE1, b"Exif\0\0II*\0\x08\0\0\0\xff\xff" + b"\x01" * 40),
                                     segment(0xE2, b"ICC_PROFILE\0\1\1" + b"not a profile" * 20)],
                         ids=["exif", "icc"])
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_damaged_metadata_is_dropped_not_refused(tmp_path, damaged):
    base = io.BytesIO()
    photo_pixels((120, 90)).save(base, "JPEG")
    source = tmp_path / "in.jpg"
    source.write_bytes(b"\xff\xd8" + damaged + base.getvalue()[2:])
    photo = clean_photo(source, "image/jpeg", tmp_path / "out", blur_faces=False)
    assert assert_clean_jpeg(photo.path).size == (120, 90)

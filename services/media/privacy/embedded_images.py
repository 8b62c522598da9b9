"""Photos inside documents (a PDF's JPEGs, an office file's pictures) without their EXIF, XMP,
IPTC and text chunks (GPS position, camera serial, author), losslessly: the image data is
copied byte for byte."""
from __future__ import annotations

from services.media.privacy import Unprocessable

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_METADATA = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


def strip_jpeg(data: bytes) -> bytes:
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


def strip_png(data: bytes) -> bytes:
    """The PNG without its text chunks (author, software, comments), EXIF and modification time."""
    out = [PNG_SIGNATURE]
    pos = len(PNG_SIGNATURE)
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


def strip_image(data: bytes) -> bytes:
    if data.startswith(b"\xff\xd8\xff"):
        return strip_jpeg(data)
    if data.startswith(PNG_SIGNATURE):
        return strip_png(data)
    return data

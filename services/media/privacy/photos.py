"""Photos: re-encoded from their pixels alone, so nothing of the uploaded file but what it shows
is published — no EXIF (GPS position, time, camera and its serial number, maker notes, the
embedded thumbnail, which may show the picture before it was cropped), no XMP, no IPTC, no
comment, no colour profile — and, when asked, with the faces found in it blurred beyond recovery.

How a photo is cleaned (:func:`clean_photo`):

1. It is opened only as the format its content type names, never as whatever Pillow could make
   of it, and decoded completely, with Pillow's decompression-bomb guard and this module's own
   pixel limit (:data:`MAX_PIXELS`) both refusing oversized images before anything is decoded.
   Truncated or corrupt files are refused, never half-decoded.
2. The first image only is used. For JPEG (MPO) and HEIC the other images of the file are
   gain maps, depth maps, previews or burst shots and are neither decoded nor kept; animated
   PNG and WebP are refused, since turning one into a still would publish a picture the uploader
   never chose.
3. Its colours are converted to sRGB when it carries a colour profile (iPhones use Display P3),
   the profile itself is dropped (profiles can name the device or the person who calibrated it);
   a damaged profile is ignored. The EXIF orientation is applied, so the pixels are upright.
4. From then on the image is a new Pillow image with an empty ``info``: nothing read from the
   file is left to be written back out.
5. Faces are blurred when asked (see :func:`find_faces` for what the detector misses), before
   anything is written, so that no output shows them.
6. The full-size copy is written in the upload's format (JPEG, PNG, WebP; HEIC becomes JPEG,
   which browsers can show) and JPEG derivatives at :data:`DERIVATIVE_WIDTHS`, with no
   metadata arguments at all: no exif, icc_profile, xmp, comment, pnginfo, dpi.
"""
from __future__ import annotations

import io
import secrets
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageFilter, ImageOps, UnidentifiedImageError

from services.media.privacy import Unprocessable

PHOTO_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF"}
DERIVATIVE_WIDTHS = (320, 1280)

MAX_PIXELS = 80_000_000
"""Larger images are refused as decompression bombs before they are decoded. This admits every
common phone mode up to 64 MP (9248 x 6936; a 50 MP photo is 8160 x 6144, just over 50 million)
and refuses the 108 and 200 MP modes and anything Pillow itself would warn about (89.5 MP).
Cleaning holds about two decoded copies: 6 bytes a pixel (8 with transparency), so up to ~0.5 GB."""

# Pillow's own guard stays on: it raises for more than 2 x Image.MAX_IMAGE_PIXELS and warns above
# it; the warning is turned into a refusal. The explicit MAX_PIXELS check does not depend on that
# process-wide setting (nor on warnings filters, which are not thread-safe) and is stricter.
ImageFile.LOAD_TRUNCATED_IMAGES = False  # the default, stated: a truncated file is an error, never grey rows

# Only HEIC's primary image is wanted: its thumbnails, depth and auxiliary images stay undecoded.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

OUTPUT_FORMATS = {"JPEG": ("JPEG", "image/jpeg", ".jpg"), "PNG": ("PNG", "image/png", ".png"),
                  "WEBP": ("WEBP", "image/webp", ".webp"), "HEIF": ("JPEG", "image/jpeg", ".jpg")}
JPEG_QUALITY = 85
WEBP_QUALITY = 85

DETECT_MAX_SIDE = 1600  # faces are looked for on a grey copy no larger than this (speed)
FACE_MARGIN = 0.25  # each side of a detected box is pushed out by this share of its size: 1.5 x as wide and tall
FACE_BLOCKS = 8  # the widened box is averaged down to this many blocks across

Box = tuple[int, int, int, int]
"""(left, top, width, height) in pixels of the upright image."""
FaceDetector = Callable[[Image.Image], Iterable[Box]]


@dataclass(frozen=True)
class CleanPhoto:
    """What :func:`clean_photo` made: new files only, none of which holds anything of the upload
    but (possibly blurred) pixels."""

    path: Path  # the full-size clean image
    content_type: str  # what it was re-encoded as
    width: int
    height: int
    derivatives: dict[int, Path]  # every width in DERIVATIVE_WIDTHS -> a JPEG min(width, image width) wide
    faces_blurred: int


def clean_photo(source: Path, content_type: str, target_dir: Path, blur_faces: bool,
                detect: FaceDetector | None = None) -> CleanPhoto:
    """Clean the photo at ``source`` (see the module docstring) into new files in ``target_dir``.

    Files get a random name, are never overwritten, and are removed again if cleaning fails.
    Every width in DERIVATIVE_WIDTHS gets a JPEG derivative, ``min(width, image width)`` wide
    (a 200 px wide image has a 200 px "320" one), so the consumer can always rely on each.
    ``detect`` replaces the Haar detector (:func:`find_faces`), for tests or a better model.
    Raises :class:`Unprocessable` for anything that is not a sound, reasonably sized photo of
    the type ``content_type`` names."""
    fmt = PHOTO_FORMATS.get(content_type)
    if fmt is None:
        raise Unprocessable(f"not a supported photo type: {content_type}")
    image = _decode(source, fmt)
    faces = 0
    if blur_faces:
        boxes = list((detect or find_faces)(image))
        for box in boxes:
            _obscure(image, _widen(box, image.size))
        faces = len(boxes)

    save_as, out_type, suffix = OUTPUT_FORMATS[fmt]
    target_dir.mkdir(parents=True, exist_ok=True)
    stem = secrets.token_hex(8)
    written: list[Path] = []
    try:
        path = target_dir / f"{stem}{suffix}"
        _save(image if save_as != "JPEG" else _opaque(image), path, save_as, written)
        derivatives = _derivatives(image, target_dir, stem, written)
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    return CleanPhoto(path=path, content_type=out_type, width=image.width, height=image.height,
                      derivatives=derivatives, faces_blurred=faces)


def _decode(source: Path, fmt: str) -> Image.Image:
    """The upright, sRGB, metadata-free pixels of the file's first image."""
    label = {"HEIF": "HEIC", "WEBP": "WebP"}.get(fmt, fmt)
    with open(source, "rb") as fp:  # a missing source is the caller's fault, not the upload's: not caught
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                src = Image.open(fp, formats=[fmt])
                if src.width * src.height > MAX_PIXELS:
                    raise Unprocessable(f"decompression bomb: {src.width} x {src.height} is too many pixels "
                                        f"(at most {MAX_PIXELS})")
                if fmt in ("PNG", "WEBP") and getattr(src, "n_frames", 1) > 1:
                    raise Unprocessable("animated images are not accepted")
                src.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise Unprocessable(f"decompression bomb: too many pixels ({exc})") from None
        except UnidentifiedImageError:
            # Its message names the file on disk, which the uploader has no business seeing.
            raise Unprocessable(f"not a {label} image") from None
        except Unprocessable:
            raise
        except Exception as exc:  # whatever a decoder raises on hostile input is a refusal
            what = "truncated" if "truncated" in str(exc) else "corrupt"
            raise Unprocessable(f"{what} {label} image: {exc}") from None
    try:
        # Upright first. A new plain Image either way (turned, or a copy), but with a copy of the
        # file's info, which the steps below still read (tRNS transparency) and which is then dropped.
        image = ImageOps.exif_transpose(src)
    except Exception:  # orientation is cosmetic: a broken EXIF block leaves the picture as stored
        image = src.copy()
    icc = src.info.get("icc_profile")
    src.close()
    image = _to_srgb(image, icc) if icc else _plain_mode(image)
    # transpose, convert and copy all carry the file's info (EXIF, XMP, comment, ICC, PNG text...)
    # over to the image they return, and savers fall back on it (JPEG writes info["comment"], PNG
    # info["icc_profile"]). Emptying it leaves a plain Image made of pixels and nothing else.
    image.info = {}
    if image.mode == "RGBA":
        # Pixels made fully transparent (e.g. a face "erased" in an editor) keep their colour, and
        # PNG would publish it. Premultiplying and back zeroes it (and blurs barely visible ones).
        image = image.convert("RGBa").convert("RGBA")
    return image


def _plain_mode(im: Image.Image) -> Image.Image:
    """L, RGB or RGBA: what the encoders and the face blur handle; ``im`` itself when it already
    is one (it is already a private copy: no need for another)."""
    if im.mode in ("L", "RGB", "RGBA"):
        if "transparency" in im.info and im.mode != "RGBA":
            return im.convert("RGBA")  # a tRNS colour key
        return im
    if im.mode.startswith("I"):  # 16-bit grey PNG; convert("L") would clip everything above 255
        grey = np.clip(np.asarray(im).astype(np.int64), 0, 65535) >> 8
        return Image.fromarray(grey.astype(np.uint8), "L")
    has_alpha = im.mode in ("LA", "La", "PA", "RGBa") or "transparency" in im.info
    if has_alpha:
        return im.convert("RGBA")
    if im.mode == "1":
        return im.convert("L")
    if im.mode == "P" and im.palette is not None and im.palette.mode == "L":
        return im.convert("L")
    return im.convert("RGB")  # P, CMYK (Adobe CMYK JPEG), YCbCr, LAB, HSV


@lru_cache(maxsize=16)
def _srgb_transform(icc: bytes, mode: str, out_mode: str) -> ImageCms.ImageCmsTransform | None:
    """A cached transform from this profile to sRGB, or None when none is needed or possible."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if mode != "CMYK" and "srgb" in ImageCms.getProfileDescription(profile).lower():
            return None  # already sRGB (the profile most Android phones embed): save 0.15 s a photo
        return ImageCms.buildTransform(profile, ImageCms.createProfile("sRGB"), mode, out_mode,
                                       renderingIntent=ImageCms.Intent.PERCEPTUAL)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # unreadable, or not for this image's colour space: the profile is just dropped


def _to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """The image in sRGB, as browsers assume for untagged images; grey images are left as they
    are (a grey profile's gamma differs too little to matter)."""
    if im.mode not in ("RGB", "RGBA", "CMYK"):
        return _plain_mode(im)
    out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
    transform = _srgb_transform(bytes(icc), im.mode, out_mode)
    if transform is None:
        return _plain_mode(im)
    try:
        return ImageCms.applyTransform(im, transform)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return _plain_mode(im)


def _opaque(im: Image.Image) -> Image.Image:
    """For JPEG, which has no transparency: transparent parts become white."""
    if im.mode != "RGBA":
        return im
    flat = Image.new("RGB", im.size, "white")
    flat.paste(im, mask=im.getchannel("A"))
    return flat


def _save(im: Image.Image, path: Path, fmt: str, written: list[Path]) -> None:
    """Write ``im`` as a new file, passing the encoder nothing but compression settings: any
    metadata argument (exif, icc_profile, xmp, comment, pnginfo, dpi) is deliberately absent."""
    with open(path, "xb") as fp:  # never overwrite: a random name that exists is a bug
        written.append(path)
        if fmt == "JPEG":
            im.save(fp, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False)
        elif fmt == "PNG":
            im.save(fp, "PNG", optimize=False)  # optimize tries every filter: seconds for a photo
        else:
            im.save(fp, "WEBP", quality=WEBP_QUALITY, method=4)  # exact=False: invisible pixels are not kept


def _derivatives(image: Image.Image, target_dir: Path, stem: str, written: list[Path]) -> dict[int, Path]:
    """JPEG copies at each width, made from the cleaned (and blurred) image, the largest first so
    each smaller one is made from the previous one rather than from the full-size image."""
    paths: dict[int, Path] = {}
    current = image
    for width in sorted(DERIVATIVE_WIDTHS, reverse=True):
        w = min(width, image.width)
        h = max(1, round(image.height * w / image.width))
        if (w, h) != current.size:
            # reducing_gap: a fast box reduce by an integer factor first (4000 -> 2000), then Lanczos.
            current = current.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=1.5)
        path = target_dir / f"{stem}-{width}w.jpg"
        _save(_opaque(current), path, "JPEG", written)
        paths[width] = path
    return paths


# Faces


_CASCADES = threading.local()  # one set per thread: a CascadeClassifier is not safe to share


def _cascades() -> tuple[cv2.CascadeClassifier, cv2.CascadeClassifier]:
    cascades = getattr(_CASCADES, "loaded", None)
    if cascades is None:
        cascades = tuple(cv2.CascadeClassifier(cv2.data.haarcascades + name)
                         for name in ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml"))
        if any(c.empty() for c in cascades):
            raise RuntimeError(f"OpenCV's Haar cascades are missing from {cv2.data.haarcascades}")
        _CASCADES.loaded = cascades
    return cascades


def find_faces(image: Image.Image) -> list[Box]:
    """Boxes around the faces OpenCV's bundled Haar cascades find in an upright image.

    Three passes over a grey copy at most DETECT_MAX_SIDE px long, contrast-equalised: the
    frontal-face cascade, then the profile-face cascade on the image and on its mirror image (it
    only knows faces turned one way). Overlapping finds of one face count once. About 1 s for a
    12 MP photo.

    What it misses — blurring is a help, not a guarantee; whoever publishes should still look:

    - small faces: anything under about 24 px in the grey copy, so under ~1.5 % of the photo's
      longest side (about 60 px in a 4000 px photo) — most faces at the back of a crowd;
    - faces turned between frontal and full profile, tilted more than ~15°, upside down, seen from
      above or below, or from behind (the back of a head, hair, tattoos, clothes still identify);
    - partly hidden faces: masks, scarves, hands, helmets, hoods, sunglasses, hair, placards,
      other people in front;
    - faces in poor light, backlit or motion-blurred; Haar cascades work on light/dark contrasts
      and are known to miss darker-skinned faces more often, especially in dim light;
    - faces on placards, screens or printed photos are found or missed like any other.

    It also finds faces that are not there (patterns in foliage, fabric, brickwork): those
    patches are blurred too, which costs nothing but a little of the picture."""
    scale = max(1, -(-max(image.size) // DETECT_MAX_SIDE))  # ceil: an integer box reduce is fast
    small = image.reduce(scale) if scale > 1 else image
    grey = cv2.equalizeHist(np.asarray(small.convert("L")))
    fx, fy = image.width / small.width, image.height / small.height
    frontal, profile = _cascades()
    found = [tuple(b) for b in frontal.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=4, minSize=(24, 24))]
    found += [tuple(b) for b in profile.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=4, minSize=(20, 20))]
    mirrored = profile.detectMultiScale(cv2.flip(grey, 1), scaleFactor=1.1, minNeighbors=4, minSize=(20, 20))
    found += [(grey.shape[1] - x - w, y, w, h) for x, y, w, h in mirrored]
    boxes = [(round(x * fx), round(y * fy), round(w * fx), round(h * fy)) for x, y, w, h in _merge(found)]
    return [b for b in boxes if b[2] > 0 and b[3] > 0]


def _merge(boxes: list) -> list[Box]:
    """Boxes covering the same face (more than half of the smaller one) become their union."""
    merged: list[Box] = []
    for x, y, w, h in sorted((tuple(int(v) for v in b) for b in boxes), key=lambda b: -b[2] * b[3]):
        for i, (mx, my, mw, mh) in enumerate(merged):
            ix = min(x + w, mx + mw) - max(x, mx)
            iy = min(y + h, my + mh) - max(y, my)
            if ix > 0 and iy > 0 and ix * iy > 0.5 * min(w * h, mw * mh):
                left, top = min(x, mx), min(y, my)
                merged[i] = (left, top, max(x + w, mx + mw) - left, max(y + h, my + mh) - top)
                break
        else:
            merged.append((x, y, w, h))
    return merged


def _widen(box: Box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The detected box pushed out on every side (detectors frame the features, not hair, ears,
    chin), clipped to the image, as (left, top, right, bottom)."""
    x, y, w, h = (int(v) for v in box)
    dx, dy = round(w * FACE_MARGIN), round(h * FACE_MARGIN)
    return max(0, x - dx), max(0, y - dy), min(size[0], x + w + dx), min(size[1], y + h + dy)


def _obscure(image: Image.Image, area: tuple[int, int, int, int]) -> None:
    """Replace the area, in place, by its average over FACE_BLOCKS blocks across, then smooth it.

    The averaging is what destroys the face: what is written depends only on those few block
    averages (8 across the widened box, so about 5 across the face itself), which no de-blurring
    can turn back into a face. The Gaussian blur only hides the block edges, so the result does
    not look like a mosaic that invites "enhancing"."""
    left, top, right, bottom = area
    w, h = right - left, bottom - top
    if w <= 0 or h <= 0:
        return
    region = image.crop(area)
    blocks = (max(1, min(w, FACE_BLOCKS)), max(1, min(h, round(FACE_BLOCKS * h / w))))
    mosaic = region.resize(blocks, Image.Resampling.BOX).resize((w, h), Image.Resampling.NEAREST)
    image.paste(mosaic.filter(ImageFilter.GaussianBlur(max(1.0, w / FACE_BLOCKS / 2))), (left, top))

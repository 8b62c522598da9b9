"""The media worker's photo cleaning: photos per second of
`services.media.privacy.photos.clean_photo(..., blur_faces=False)` on 12-megapixel JPEGs.

- **Photos**: 6 distinct 4000 x 3000 JPEGs made for the run (colour gradients, blobs and grain,
  so that they compress like photos: 3-4 MB each at quality 92), each with the EXIF a phone
  writes (make, model, time, GPS, orientation 1, i.e. already upright).
- **App**: `clean_photo(path, "image/jpeg", folder, blur_faces=False)`: the whole cleaning, i.e.
  decode, upright copy, the full-size re-encode (JPEG 85) and the JPEG copies 1280 and 320 wide.
- **Baseline**: what any thumbnailer does with Pillow: `Image.open`, `resize` to 1280 wide
  (Pillow's default filter) and `save` as JPEG quality 85, to a file in the same folder.

Both run in this process, one after the other over the 6 photos, 3 rounds that alternate which
side goes first; each side reports its median round. Target 0.5. Also reported, with no target:
the same cleaning with `blur_faces=True` (the Haar face detector runs over every photo; the
photos hold no faces, so hardly anything is blurred: this is the detector's cost). Every output
file is deleted straight after it is written.
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from pathlib import Path

from bench.common import Result, temp_dir

WIDTH, HEIGHT = 4000, 3000
PHOTOS = 6
ROUNDS = int(os.environ.get("BENCH_PHOTO_ROUNDS", "3"))
SOURCE_QUALITY = 92
THUMB_WIDTH, THUMB_QUALITY = 1280, 85
TARGET = 0.5


def make_photo(path: Path, seed: int) -> None:
    """A 12 MP JPEG that compresses like a photo: gradients, soft blobs, some texture and grain."""
    import numpy as np
    from PIL import ExifTags, Image

    rng = np.random.default_rng(seed)

    def smooth(cells_x: int, cells_y: int) -> np.ndarray:
        small = Image.fromarray(rng.integers(0, 256, (cells_y, cells_x, 3), dtype=np.uint8), "RGB")
        return np.asarray(small.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC), dtype=np.int16)

    x = np.linspace(0, 1, WIDTH, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None, None]
    corners = rng.uniform(0, 255, (4, 3)).astype(np.float32)
    gradient = (corners[0] * (1 - x) * (1 - y) + corners[1] * x * (1 - y) + corners[2] * (1 - x) * y
                + corners[3] * x * y).astype(np.int16)
    pixels = (gradient // 2 + smooth(40, 30) // 3 + smooth(400, 300) // 6
              + rng.integers(-10, 11, (HEIGHT, WIDTH, 1), dtype=np.int16))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Google"
    exif[ExifTags.Base.Model] = "Pixel 7"
    exif[ExifTags.Base.Software] = "HDR+ 1.0.540104767zd"
    exif[ExifTags.Base.DateTime] = f"2022:12:01 14:{seed:02d}:00"
    exif[ExifTags.Base.Orientation] = 1
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0 + seed),
                ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (13.0, 24.0, 18.0)})
    image.save(path, "JPEG", quality=SOURCE_QUALITY, exif=exif)


def thumbnail(source: Path, target: Path) -> None:
    """The baseline: open, resize to THUMB_WIDTH wide, save as JPEG."""
    from PIL import Image

    with Image.open(source) as image:
        height = round(image.height * THUMB_WIDTH / image.width)
        image.resize((THUMB_WIDTH, height)).save(target, "JPEG", quality=THUMB_QUALITY)


def _clean_all(photos: list[Path], out: Path, blur_faces: bool) -> tuple[float, int]:
    """Seconds to clean every photo; the faces blurred in all."""
    from services.media.privacy.photos import clean_photo

    faces = 0
    start = time.perf_counter()
    for photo in photos:
        clean = clean_photo(photo, "image/jpeg", out, blur_faces=blur_faces)
        faces += clean.faces_blurred
        if (clean.width, clean.height) != (WIDTH, HEIGHT) or len(clean.derivatives) != 2:
            raise RuntimeError(f"clean_photo made {clean.width} x {clean.height}, {sorted(clean.derivatives)}")
        for path in (clean.path, *clean.derivatives.values()):
            path.unlink()
    return time.perf_counter() - start, faces


def _thumbnail_all(photos: list[Path], out: Path) -> float:
    start = time.perf_counter()
    for i, photo in enumerate(photos):
        target = out / f"thumb-{i}.jpg"
        thumbnail(photo, target)
        target.unlink()
    return time.perf_counter() - start


def run() -> list[Result]:
    from PIL import Image

    with temp_dir("photos") as folder:
        t = time.perf_counter()
        photos = []
        for i in range(PHOTOS):
            photos.append(folder / f"photo-{i}.jpg")
            make_photo(photos[-1], i + 1)
        sizes = [p.stat().st_size for p in photos]
        print(f"  photos: made {PHOTOS} {WIDTH} x {HEIGHT} JPEGs ({min(sizes) / 1e6:.1f}-{max(sizes) / 1e6:.1f} MB) "
              f"in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        out = folder / "out"
        out.mkdir()
        # Warm-up: imports, OpenCV's cascades, the files in the page cache.
        _clean_all(photos[:1], out, blur_faces=True)
        _thumbnail_all(photos[:1], out)
        with Image.open(photos[0]) as check:
            if check.getexif().get(0x0112) != 1 or (check.width, check.height) != (WIDTH, HEIGHT):
                raise RuntimeError("the generated photo is not what the benchmark wants")

        times: dict[str, list[float]] = {"clean": [], "baseline": [], "blur": []}
        faces = 0
        for i in range(ROUNDS):
            for side in (("baseline", "clean", "blur") if i % 2 == 0 else ("blur", "clean", "baseline")):
                if side == "baseline":
                    times[side].append(_thumbnail_all(photos, out))
                else:
                    seconds, found = _clean_all(photos, out, blur_faces=side == "blur")
                    times[side].append(seconds)
                    faces = found if side == "blur" else faces
            print(f"  photos: round {i + 1}/{ROUNDS} " + ", ".join(
                f"{side} {PHOTOS / times[side][-1]:.2f} photos/s" for side in ("clean", "baseline", "blur")),
                file=sys.stderr)
        if any(out.iterdir()):
            raise RuntimeError("an output file was left behind")
        shutil.rmtree(out)

    rate = {side: PHOTOS / statistics.median(seconds) for side, seconds in times.items()}
    ms = {side: statistics.median(seconds) / PHOTOS * 1000 for side, seconds in times.items()}
    name = "photos clean 12MP"
    details = [
        f"{name}: clean_photo(blur_faces=False) {ms['clean']:.0f} ms a photo (decode, upright copy, full-size JPEG "
        f"85, copies 1280 and 320 wide); baseline (open, resize to {THUMB_WIDTH} wide, save JPEG {THUMB_QUALITY}) "
        f"{ms['baseline']:.0f} ms; {PHOTOS} photos {WIDTH} x {HEIGHT}, {statistics.median(sizes) / 1e6:.1f} MB "
        f"(JPEG {SOURCE_QUALITY}, EXIF with GPS), medians of {ROUNDS} rounds",
        f"photos clean+blur 12MP: clean_photo(blur_faces=True) {ms['blur']:.0f} ms a photo, i.e. "
        f"{ms['blur'] - ms['clean']:.0f} ms for the face detection (no faces in these photos; {faces} patches "
        f"blurred in the last round), {ms['blur'] / ms['clean']:.1f}x the cleaning without it (no target)",
    ]
    return [Result(name, rate["clean"], rate["baseline"], "photos/s", target=TARGET, details=details[:1]),
            Result("photos clean+blur 12MP", rate["blur"], rate["baseline"], "photos/s", target=None,
                   details=details[1:])]

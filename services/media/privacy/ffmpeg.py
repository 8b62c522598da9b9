"""Running ffmpeg and ffprobe on uploads: as subprocesses with list arguments, output to
temporary files (a hostile input cannot fill memory), within a deadline, the input opened with
the `file` protocol only and a single expected demuxer (a playlist dressed up as a video cannot
make ffmpeg read other files or URLs), and failures turned into reasons an uploader can read."""
from __future__ import annotations

import functools
import json
import math
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from services.media.privacy import Unprocessable

# ffprobe's JSON for a sane file is a few KB; a file stuffed with huge tags is refused
# rather than read into memory whole.
_MAX_PROBE_OUTPUT = 16 * 1024 * 1024
_STDERR_TAIL = 4096
TOO_LONG = "processing took too long"
MOV_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
# A poster is a preview: no need for more pixels than this, and it bounds what Pillow opens.
_POSTER_MAX_SIDE = 1280


@dataclass(frozen=True)
class Kind:
    label: str  # said in reasons
    demuxer: str  # the only demuxer allowed to open the upload
    format_name: str  # what ffprobe must report


def ffprobe_for(ffmpeg: str) -> str:
    """ffprobe beside the given ffmpeg (a bare name is looked up on PATH, like ffmpeg)."""
    directory = os.path.dirname(ffmpeg)
    return os.path.join(directory, "ffprobe") if directory else "ffprobe"


@functools.lru_cache(maxsize=None)
def ffmpeg_available(ffmpeg: str = "ffmpeg") -> bool:
    """Whether ffmpeg and its ffprobe run here. Cached per path: asked once per process, not
    once per upload (so ffmpeg installed later is seen after a restart, or after
    `ffmpeg_available.cache_clear()`). Without them videos are kept but held unprocessed
    (the caller's job)."""
    for program in (ffmpeg, ffprobe_for(ffmpeg)):
        try:
            done = subprocess.run([program, "-hide_banner", "-version"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=15, check=False)
        except (OSError, subprocess.SubprocessError):
            return False
        if done.returncode != 0:
            return False
    return True


def bare_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def file_arg(path: Path) -> str:
    # "file:" so that a name with a colon is never read as another protocol.
    return f"file:{os.fspath(path)}"


def input_args(kind: Kind, source: Path) -> list[str]:
    return ["-f", kind.demuxer, "-protocol_whitelist", "file", "-i", file_arg(source)]


def is_picture(stream: dict) -> bool:
    disposition = stream.get("disposition") or {}
    return bool(disposition.get("attached_pic") or disposition.get("timed_thumbnails"))


def first_stream(info: dict, codec_type: str) -> dict | None:
    """The first real stream of a type (cover art and thumbnails are not the video)."""
    for stream in info.get("streams", []):
        if stream.get("codec_type") == codec_type and not is_picture(stream):
            return stream
    return None


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise Unprocessable(TOO_LONG)
    return left


def _run(args: list[str], deadline: float, *, keep_stdout: bool = False) -> bytes:
    """Run one program. Output goes to temporary files, not pipes, so a chatty or hostile
    input cannot fill memory; on failure the last line of stderr becomes the reason."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            done = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=out if keep_stdout else subprocess.DEVNULL,
                                  stderr=err, timeout=_remaining(deadline), check=False)
        except subprocess.TimeoutExpired:  # run() has killed and reaped the child
            raise Unprocessable(TOO_LONG) from None
        except OSError as exc:
            raise Unprocessable(f"{os.path.basename(args[0])} could not be run: {exc.strerror}") from None
        if done.returncode != 0:
            raise Unprocessable(f"{os.path.basename(args[0])} failed: {_last_line(err)}")
        if not keep_stdout:
            return b""
        if out.tell() > _MAX_PROBE_OUTPUT:
            raise Unprocessable("too much metadata to inspect")
        out.seek(0)
        return out.read()


def _last_line(err) -> str:
    size = err.seek(0, os.SEEK_END)
    err.seek(max(0, size - _STDERR_TAIL))
    lines = [line.strip() for line in err.read().decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return "no error message"
    # ffmpeg ends with "file:/path: Invalid argument": the path means nothing to an uploader
    # (and is ours to keep), and the line before says what was actually wrong.
    last = re.sub(r"^file:.*?: ", "", lines[-1])
    if last != lines[-1] and len(lines) > 1:
        last = f"{lines[-2]}: {last}"
    return re.sub(r" @ 0x[0-9a-f]+\]", "]", last)[:300]  # pointer addresses only make reasons differ


def run_ffmpeg(ffmpeg: str, args: list[str], deadline: float) -> None:
    _run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-n", *args], deadline)


def probe(ffprobe: str, path: Path, kind: Kind, deadline: float) -> dict:
    """ffprobe's view of a file that must be `kind`. Only kind's demuxer may open it, so a
    PNG or a playlist fails here instead of being handed to a demuxer we did not expect."""
    try:
        raw = _run([ffprobe, "-v", "error", "-format_whitelist", kind.demuxer, "-protocol_whitelist", "file",
                    "-print_format", "json", "-show_format", "-show_streams", "-show_chapters", file_arg(path)],
                   deadline, keep_stdout=True)
    except Unprocessable as exc:
        if exc.reason == TOO_LONG:
            raise
        raise Unprocessable(f"not readable as {kind.label} ({exc.reason})") from None
    try:
        info = json.loads(raw)
    except ValueError:
        raise Unprocessable(f"not readable as {kind.label} (ffprobe gave no answer)") from None
    found = (info.get("format") or {}).get("format_name")
    if found != kind.format_name:
        raise Unprocessable(f"not {kind.label}: the file is {found or 'of no known format'}")
    return info


def duration_of(info: dict) -> float | None:
    try:
        value = float((info.get("format") or {}).get("duration"))
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


def display_size(stream: dict | None) -> tuple[int | None, int | None]:
    """Width and height as a player shows them: a phone held upright stores a landscape
    picture plus a 90° display matrix, which the copy keeps."""
    if not stream or not stream.get("width") or not stream.get("height"):
        return None, None
    width, height = int(stream["width"]), int(stream["height"])
    for side in stream.get("side_data_list") or []:
        rotation = side.get("rotation")
        if isinstance(rotation, (int, float)) and round(rotation) % 180 == 90:
            width, height = height, width
    return width, height


def make_poster(ffmpeg: str, video: Path, poster: Path, duration: float | None, scratch: list[Path],
            deadline: float) -> None:
    """One frame of the cleaned video at ~1 s (at 0 for short videos, or when 1 s gives
    nothing), as a JPEG that Pillow writes afresh: no EXIF, no comment, no encoder string."""
    frame = poster.with_name(poster.stem + ".frame.jpg")
    scratch.append(frame)
    side = _POSTER_MAX_SIDE
    scale = f"scale='min({side},iw)':'min({side},ih)':force_original_aspect_ratio=decrease"
    demuxer = "matroska" if video.suffix == ".webm" else "mov"
    reason = "no frame of the video could be decoded"
    for at in ([1.0, 0.0] if duration and duration > 1.5 else [0.0]):
        remove(frame)
        try:
            run_ffmpeg(ffmpeg, ["-ss", f"{at:.3f}", "-f", demuxer, "-protocol_whitelist", "file", "-i", file_arg(video),
                             "-map", "0:v:0", "-an", "-sn", "-dn", "-frames:v", "1", "-vf", scale, "-q:v", "3",
                             "-f", "image2", "-c:v", "mjpeg", file_arg(frame)], deadline)
        except Unprocessable as exc:
            if exc.reason == TOO_LONG:
                raise
            reason = f"no frame of the video could be decoded ({exc.reason})"
            continue
        if frame.exists() and frame.stat().st_size > 0:
            break
    else:
        raise Unprocessable(reason)
    try:
        with Image.open(frame) as image:
            image.load()
            fresh = Image.new("RGB", image.size)
            fresh.paste(image.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Unprocessable(f"the poster frame could not be read: {exc}") from None
    fresh.save(poster, format="JPEG", quality=85)


def remove(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass

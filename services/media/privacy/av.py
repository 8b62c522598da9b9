"""Videos and songs, cleaned by ffmpeg without re-encoding.

A phone's video says where and when it was shot and on which device (the QuickTime
`location`/©xyz atom, com.apple.quicktime.*, make, model, creation_time, handler names),
and a song's tags may name the person who recorded it. Everything here is remuxed
(`-c copy`: the pictures and sounds are untouched, so it is fast and loses no quality) into
a fresh container that ffmpeg writes itself, with every metadata copy switched off, only one
video and one audio stream kept, and then checked with ffprobe against an explicit
allow-list: a tag we do not know refuses the file rather than publishing it.

What a remux cannot remove: strings inside the compressed streams themselves that name the
*software* that encoded them ("Lavc…" in the first AAC frame, "LAME3.100" in MP3 frames,
SEI units kept in an HEVC configuration record, MPEG-4 Part 2 user data).

ffmpeg and ffprobe run as subprocesses with list arguments; the input is opened with the
`file` protocol only and a single expected demuxer, so a playlist (HLS, concat…) dressed up
as a video cannot make ffmpeg read other files or URLs.
"""
from __future__ import annotations

import functools
import json
import math
import os
import re
import secrets
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from services.media.privacy import Unprocessable

__all__ = ["CleanAudio", "CleanVideo", "clean_audio", "clean_video", "ffmpeg_available", "ffprobe_for"]

# ffprobe's JSON for a sane file is a few KB; a file stuffed with huge tags is refused
# rather than read into memory whole.
_MAX_PROBE_OUTPUT = 16 * 1024 * 1024
_STDERR_TAIL = 4096
_TOO_LONG = "processing took too long"
_MOV_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
# A poster is a preview: no need for more pixels than this, and it bounds what Pillow opens.
_POSTER_MAX_SIDE = 1280

# Codecs that can be copied into MP4 and that browsers (or at least the mp4 muxer) accept.
# A QuickTime file with anything else (PCM audio from cameras, ProRes…) stays QuickTime.
_MP4_VIDEO = frozenset({"h264", "hevc", "av1", "mpeg4"})
_MP4_AUDIO = frozenset({"aac", "mp3", "alac", "ac3", "eac3"})
_WEBM_VIDEO = frozenset({"vp8", "vp9", "av1"})
_WEBM_AUDIO = frozenset({"vorbis", "opus"})

# SEI / metadata units inside the video bitstream carry encoder strings, timecodes (time of
# day of the recording) and vendor data; the filter_units bitstream filter drops them
# without re-encoding. H.264 type 6 = SEI; HEVC 39/40 = prefix/suffix SEI (this also drops
# HDR10 mastering hints: the video still plays); AV1 OBU type 5 = metadata.
_STRIP_UNITS = {"h264": "6", "hevc": "39|40", "av1": "5"}
# Video made of still images keeps each image's own segments (a Motion-JPEG frame can hold
# EXIF, a PNG frame text chunks), and no bitstream filter removes them: refused.
_IMAGE_VIDEO = frozenset({"mjpeg", "png", "jpeg2000", "tiff", "gif", "bmp", "webp"})

# The allow-list. ffmpeg writes these itself when muxing; none comes from the upload once
# metadata copying is off, and none identifies a person, place, time or device.
#  - major_brand/minor_version/compatible_brands: the MP4 `ftyp` box, chosen by the muxer.
#  - encoder "Lavf": Matroska's MuxingApp/WritingApp, version-less under +bitexact.
_FORMAT_TAGS = {
    "major_brand": None,
    "minor_version": None,
    "compatible_brands": None,
    "encoder": re.compile(r"Lavf"),
}
#  - language "und": the MP4 muxer's default ("undetermined"); any other value was copied.
#  - handler_name: ffmpeg's generic names; a phone writes "Core Media Video" and the like.
#  - vendor_id: zero, or "FFMP" that ffmpeg's QuickTime muxer writes for video.
#  - DURATION: the Matroska muxer's per-track length.
_STREAM_TAGS = {
    "language": re.compile(r"und"),
    "handler_name": re.compile(r"VideoHandler|SoundHandler"),
    "vendor_id": re.compile(r"\[0\]\[0\]\[0\]\[0\]|FFMP"),
    "DURATION": re.compile(r"\d+:\d\d:\d\d(\.\d+)?"),
}

_COMMON_OUTPUT_ARGS = [
    "-c", "copy",
    # Copy no metadata at all: global, per stream, per chapter; and no chapters.
    "-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1",
    # No "Lavf59…"/"Lavc59…" version strings, no random UIDs, no muxing dates.
    "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
]


@dataclass(frozen=True)
class CleanVideo:
    path: Path  # mp4 for MP4 and (when the codecs allow) QuickTime input; webm for WebM; else mov
    content_type: str
    poster: Path  # always a JPEG: a video without a decodable frame is refused instead
    duration: float | None
    width: int | None  # as displayed, i.e. after the rotation the file asks for
    height: int | None


@dataclass(frozen=True)
class CleanAudio:
    path: Path
    content_type: str
    duration: float | None


@dataclass(frozen=True)
class _Kind:
    label: str  # said in reasons
    demuxer: str  # the only demuxer allowed to open the upload
    format_name: str  # what ffprobe must report


_MOV = _Kind("an MP4/QuickTime video", "mov", _MOV_FAMILY)
_VIDEO_KINDS = {
    "video/mp4": _MOV,
    "video/quicktime": _MOV,
    "video/webm": _Kind("a WebM video", "matroska", "matroska,webm"),
}
_MP3 = _Kind("an MP3 file", "mp3", "mp3")
_OGG = _Kind("an Ogg audio file", "ogg", "ogg")
_M4A = _Kind("an M4A audio file", "mov", _MOV_FAMILY)
_AUDIO_KINDS = {
    "audio/mpeg": _MP3, "audio/mp3": _MP3,
    "audio/ogg": _OGG, "application/ogg": _OGG, "audio/opus": _OGG,
    "audio/mp4": _M4A, "audio/x-m4a": _M4A, "audio/m4a": _M4A,
}


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


def clean_video(source: Path, content_type: str, target_dir: Path, ffmpeg: str = "ffmpeg",
                timeout: float = 3600) -> CleanVideo:
    """Remux `source` (declared as `content_type`) into `target_dir` with no metadata, and
    extract a poster frame. QuickTime becomes MP4 when its codecs fit MP4, because browsers
    play MP4 and not always QuickTime; otherwise it stays QuickTime, cleaned the same way.
    Raises Unprocessable, leaving nothing behind in target_dir, when it cannot."""
    kind = _VIDEO_KINDS.get(_bare_type(content_type))
    if kind is None:
        raise Unprocessable(f"unsupported video type {content_type!r}")
    deadline = time.monotonic() + timeout
    ffprobe = ffprobe_for(ffmpeg)
    info = _probe(ffprobe, source, kind, deadline)
    video = _first(info, "video")
    if video is None:
        raise Unprocessable(f"not a video: {kind.label} without a video stream")
    audio = _first(info, "audio")
    vcodec, acodec = video.get("codec_name"), audio.get("codec_name") if audio else None
    if vcodec in _IMAGE_VIDEO:
        raise Unprocessable(f"{vcodec} video keeps metadata in every frame; convert it to H.264 first")

    if kind is _MOV:
        as_mp4 = vcodec in _MP4_VIDEO and (audio is None or acodec in _MP4_AUDIO)
        muxer, suffix, out_type = ("mp4", ".mp4", "video/mp4") if as_mp4 else ("mov", ".mov", "video/quicktime")
    else:
        if vcodec not in _WEBM_VIDEO or (audio is not None and acodec not in _WEBM_AUDIO):
            raise Unprocessable(f"a Matroska file with {vcodec} video and {acodec or 'no'} audio is not WebM")
        muxer, suffix, out_type = "webm", ".webm", "video/webm"

    target_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    out = target_dir / f"{token}{suffix}"
    poster = target_dir / f"{token}.jpg"
    scratch: list[Path] = []
    try:
        inputs = _input_args(kind, source)
        maps = ["-map", f"0:{video['index']}"]
        if audio is not None and muxer == "webm" and acodec == "vorbis":
            # Matroska keeps Vorbis's own comment header (tags included) inside the track's
            # CodecPrivate, and a copy remux keeps it verbatim where ffprobe does not look.
            # The Ogg muxer rewrites that header from (cleared) metadata: hop via Ogg.
            hop = target_dir / f"{token}.audio.ogg"
            scratch.append(hop)
            _ffmpeg(ffmpeg, [*inputs, "-map", f"0:{audio['index']}", *_COMMON_OUTPUT_ARGS, "-f", "ogg",
                             _file(hop)], deadline)
            inputs += ["-f", "ogg", "-protocol_whitelist", "file", "-i", _file(hop)]
            maps += ["-map", "1:0"]
        elif audio is not None:
            maps += ["-map", f"0:{audio['index']}"]
        extra = ["-movflags", "+faststart"] if muxer in ("mp4", "mov") else []  # index first: plays while loading
        if vcodec in _STRIP_UNITS:
            extra += ["-bsf:v", f"filter_units=remove_types={_STRIP_UNITS[vcodec]}"]
        _ffmpeg(ffmpeg, [*inputs, *maps, *_COMMON_OUTPUT_ARGS, *extra, "-f", muxer, _file(out)], deadline)

        cleaned = _probe(ffprobe, out, _MOV if muxer != "webm" else kind, deadline)
        _verify(cleaned, expect={"video": 1, "audio": 1 if audio is not None else 0})
        duration = _duration(cleaned)
        width, height = _display_size(_first(cleaned, "video"))
        _poster(ffmpeg, out, poster, duration, scratch, deadline)
        return CleanVideo(path=out, content_type=out_type, poster=poster, duration=duration,
                          width=width, height=height)
    except BaseException:
        _remove(out, poster)
        raise
    finally:
        _remove(*scratch)


def clean_audio(source: Path, content_type: str, target_dir: Path, ffmpeg: str = "ffmpeg",
                timeout: float = 600) -> CleanAudio:
    """Remux a song into the same format with no tags and no cover art: MP3 without ID3,
    Ogg with an empty Vorbis/Opus comment header, M4A without iTunes atoms. Raises
    Unprocessable, leaving nothing behind in target_dir, when it cannot."""
    kind = _AUDIO_KINDS.get(_bare_type(content_type))
    if kind is None:
        raise Unprocessable(f"unsupported audio type {content_type!r}")
    deadline = time.monotonic() + timeout
    ffprobe = ffprobe_for(ffmpeg)
    info = _probe(ffprobe, source, kind, deadline)
    for stream in info.get("streams", []):
        if stream.get("codec_type") == "video" and not _is_picture(stream):
            raise Unprocessable(f"{kind.label} with a video stream: upload it as a video")
    audio = _first(info, "audio")
    if audio is None:
        raise Unprocessable(f"{kind.label} without an audio stream")
    codec = audio.get("codec_name")
    if kind is _MP3:
        if codec != "mp3":
            raise Unprocessable(f"an MP3 file holding {codec}")
        muxer, suffix, out_type = "mp3", ".mp3", "audio/mpeg"
        extra = ["-id3v2_version", "0", "-write_id3v1", "0"]  # no ID3 tag at all, not even an empty one
    elif kind is _OGG:
        # The Ogg muxer rebuilds the Vorbis/Opus/FLAC comment header from stream metadata,
        # which is cleared: only the vendor string "ffmpeg" remains.
        muxer, suffix, out_type, extra = "ogg", ".ogg", "audio/ogg", []
    else:
        if codec not in ("aac", "alac"):
            raise Unprocessable(f"an M4A file holding {codec}")
        # The ipod muxer is MP4 with the "M4A " brand that players expect of .m4a.
        muxer, suffix, out_type, extra = "ipod", ".m4a", "audio/mp4", ["-movflags", "+faststart"]

    target_dir.mkdir(parents=True, exist_ok=True)
    out = target_dir / f"{secrets.token_hex(8)}{suffix}"
    try:
        # Only the first audio stream: cover art (an attached picture) is left behind.
        _ffmpeg(ffmpeg, [*_input_args(kind, source), "-map", f"0:{audio['index']}", *_COMMON_OUTPUT_ARGS,
                         *extra, "-f", muxer, _file(out)], deadline)
        cleaned = _probe(ffprobe, out, kind, deadline)
        _verify(cleaned, expect={"audio": 1, "video": 0})
        return CleanAudio(path=out, content_type=out_type, duration=_duration(cleaned))
    except BaseException:
        _remove(out)
        raise


# --- helpers -------------------------------------------------------------------------------

def _bare_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _file(path: Path) -> str:
    # "file:" so that a name with a colon is never read as another protocol.
    return f"file:{os.fspath(path)}"


def _input_args(kind: _Kind, source: Path) -> list[str]:
    return ["-f", kind.demuxer, "-protocol_whitelist", "file", "-i", _file(source)]


def _is_picture(stream: dict) -> bool:
    disposition = stream.get("disposition") or {}
    return bool(disposition.get("attached_pic") or disposition.get("timed_thumbnails"))


def _first(info: dict, codec_type: str) -> dict | None:
    """The first real stream of a type (cover art and thumbnails are not the video)."""
    for stream in info.get("streams", []):
        if stream.get("codec_type") == codec_type and not _is_picture(stream):
            return stream
    return None


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise Unprocessable(_TOO_LONG)
    return left


def _run(args: list[str], deadline: float, *, keep_stdout: bool = False) -> bytes:
    """Run one program. Output goes to temporary files, not pipes, so a chatty or hostile
    input cannot fill memory; on failure the last line of stderr becomes the reason."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            done = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=out if keep_stdout else subprocess.DEVNULL,
                                  stderr=err, timeout=_remaining(deadline), check=False)
        except subprocess.TimeoutExpired:  # run() has killed and reaped the child
            raise Unprocessable(_TOO_LONG) from None
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


def _ffmpeg(ffmpeg: str, args: list[str], deadline: float) -> None:
    _run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-n", *args], deadline)


def _probe(ffprobe: str, path: Path, kind: _Kind, deadline: float) -> dict:
    """ffprobe's view of a file that must be `kind`. Only kind's demuxer may open it, so a
    PNG or a playlist fails here instead of being handed to a demuxer we did not expect."""
    try:
        raw = _run([ffprobe, "-v", "error", "-format_whitelist", kind.demuxer, "-protocol_whitelist", "file",
                    "-print_format", "json", "-show_format", "-show_streams", "-show_chapters", _file(path)],
                   deadline, keep_stdout=True)
    except Unprocessable as exc:
        if exc.reason == _TOO_LONG:
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


def _verify(info: dict, expect: dict[str, int]) -> None:
    """Fail closed: after cleaning, every tag must be on the allow-list and only the streams
    we kept may be there. A surprise means a path we did not foresee; refuse, not publish."""
    problems = []
    for key, value in ((info.get("format") or {}).get("tags") or {}).items():
        if key not in _FORMAT_TAGS or (_FORMAT_TAGS[key] and not _FORMAT_TAGS[key].fullmatch(str(value))):
            problems.append(f"container tag {key}")
    streams = info.get("streams", [])
    for stream in streams:
        for key, value in (stream.get("tags") or {}).items():
            if key not in _STREAM_TAGS or not _STREAM_TAGS[key].fullmatch(str(value)):
                problems.append(f"stream tag {key}")
    if info.get("chapters"):
        problems.append("chapters")
    counts = {kind: sum(1 for s in streams if s.get("codec_type") == kind) for kind in expect}
    if counts != expect or len(streams) != sum(expect.values()) or any(_is_picture(s) for s in streams):
        problems.append("unexpected streams")
    if problems:
        raise Unprocessable("cleaning left identifying data behind: " + ", ".join(sorted(set(problems))))


def _duration(info: dict) -> float | None:
    try:
        value = float((info.get("format") or {}).get("duration"))
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _display_size(stream: dict | None) -> tuple[int | None, int | None]:
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


def _poster(ffmpeg: str, video: Path, poster: Path, duration: float | None, scratch: list[Path],
            deadline: float) -> None:
    """One frame of the cleaned video at ~1 s (at 0 for short videos, or when 1 s gives
    nothing), as a JPEG that Pillow writes afresh: no EXIF, no comment, no encoder string."""
    frame = poster.with_name(poster.stem + ".frame.jpg")
    scratch.append(frame)
    side = _POSTER_MAX_SIDE
    scale = f"scale='min({side},iw)':'min({side},ih)':force_original_aspect_ratio=decrease"
    demuxer = "matroska" if video.suffix == ".webm" else _MOV.demuxer
    reason = "no frame of the video could be decoded"
    for at in ([1.0, 0.0] if duration and duration > 1.5 else [0.0]):
        _remove(frame)
        try:
            _ffmpeg(ffmpeg, ["-ss", f"{at:.3f}", "-f", demuxer, "-protocol_whitelist", "file", "-i", _file(video),
                             "-map", "0:v:0", "-an", "-sn", "-dn", "-frames:v", "1", "-vf", scale, "-q:v", "3",
                             "-f", "image2", "-c:v", "mjpeg", _file(frame)], deadline)
        except Unprocessable as exc:
            if exc.reason == _TOO_LONG:
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


def _remove(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass

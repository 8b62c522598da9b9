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

How ffmpeg and ffprobe are run (safely, within a deadline) is in `ffmpeg`; here is what they
are asked to do, and the allow-list their output is checked against.
"""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from services.media.privacy import Unprocessable
from services.media.privacy.ffmpeg import (
    MOV_FAMILY,
    Kind,
    bare_type,
    display_size,
    duration_of,
    ffmpeg_available,
    ffprobe_for,
    file_arg,
    first_stream,
    input_args,
    is_picture,
    make_poster,
    probe,
    remove,
    run_ffmpeg,
)

__all__ = ["CleanAudio", "CleanVideo", "clean_audio", "clean_video", "ffmpeg_available", "ffprobe_for"]

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


_MOV = Kind("an MP4/QuickTime video", "mov", MOV_FAMILY)
_VIDEO_KINDS = {
    "video/mp4": _MOV,
    "video/quicktime": _MOV,
    "video/webm": Kind("a WebM video", "matroska", "matroska,webm"),
}
_MP3 = Kind("an MP3 file", "mp3", "mp3")
_OGG = Kind("an Ogg audio file", "ogg", "ogg")
_M4A = Kind("an M4A audio file", "mov", MOV_FAMILY)
_AUDIO_KINDS = {
    "audio/mpeg": _MP3, "audio/mp3": _MP3,
    "audio/ogg": _OGG, "application/ogg": _OGG, "audio/opus": _OGG,
    "audio/mp4": _M4A, "audio/x-m4a": _M4A, "audio/m4a": _M4A,
}


def _begin(kinds: dict[str, Kind], what: str, source: Path, content_type: str, ffmpeg: str,
           timeout: float) -> tuple[Kind, float, str, dict]:
    """What cleaning a video or a song begins with: its kind (Unprocessable when `content_type`
    names none of `kinds`), the deadline `timeout` from now, the ffprobe beside `ffmpeg`, and
    what that ffprobe sees in `source`."""
    kind = kinds.get(bare_type(content_type))
    if kind is None:
        raise Unprocessable(f"unsupported {what} type {content_type!r}")
    deadline = time.monotonic() + timeout
    ffprobe = ffprobe_for(ffmpeg)
    return kind, deadline, ffprobe, probe(ffprobe, source, kind, deadline)


def clean_video(source: Path, content_type: str, target_dir: Path, ffmpeg: str = "ffmpeg",
                timeout: float = 3600) -> CleanVideo:
    """Remux `source` (declared as `content_type`) into `target_dir` with no metadata, and
    extract a poster frame. QuickTime becomes MP4 when its codecs fit MP4, because browsers
    play MP4 and not always QuickTime; otherwise it stays QuickTime, cleaned the same way.
    Raises Unprocessable, leaving nothing behind in target_dir, when it cannot."""
    kind, deadline, ffprobe, info = _begin(_VIDEO_KINDS, "video", source, content_type, ffmpeg, timeout)
    video = first_stream(info, "video")
    if video is None:
        raise Unprocessable(f"not a video: {kind.label} without a video stream")
    audio = first_stream(info, "audio")
    muxer, suffix, out_type = _video_output(kind, video, audio)
    target_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    out, poster = target_dir / f"{token}{suffix}", target_dir / f"{token}.jpg"
    scratch: list[Path] = []
    try:
        _remux_video(ffmpeg, kind, source, video, audio, muxer, out, scratch, deadline)
        cleaned = probe(ffprobe, out, _MOV if muxer != "webm" else kind, deadline)
        _verify(cleaned, expect={"video": 1, "audio": 1 if audio is not None else 0})
        duration = duration_of(cleaned)
        width, height = display_size(first_stream(cleaned, "video"))
        make_poster(ffmpeg, out, poster, duration, scratch, deadline)
        return CleanVideo(path=out, content_type=out_type, poster=poster, duration=duration,
                          width=width, height=height)
    except BaseException:
        remove(out, poster)
        raise
    finally:
        remove(*scratch)


def _video_output(kind: Kind, video: dict, audio: dict | None) -> tuple[str, str, str]:
    """The muxer, file suffix and content type the cleaned video gets, or Unprocessable."""
    vcodec, acodec = video.get("codec_name"), audio.get("codec_name") if audio else None
    if vcodec in _IMAGE_VIDEO:
        raise Unprocessable(f"{vcodec} video keeps metadata in every frame; convert it to H.264 first")
    if kind is _MOV:
        as_mp4 = vcodec in _MP4_VIDEO and (audio is None or acodec in _MP4_AUDIO)
        return ("mp4", ".mp4", "video/mp4") if as_mp4 else ("mov", ".mov", "video/quicktime")
    if vcodec not in _WEBM_VIDEO or (audio is not None and acodec not in _WEBM_AUDIO):
        raise Unprocessable(f"a Matroska file with {vcodec} video and {acodec or 'no'} audio is not WebM")
    return "webm", ".webm", "video/webm"


def _remux_video(ffmpeg: str, kind: Kind, source: Path, video: dict, audio: dict | None, muxer: str, out: Path,
                 scratch: list[Path], deadline: float) -> None:
    """Copy one video and one audio stream into `out` with no metadata (files made on the way
    go to `scratch`, for the caller to remove)."""
    vcodec = video.get("codec_name")
    inputs = input_args(kind, source)
    maps = ["-map", f"0:{video['index']}"]
    if audio is not None and muxer == "webm" and audio.get("codec_name") == "vorbis":
        # Matroska keeps Vorbis's own comment header (tags included) inside the track's
        # CodecPrivate, and a copy remux keeps it verbatim where ffprobe does not look.
        # The Ogg muxer rewrites that header from (cleared) metadata: hop via Ogg.
        hop = out.with_name(f"{out.stem}.audio.ogg")
        scratch.append(hop)
        run_ffmpeg(ffmpeg, [*inputs, "-map", f"0:{audio['index']}", *_COMMON_OUTPUT_ARGS, "-f", "ogg",
                            file_arg(hop)], deadline)
        inputs += ["-f", "ogg", "-protocol_whitelist", "file", "-i", file_arg(hop)]
        maps += ["-map", "1:0"]
    elif audio is not None:
        maps += ["-map", f"0:{audio['index']}"]
    extra = ["-movflags", "+faststart"] if muxer in ("mp4", "mov") else []  # index first: plays while loading
    if vcodec in _STRIP_UNITS:
        extra += ["-bsf:v", f"filter_units=remove_types={_STRIP_UNITS[vcodec]}"]
    run_ffmpeg(ffmpeg, [*inputs, *maps, *_COMMON_OUTPUT_ARGS, *extra, "-f", muxer, file_arg(out)], deadline)


def clean_audio(source: Path, content_type: str, target_dir: Path, ffmpeg: str = "ffmpeg",
                timeout: float = 600) -> CleanAudio:
    """Remux a song into the same format with no tags and no cover art: MP3 without ID3,
    Ogg with an empty Vorbis/Opus comment header, M4A without iTunes atoms. Raises
    Unprocessable, leaving nothing behind in target_dir, when it cannot."""
    kind, deadline, ffprobe, info = _begin(_AUDIO_KINDS, "audio", source, content_type, ffmpeg, timeout)
    for stream in info.get("streams", []):
        if stream.get("codec_type") == "video" and not is_picture(stream):
            raise Unprocessable(f"{kind.label} with a video stream: upload it as a video")
    audio = first_stream(info, "audio")
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
        run_ffmpeg(ffmpeg, [*input_args(kind, source), "-map", f"0:{audio['index']}", *_COMMON_OUTPUT_ARGS,
                         *extra, "-f", muxer, file_arg(out)], deadline)
        cleaned = probe(ffprobe, out, kind, deadline)
        _verify(cleaned, expect={"audio": 1, "video": 0})
        return CleanAudio(path=out, content_type=out_type, duration=duration_of(cleaned))
    except BaseException:
        remove(out)
        raise


# --- helpers -------------------------------------------------------------------------------

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
    if counts != expect or len(streams) != sum(expect.values()) or any(is_picture(s) for s in streams):
        problems.append("unexpected streams")
    if problems:
        raise Unprocessable("cleaning left identifying data behind: " + ", ".join(sorted(set(problems))))



"""Videos and songs cleaned by the real ffmpeg: inputs are made here with ffmpeg's lavfi
sources and loaded with what a phone or a tagger writes (place, time, device, names), and
every output is checked twice: by ffprobe, and by looking for the strings in its raw bytes.
Skipped without ffmpeg, unless DOA_REQUIRE_SERVICES=1 (CI installs it) makes that a failure."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from services.media.privacy import Unprocessable
from services.media.privacy.av import (
    CleanAudio,
    CleanVideo,
    clean_audio,
    clean_video,
    ffmpeg_available,
    ffprobe_for,
)

# What the inputs carry and no output may: GPS, device, date, names, the phone's handler.
IDENTIFYING = [b"iPhone", b"52.5200", b"Apple", b"2022-12-01", b"Core Media", b"Alexanderplatz", b"Jane Activist",
               b"Secret Title"]
PHONE_TAGS = ["-metadata", "creation_time=2022-12-01T10:00:00Z", "-metadata", "location=+52.5200+013.4050/",
              "-metadata", "make=Apple", "-metadata", "model=iPhone 14",
              "-metadata:s:v:0", "handler_name=Core Media Video", "-metadata:s:a:0", "handler_name=Core Media Audio"]
SONG_TAGS = ["-metadata", "title=Secret Title", "-metadata", "artist=Jane Activist",
             "-metadata", "comment=recorded at Alexanderplatz 52.5200,13.4050", "-metadata", "date=2022-12-01"]
TWO_SECONDS = ["-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=25", "-f", "lavfi", "-i", "sine=duration=2"]
VP8 = ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"]


@pytest.fixture(scope="module", autouse=True)
def need_ffmpeg():
    if shutil.which("ffmpeg") and shutil.which("ffprobe"):
        return
    message = "ffmpeg/ffprobe are not on PATH (apt-get install ffmpeg)"
    if os.environ.get("DOA_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def h264(need_ffmpeg) -> list[str]:
    encoders = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    if " libx264 " in encoders:
        return ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    return ["-c:v", "mpeg4"]  # an ffmpeg built without x264 still makes an MP4-compatible video


def make(path: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(path)], check=True, timeout=60)
    return path


def probe(path: Path) -> dict:
    done = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                           "-show_chapters", str(path)], capture_output=True, check=True, timeout=60)
    return json.loads(done.stdout)


def assert_no_identifying_bytes(path: Path, *extra: bytes) -> None:
    data = path.read_bytes()
    for needle in [*IDENTIFYING, *extra]:
        assert needle not in data, f"{needle!r} survived in {path.name}"


def assert_clean_tags(info: dict) -> None:
    """Independently of the module's own allow-list: nothing but ffmpeg's generic tags."""
    assert set((info["format"].get("tags") or {})) <= {"major_brand", "minor_version", "compatible_brands", "encoder"}
    assert (info["format"].get("tags") or {}).get("encoder", "Lavf") == "Lavf"
    for stream in info["streams"]:
        tags = stream.get("tags") or {}
        assert set(tags) <= {"language", "handler_name", "vendor_id", "DURATION"}, tags
        assert tags.get("handler_name", "VideoHandler") in ("VideoHandler", "SoundHandler")
        assert tags.get("language", "und") == "und"
    assert not info.get("chapters")


def mp4_box_times(path: Path) -> list[int]:
    """creation/modification times of mvhd, tkhd and mdhd: seconds since 1904, 0 when unset."""
    data, times = path.read_bytes(), []
    for box in (b"mvhd", b"tkhd", b"mdhd"):
        at = data.find(box)
        while at != -1:
            version = data[at + 4]
            times += struct.unpack(">QQ" if version == 1 else ">II", data[at + 8:at + (24 if version == 1 else 16)])
            at = data.find(box, at + 4)
    return times


def assert_poster(poster: Path, size: tuple[int, int]) -> None:
    with Image.open(poster) as image:
        assert image.format == "JPEG"
        assert image.size == size
        assert "exif" not in image.info and not image.getexif()
        assert "comment" not in image.info
    data = poster.read_bytes()
    assert b"Exif" not in data and b"Lavc" not in data


def assert_only_outputs(target: Path, *results) -> None:
    """Nothing else (temporary frames, the Ogg hop) is left beside the results."""
    expected = set()
    for result in results:
        expected.add(result.path)
        if isinstance(result, CleanVideo):
            expected.add(result.poster)
    assert set(target.iterdir()) == expected


# --- availability ------------------------------------------------------------------------

def test_ffmpeg_availability_is_checked_per_path():
    assert ffmpeg_available("ffmpeg") is True
    assert ffmpeg_available(shutil.which("ffmpeg")) is True
    assert ffmpeg_available("/nonexistent/ffmpeg") is False
    assert ffprobe_for("ffmpeg") == "ffprobe"
    assert ffprobe_for("/opt/ff/bin/ffmpeg") == "/opt/ff/bin/ffprobe"


# --- videos ------------------------------------------------------------------------------

def test_mp4_from_a_phone_loses_place_time_device_chapters_and_subtitles(tmp_path, h264):
    (tmp_path / "chapters.txt").write_text(
        ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=Arrival at Alexanderplatz\n")
    (tmp_path / "subs.srt").write_text("1\n00:00:00,000 --> 00:00:01,500\nFilmed by Jane Activist\n")
    source = make(tmp_path / "phone.mp4", *TWO_SECONDS, "-i", str(tmp_path / "chapters.txt"),
                  "-i", str(tmp_path / "subs.srt"), "-map", "0:v", "-map", "1:a", "-map", "3:s", "-map_chapters", "2",
                  *h264, "-c:a", "aac", "-c:s", "mov_text", *PHONE_TAGS)
    before = probe(source)
    assert before["format"]["tags"]["location"] and before["chapters"] and len(before["streams"]) >= 3
    assert any(mp4_box_times(source))

    target = tmp_path / "out"
    result = clean_video(source, "video/mp4", target)

    assert isinstance(result, CleanVideo)
    assert result.content_type == "video/mp4" and result.path.suffix == ".mp4"
    assert (result.width, result.height) == (320, 240)
    assert result.duration == pytest.approx(2.0, abs=0.1)
    after = probe(result.path)
    assert [s["codec_type"] for s in after["streams"]] == ["video", "audio"]  # no subtitles, no data
    assert_clean_tags(after)
    assert not any(mp4_box_times(result.path))  # no creation time hidden in the boxes either
    # The SEI unit where x264 writes its version and settings is dropped too.
    assert_no_identifying_bytes(result.path, b"x264")
    assert_poster(result.poster, (320, 240))
    assert_only_outputs(target, result)
    # faststart: the index comes before the media data, so browsers can start playing.
    data = result.path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")


def test_quicktime_becomes_mp4_and_loses_apple_keys_and_timecode(tmp_path, h264):
    source = make(tmp_path / "IMG_0001.MOV", *TWO_SECONDS, *h264, "-c:a", "aac", "-movflags", "use_metadata_tags",
                  "-metadata", "com.apple.quicktime.location.ISO6709=+52.5200+013.4050+034.000/",
                  "-metadata", "com.apple.quicktime.make=Apple", "-metadata", "com.apple.quicktime.model=iPhone 14",
                  "-metadata", "com.apple.quicktime.creationdate=2022-12-01T10:00:00+0100",
                  "-timecode", "10:00:00:00", *PHONE_TAGS)
    before = probe(source)
    assert "com.apple.quicktime.model" in before["format"]["tags"]
    assert any(s["codec_type"] == "data" for s in before["streams"])  # the timecode track

    result = clean_video(source, "video/quicktime", tmp_path / "out")

    assert result.content_type == "video/mp4" and result.path.suffix == ".mp4"
    after = probe(result.path)
    assert after["format"]["format_name"].startswith("mov,mp4")
    assert after["format"]["tags"]["major_brand"] != "qt  "
    assert [s["codec_type"] for s in after["streams"]] == ["video", "audio"]
    assert_clean_tags(after)
    assert_no_identifying_bytes(result.path, b"com.apple", b"10:00:00")
    assert_poster(result.poster, (320, 240))


def test_quicktime_with_pcm_audio_stays_quicktime_but_clean(tmp_path, h264):
    # MP4 cannot hold PCM: the container stays QuickTime (browsers may not play it; the
    # caller can tell by the content type), and is cleaned all the same.
    source = make(tmp_path / "camera.mov", *TWO_SECONDS, *h264, "-c:a", "pcm_s16le", "-movflags", "use_metadata_tags",
                  "-metadata", "com.apple.quicktime.model=iPhone 14", *PHONE_TAGS)

    result = clean_video(source, "video/quicktime", tmp_path / "out")

    assert result.content_type == "video/quicktime" and result.path.suffix == ".mov"
    after = probe(result.path)
    assert [s["codec_name"] for s in after["streams"]] == [after["streams"][0]["codec_name"], "pcm_s16le"]
    assert_clean_tags(after)
    assert_no_identifying_bytes(result.path)


def test_webm_loses_title_and_stream_tags(tmp_path):
    source = make(tmp_path / "clip.webm", *TWO_SECONDS, *VP8, "-c:a", "libopus",
                  "-metadata", "title=Demo at Alexanderplatz", "-metadata", "creation_time=2022-12-01T10:00:00Z",
                  "-metadata:s:v:0", "title=iPhone 14 camera", "-metadata:s:a:0", "handler_name=Core Media Audio")

    target = tmp_path / "out"
    result = clean_video(source, "video/webm", target)

    assert result.content_type == "video/webm" and result.path.suffix == ".webm"
    assert result.duration == pytest.approx(2.0, abs=0.1)
    after = probe(result.path)
    assert [s["codec_name"] for s in after["streams"]] == ["vp8", "opus"]
    assert_clean_tags(after)
    assert_no_identifying_bytes(result.path, b"Lavc")
    assert_poster(result.poster, (320, 240))
    assert_only_outputs(target, result)


def test_webm_vorbis_comments_hidden_in_codec_private_are_removed(tmp_path):
    """Matroska keeps Vorbis's own comment header inside the track header, where ffprobe
    shows nothing; write identifying text there (same length, so the file stays valid)."""
    source = make(tmp_path / "old.webm", *TWO_SECONDS, *VP8, "-c:a", "libvorbis", "-write_crc32", "0")
    data = bytearray(source.read_bytes())
    header = data.find(b"\x03vorbis")
    vendor_length = struct.unpack_from("<I", data, header + 7)[0]
    count_at = header + 11 + vendor_length
    assert struct.unpack_from("<I", data, count_at)[0] >= 1  # libvorbis writes "encoder=Lavc…"
    comment_length = struct.unpack_from("<I", data, count_at + 4)[0]
    secret = b"GPS=52.5200 iPhone Apple 2022-12-01"[:comment_length].ljust(comment_length, b"_")
    assert b"iPhone" in secret
    data[count_at + 8:count_at + 8 + comment_length] = secret
    source.write_bytes(bytes(data))
    assert probe(source)["streams"][1]["codec_name"] == "vorbis"  # still a valid file

    target = tmp_path / "out"
    result = clean_video(source, "video/webm", target)

    after = probe(result.path)
    assert [s["codec_name"] for s in after["streams"]] == ["vp8", "vorbis"]
    assert result.duration == pytest.approx(2.0, abs=0.1)
    assert_clean_tags(after)
    assert_no_identifying_bytes(result.path, b"GPS=", b"encoder=", b"Xiph.Org")
    assert_only_outputs(target, result)  # the Ogg hop is gone


def test_rotated_phone_video_reports_display_size_and_upright_poster(tmp_path, h264):
    landscape = make(tmp_path / "raw.mp4", *TWO_SECONDS, *h264, "-c:a", "aac")
    source = make(tmp_path / "portrait.mp4", "-i", str(landscape), "-c", "copy", "-metadata:s:v:0", "rotate=90")

    result = clean_video(source, "video/mp4", tmp_path / "out")

    assert (result.width, result.height) == (240, 320)
    assert_poster(result.poster, (240, 320))


def test_short_video_gets_a_poster_from_its_first_frame(tmp_path, h264):
    source = make(tmp_path / "short.mp4", "-f", "lavfi", "-i", "testsrc=duration=0.4:size=160x120:rate=25", *h264)

    result = clean_video(source, "video/mp4", tmp_path / "out")

    assert result.duration == pytest.approx(0.4, abs=0.1)
    assert_poster(result.poster, (160, 120))


# --- songs -------------------------------------------------------------------------------

@pytest.fixture
def cover(tmp_path) -> Path:
    return make(tmp_path / "cover.png", "-f", "lavfi", "-i", "testsrc=size=64x64", "-frames:v", "1")


def test_mp3_loses_id3_and_cover_art(tmp_path, cover):
    source = make(tmp_path / "song.mp3", "-f", "lavfi", "-i", "sine=duration=2", "-i", str(cover),
                  "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-c:v", "png", "-disposition:v", "attached_pic",
                  "-id3v2_version", "3", *SONG_TAGS, "-metadata:s:v", "comment=Cover (front)")
    before = probe(source)
    assert before["format"]["tags"]["artist"] == "Jane Activist" and len(before["streams"]) == 2

    target = tmp_path / "out"
    result = clean_audio(source, "audio/mpeg", target)

    assert isinstance(result, CleanAudio)
    assert result.content_type == "audio/mpeg" and result.path.suffix == ".mp3"
    assert result.duration == pytest.approx(2.0, abs=0.1)
    after = probe(result.path)
    assert [s["codec_type"] for s in after["streams"]] == ["audio"]
    assert not after["format"].get("tags") and not after["streams"][0].get("tags")
    data = result.path.read_bytes()
    assert not data.startswith(b"ID3") and b"TAG" not in data[-128:-125]  # neither ID3v2 nor ID3v1
    assert b"\x89PNG" not in data
    assert_no_identifying_bytes(result.path)
    assert_only_outputs(target, result)


@pytest.mark.parametrize("codec", ["libvorbis", "libopus"])
def test_ogg_loses_vorbis_comments(tmp_path, codec):
    source = make(tmp_path / "voice.ogg", "-f", "lavfi", "-i", "sine=duration=2", "-c:a", codec, *SONG_TAGS,
                  "-metadata:s:a:0", "LOCATION=Alexanderplatz", "-metadata:s:a:0", "DATE=2022-12-01")
    assert probe(source)["streams"][0]["tags"]["LOCATION"] == "Alexanderplatz"

    result = clean_audio(source, "audio/ogg", tmp_path / "out")

    assert result.content_type == "audio/ogg" and result.path.suffix == ".ogg"
    assert result.duration == pytest.approx(2.0, abs=0.1)
    after = probe(result.path)
    assert not after["format"].get("tags") and not after["streams"][0].get("tags")
    assert_no_identifying_bytes(result.path, b"Lavc", b"Lavf")


def test_m4a_loses_itunes_tags_and_cover_art(tmp_path, cover):
    source = make(tmp_path / "memo.m4a", "-f", "lavfi", "-i", "sine=duration=2", "-i", str(cover),
                  "-map", "0:a", "-map", "1:v", "-c:a", "aac", "-c:v", "png", "-disposition:v", "attached_pic",
                  *SONG_TAGS, "-f", "ipod")
    assert probe(source)["format"]["tags"]["title"] == "Secret Title"

    result = clean_audio(source, "audio/mp4", tmp_path / "out")

    assert result.content_type == "audio/mp4" and result.path.suffix == ".m4a"
    assert result.duration == pytest.approx(2.0, abs=0.1)
    after = probe(result.path)
    assert after["format"]["tags"]["major_brand"] == "M4A "
    assert [s["codec_type"] for s in after["streams"]] == ["audio"]
    assert_clean_tags(after)
    assert not any(mp4_box_times(result.path))
    assert_no_identifying_bytes(result.path, b"\x89PNG", b"covr")


# --- hostile and broken input --------------------------------------------------------------

def test_truncated_mp4_is_refused_and_nothing_is_left(tmp_path, h264):
    whole = make(tmp_path / "whole.mp4", *TWO_SECONDS, *h264, "-c:a", "aac")  # moov at the end: the default
    data = whole.read_bytes()
    assert data.find(b"moov") > len(data) // 2
    source = tmp_path / "half.mp4"
    source.write_bytes(data[: len(data) // 2])
    target = tmp_path / "out"

    with pytest.raises(Unprocessable, match="moov atom not found"):
        clean_video(source, "video/mp4", target)
    assert not target.exists() or not any(target.iterdir())


def test_png_declared_as_mp4_is_refused(tmp_path):
    source = tmp_path / "holiday.mp4"
    Image.new("RGB", (32, 32), "red").save(source, format="PNG")

    with pytest.raises(Unprocessable, match="not readable as an MP4") as caught:
        clean_video(source, "video/mp4", tmp_path / "out")
    assert str(tmp_path) not in caught.value.reason  # the server's paths are not for uploaders


def test_playlist_declared_as_mp4_does_not_open_other_files(tmp_path, h264):
    """An HLS playlist would make ffmpeg read the files (or URLs) it names: only the
    demuxer of the declared type may open an upload."""
    make(tmp_path / "private.mp4", *TWO_SECONDS, *h264, "-c:a", "aac")
    source = tmp_path / "playlist.mp4"
    source.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile:{tmp_path / 'private.mp4'}\n"
                      "#EXT-X-ENDLIST\n")

    with pytest.raises(Unprocessable, match="not on whitelist"):
        clean_video(source, "video/mp4", tmp_path / "out")


def test_mp4_declared_as_webm_is_refused(tmp_path, h264):
    source = make(tmp_path / "clip.mp4", *TWO_SECONDS, *h264, "-c:a", "aac")
    with pytest.raises(Unprocessable, match="not readable as a WebM"):
        clean_video(source, "video/webm", tmp_path / "out")


def test_matroska_with_h264_is_not_webm(tmp_path, h264):
    source = make(tmp_path / "clip.mkv", *TWO_SECONDS, *h264, "-c:a", "aac")
    with pytest.raises(Unprocessable, match="is not WebM"):
        clean_video(source, "video/webm", tmp_path / "out")


def test_motion_jpeg_is_refused_because_every_frame_can_hold_exif(tmp_path):
    source = make(tmp_path / "camera.mov", *TWO_SECONDS, "-c:v", "mjpeg", "-c:a", "pcm_s16le")
    with pytest.raises(Unprocessable, match="mjpeg video keeps metadata in every frame"):
        clean_video(source, "video/quicktime", tmp_path / "out")


def test_video_without_a_video_stream_is_refused(tmp_path, cover):
    # An M4A with cover art has a "video" stream that is only a picture.
    source = make(tmp_path / "song.mp4", "-f", "lavfi", "-i", "sine=duration=1", "-i", str(cover),
                  "-map", "0:a", "-map", "1:v", "-c:a", "aac", "-c:v", "png", "-disposition:v", "attached_pic")
    with pytest.raises(Unprocessable, match="without a video stream"):
        clean_video(source, "video/mp4", tmp_path / "out")


def test_audio_with_a_real_video_stream_is_refused(tmp_path, h264):
    source = make(tmp_path / "clip.m4a", *TWO_SECONDS, *h264, "-c:a", "aac", "-f", "mp4")
    with pytest.raises(Unprocessable, match="with a video stream"):
        clean_audio(source, "audio/mp4", tmp_path / "out")


def test_unknown_types_are_refused(tmp_path):
    source = tmp_path / "x.avi"
    source.write_bytes(b"RIFF")
    with pytest.raises(Unprocessable, match="unsupported video type"):
        clean_video(source, "video/x-msvideo", tmp_path / "out")
    with pytest.raises(Unprocessable, match="unsupported audio type"):
        clean_audio(source, "audio/wav", tmp_path / "out")


def _fake_ffmpeg(directory: Path, body: str) -> str:
    """An ffmpeg stand-in beside the real ffprobe: it writes a partial output, then `body`."""
    directory.mkdir()
    os.symlink(shutil.which("ffprobe"), directory / "ffprobe")
    script = directory / "ffmpeg"
    script.write_text('#!/bin/sh\nfor last; do :; done\nprintf partial > "${last#file:}"\n' + body)
    script.chmod(0o755)
    return str(script)


def test_a_run_that_takes_too_long_is_stopped_and_its_output_removed(tmp_path, h264):
    source = make(tmp_path / "clip.mp4", *TWO_SECONDS, *h264, "-c:a", "aac")
    ffmpeg = _fake_ffmpeg(tmp_path / "bin", "exec sleep 30\n")
    target = tmp_path / "out"

    with pytest.raises(Unprocessable, match="processing took too long"):
        clean_video(source, "video/mp4", target, ffmpeg=ffmpeg, timeout=1.5)
    assert not any(target.iterdir())


def test_a_failing_run_reports_ffmpegs_last_line_and_leaves_nothing(tmp_path, h264):
    source = make(tmp_path / "song.ogg", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libvorbis")
    ffmpeg = _fake_ffmpeg(tmp_path / "bin", "echo 'some warning' >&2\necho 'No space left on device' >&2\nexit 1\n")
    target = tmp_path / "out"

    with pytest.raises(Unprocessable, match="No space left on device"):
        clean_audio(source, "audio/ogg", target, ffmpeg=ffmpeg)
    assert not any(target.iterdir())

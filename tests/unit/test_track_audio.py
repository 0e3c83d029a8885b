"""The tracks audio pipeline on real files: what gets accepted and refused, the waveform, and what listeners stream.

Every file is made here with PyAV from a known signal, so each expectation can be computed independently.
"""
import math
import os
import shutil
import time
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from apps.tracks import audio, encoding
from apps.tracks.audio import NotAudio
from tests.audio import FORMATS, decode_mono, stereo, wav_bytes, write_audio
from tests.audio import sine as _sine

SECONDS = 3.0
TAGS = {"title": "Night Drive", "artist": "Ana Ray", "album": "Roads", "genre": "Synthwave", "date": "2024"}


def sine(rate: int, seconds: float = SECONDS, **kwargs) -> np.ndarray:
    return _sine(rate, seconds, **kwargs)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A 3-second 440 Hz stereo sine at half scale, tagged, in every supported format."""
    folder = tmp_path_factory.mktemp("tracks")
    made = {}
    for name, (muxer, encoder, rate, _, _) in FORMATS.items():
        made[name] = write_audio(folder / f"sine.{name}", stereo(sine(rate)), muxer=muxer, encoder=encoder,
                                 rate=rate, tags=TAGS, options={"movflags": "+faststart"} if name == "m4a" else None)
    return made


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(NotAudio) as caught:
        call(*args, **kwargs)
    assert str(caught.value) and not str(caught.value).startswith("[Errno"), "the reason is meant for a person"
    return caught.value.code


# --- probe and sniff: what is accepted --------------------------------------------------------------------------


@pytest.mark.parametrize("name", FORMATS)
def test_probe_reads_the_file(files, name):
    _, _, rate, fmt, codec = FORMATS[name]
    found = audio.probe(str(files[name]), max_seconds=60)
    assert (found.format, found.codec) == (fmt, codec)
    assert found.format in audio.SUPPORTED and found.codec in audio.SUPPORTED[found.format]
    assert found.duration == pytest.approx(SECONDS, abs=0.1)
    assert (found.sample_rate, found.channels) == (rate, 2)
    assert found.bitrate > 0
    assert found.tags == TAGS


@pytest.mark.parametrize("name", FORMATS)
def test_sniff_names_the_format(files, name):
    assert audio.sniff(str(files[name])).format == FORMATS[name][3]


@pytest.mark.parametrize("name", FORMATS)
def test_sniff_reads_the_rate_the_channels_and_the_stated_length(files, name):
    found = audio.sniff(str(files[name]))
    assert (found.sample_rate, found.channels, found.stated) == (FORMATS[name][2], 2, True)
    assert found.seconds == pytest.approx(SECONDS, abs=0.1)


def test_sniff_tells_an_estimated_length_from_a_stated_one(tmp_path):
    # Without a Xing frame an MP3 states no length; FFmpeg estimates one from the file's size.
    plain = write_audio(tmp_path / "plain.mp3", stereo(sine(44_100)), muxer="mp3", encoder="libmp3lame",
                        rate=44_100, options={"id3v2_version": "0", "write_xing": "0"})
    found = audio.sniff(str(plain))
    assert found.stated is False and found.seconds == pytest.approx(SECONDS, abs=0.2)


def test_the_file_name_does_not_decide_the_format(files, tmp_path):
    disguised = tmp_path / "upload.mp3"
    shutil.copy(files["wav"], disguised)
    assert audio.sniff(str(disguised)).format == "wav"
    assert audio.probe(str(disguised), max_seconds=60).format == "wav"


def test_sniff_is_cheap_on_a_large_file(files, tmp_path):
    # ~50 MB of MP3: the same frames repeated (no ID3 tag, no Xing frame), as a long upload would be.
    plain = write_audio(tmp_path / "plain.mp3", stereo(sine(44_100)), muxer="mp3", encoder="libmp3lame",
                        rate=44_100, options={"id3v2_version": "0", "write_xing": "0"})
    frames = plain.read_bytes()
    large = tmp_path / "large.mp3"
    large.write_bytes(frames * (50_000_000 // len(frames)))
    started = time.perf_counter()
    assert audio.sniff(str(large)).format == "mp3"
    assert time.perf_counter() - started < 0.5


# --- probe and sniff: what is refused ---------------------------------------------------------------------------


@pytest.fixture
def text_as_mp3(tmp_path) -> Path:
    path = tmp_path / "song.mp3"
    path.write_text("This is a note about a song, not the song.\n" * 200)
    return path


@pytest.fixture
def png_as_mp3(tmp_path) -> Path:
    path = tmp_path / "cover.mp3"
    Image.new("RGB", (32, 32), (200, 30, 30)).save(path, format="PNG")
    return path


@pytest.fixture
def random_bytes(tmp_path) -> Path:
    path = tmp_path / "noise.mp3"
    path.write_bytes(np.random.default_rng(7).bytes(300_000))
    return path


@pytest.fixture
def zero_length(tmp_path) -> Path:
    path = tmp_path / "empty.mp3"
    path.touch()
    return path


@pytest.mark.parametrize("bad", ["text_as_mp3", "png_as_mp3", "random_bytes"])
def test_what_is_not_audio_is_refused(bad, request):
    path = str(request.getfixturevalue(bad))
    assert refused(audio.probe, path, max_seconds=60) == "not_audio"
    assert refused(audio.sniff, path) == "not_audio"


def test_a_zero_length_file_is_empty(zero_length):
    assert refused(audio.probe, str(zero_length), max_seconds=60) == "empty_audio"
    assert refused(audio.sniff, str(zero_length)) == "empty_audio"


def test_a_file_with_no_samples_is_empty(tmp_path):
    path = write_audio(tmp_path / "silence.wav", np.zeros((2, 0)), muxer="wav", encoder="pcm_s16le", rate=44_100)
    assert refused(audio.probe, str(path), max_seconds=60) == "empty_audio"


def test_a_video_is_refused(tmp_path):
    path = tmp_path / "clip.m4a"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for index in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert refused(audio.probe, str(path), max_seconds=60) == "not_audio"


def test_a_playlist_is_not_followed(tmp_path):
    # An HLS playlist is something FFmpeg can open, and opening it would read the files it names.
    target = write_audio(tmp_path / "private.wav", stereo(sine(44_100)), muxer="wav", encoder="pcm_s16le",
                         rate=44_100)
    playlist = tmp_path / "upload.mp3"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\nfile://{target}\n#EXT-X-ENDLIST\n")
    assert refused(audio.probe, str(playlist), max_seconds=60) == "not_audio"


# Formats that state their length or frame their data, so FFmpeg notices the missing half. (An Ogg file cut at a
# page boundary, or an MP3 without a Xing frame, is indistinguishable from a shorter file.)
@pytest.mark.parametrize("name", ["mp3", "flac", "wav", "m4a"])
def test_a_file_cut_in_half_is_damaged(files, name, tmp_path):
    data = files[name].read_bytes()
    cut = tmp_path / f"cut.{name}"
    cut.write_bytes(data[: len(data) // 2])
    assert refused(audio.probe, str(cut), max_seconds=60) == "truncated_audio"


def test_a_wav_written_as_a_stream_is_whole(files, tmp_path):
    # ffmpeg writing to a pipe (and some recorders) cannot go back to fill in the lengths, and leaves 0xFFFFFFFF.
    data = bytearray(files["wav"].read_bytes())
    chunk = data.index(b"data")
    data[4:8] = data[chunk + 4:chunk + 8] = b"\xff\xff\xff\xff"
    streamed = tmp_path / "streamed.wav"
    streamed.write_bytes(data)
    assert audio.probe(str(streamed), max_seconds=60).duration == pytest.approx(SECONDS, abs=0.01)


def test_too_long_audio_is_refused(files):
    assert refused(audio.probe, str(files["mp3"]), max_seconds=2) == "too_long"
    assert audio.probe(str(files["mp3"]), max_seconds=3.5).duration == pytest.approx(SECONDS, abs=0.1)


def test_too_long_stops_decoding_at_the_limit(tmp_path):
    # 10 s of FLAC cut at 80%: decoding to the end would find the damage; stopping at the limit never gets there.
    whole = write_audio(tmp_path / "long.flac", stereo(sine(44_100, 10.0)), muxer="flac", encoder="flac",
                        rate=44_100)
    data = whole.read_bytes()
    cut = tmp_path / "long-cut.flac"
    cut.write_bytes(data[: len(data) * 8 // 10])
    assert refused(audio.probe, str(cut), max_seconds=60) == "truncated_audio"
    assert refused(audio.probe, str(cut), max_seconds=2) == "too_long"


# --- peaks ------------------------------------------------------------------------------------------------------


def expected_peaks(channels: np.ndarray, per_pixel: int) -> np.ndarray:
    """audiowaveform's 8-bit peaks of floats stored as 16-bit PCM: channel average, then min/max per bucket."""
    pcm = np.clip(np.round(channels * 32768), -32768, 32767) / 32768
    mono = pcm.mean(axis=0)
    pad = -len(mono) % per_pixel
    buckets = np.concatenate([mono, np.full(pad, np.nan)]).reshape(-1, per_pixel)
    pairs = np.column_stack([np.nanmin(buckets, axis=1), np.nanmax(buckets, axis=1)])
    return np.clip(np.floor(pairs * 128), -128, 127).astype(int).ravel()


@pytest.fixture(scope="module")
def loud_then_quiet(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """Stereo WAV: 0.8 of full scale for 1.5 s then 0.1, the right channel at half the left's level."""
    rate = 44_100
    signal = sine(rate, amplitude=1.0, hz=220.0)
    envelope = np.where(np.arange(len(signal)) < len(signal) // 2, 0.8, 0.1).astype(np.float32)
    channels = np.stack([signal * envelope, signal * envelope * 0.5])
    path = write_audio(tmp_path_factory.mktemp("peaks") / "loud-quiet.wav", channels, muxer="wav",
                       encoder="pcm_s16le", rate=rate)
    return path, channels


def test_peaks_follow_the_signal(loud_then_quiet):
    path, channels = loud_then_quiet
    result = audio.peaks(str(path), pixels=300)
    total = channels.shape[1]
    assert {key: result[key] for key in ("version", "channels", "sample_rate", "bits")} == {
        "version": 2, "channels": 1, "sample_rate": 44_100, "bits": 8,
    }
    assert result["samples_per_pixel"] == math.ceil(total / 300)
    assert result["length"] == math.ceil(total / result["samples_per_pixel"]) == 300
    assert len(result["data"]) == 2 * result["length"]
    data = np.array(result["data"])
    assert np.abs(data - expected_peaks(channels, result["samples_per_pixel"])).max() <= 1
    highs = data[1::2]
    # The average of 0.8 and 0.4 is 0.6 of full scale: 76 of 127; the quiet half is 0.075: 9.
    assert highs[:140].min() >= 74 and highs[160:].max() <= 10


def test_a_full_scale_sine_reaches_the_top(tmp_path):
    path = write_audio(tmp_path / "full.flac", stereo(sine(44_100, amplitude=1.0)), muxer="flac", encoder="flac",
                       rate=44_100)
    # 200 buckets of 662 samples: each holds more than one 440 Hz period (100 samples), so each reaches the top.
    data = np.array(audio.peaks(str(path), pixels=200)["data"])
    assert data[1::2].min() >= 126 and data[0::2].max() <= -127
    assert data.min() >= -128 and data.max() <= 127


@pytest.mark.parametrize("name", FORMATS)
def test_peaks_of_every_format(files, name):
    result = audio.peaks(str(files[name]), pixels=100)
    data = np.array(result["data"])
    assert result["length"] == len(data) // 2 and 95 <= result["length"] <= 100
    assert result["sample_rate"] == FORMATS[name][2]
    assert (data[0::2] <= data[1::2]).all()
    # A half-scale sine: 64 of 128, give or take what the lossy codecs change.
    assert 58 <= data[1::2].max() <= 70 and -70 <= data[0::2].min() <= -58


@pytest.mark.parametrize(("muxer", "encoder", "rate", "width"), [
    ("mp3", "libmp3lame", 44_100, 2), ("ogg", "libopus", 48_000, 1), ("ipod", "aac", 44_100, 2),
])
def test_peaks_of_compressed_audio_are_those_of_its_decoded_samples(muxer, encoder, rate, width, tmp_path):
    # Lossy formats decode to planar floats, which the waveform averages without converting them first.
    signal = sine(rate, amplitude=0.5, hz=220.0)
    channels = np.stack([signal, signal * 0.3])[:width]
    path = write_audio(tmp_path / f"track.{muxer}", channels, muxer=muxer, encoder=encoder, rate=rate)
    mono, decoded_rate = decode_mono(path)
    found = audio.peaks(str(path), pixels=150, bits=16)
    per_pixel = found["samples_per_pixel"]
    assert (found["sample_rate"], per_pixel) == (decoded_rate, math.ceil(len(mono) / 150))
    buckets = [mono[i:i + per_pixel] for i in range(0, len(mono), per_pixel)]
    expected = np.column_stack([[b.min() for b in buckets], [b.max() for b in buckets]]) * 32768
    assert found["data"] == np.clip(np.floor(expected), -32768, 32767).astype(int).ravel().tolist()
    # The buckets' tops are the channels' average: 0.325 of full scale in stereo, 0.5 in mono (the median, as a
    # lossy encoder overshoots where the sine starts).
    assert np.median(found["data"][1::2]) / 32768 == pytest.approx(0.325 if width == 2 else 0.5, abs=0.03)


def test_peaks_of_8_channels_average_them(tmp_path):
    # 7.1 is the widest a track may be; PyAV 18 crashed the process converting planar frames this wide.
    path = tmp_path / "surround.wav"
    path.write_bytes(wav_bytes(8, 48_000, 1.0))
    found = audio.peaks(str(path), pixels=100)
    assert (found["sample_rate"], found["length"]) == (48_000, 100)
    assert max(found["data"]) == 63  # the sine at half scale, in every channel


def test_peaks_in_16_bits(loud_then_quiet):
    path, channels = loud_then_quiet
    data = np.array(audio.peaks(str(path), pixels=50, bits=16)["data"])
    assert data.max() == pytest.approx(0.6 * 32768, rel=0.01)
    assert data.min() >= -32768 and data.max() <= 32767


def test_long_tracks_give_the_same_peaks(loud_then_quiet, monkeypatch):
    path, _ = loud_then_quiet
    in_memory = audio.peaks(str(path), pixels=700)
    monkeypatch.setattr(audio, "_IN_MEMORY", 10_000)
    monkeypatch.setattr(audio, "_CHUNK", 3_000)
    assert audio.peaks(str(path), pixels=700) == in_memory


def test_peaks_refuse_what_is_not_audio(text_as_mp3):
    assert refused(audio.peaks, str(text_as_mp3)) == "not_audio"


# --- progressive ------------------------------------------------------------------------------------------------


def top_level_boxes(path: Path) -> list[str]:
    boxes, data, offset = [], path.read_bytes(), 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset:offset + 4], "big")
        boxes.append(data[offset + 4:offset + 8].decode("latin-1"))
        if size < 8:
            break
        offset += size
    return boxes


@pytest.mark.parametrize(("name", "rate"), [("mp3", 44_100), ("wav", 44_100), ("ogg", 48_000)])
def test_progressive_is_aac_in_mp4(files, name, rate, tmp_path):
    out = tmp_path / "track.m4a"
    encoding.progressive(str(files[name]), str(out))
    with av.open(str(out)) as container:
        assert "mp4" in container.format.name
        (stream,) = container.streams.audio
        assert stream.codec_context.name == "aac"
        assert (stream.codec_context.sample_rate, stream.codec_context.channels) == (rate, 2)
        samples = sum(frame.samples for frame in container.decode(stream))
    assert samples / rate == pytest.approx(audio.probe(str(files[name]), max_seconds=60).duration, abs=0.1)
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat"), "faststart: the index comes before the data"
    assert os.listdir(tmp_path) == ["track.m4a"]


def test_progressive_keeps_mono_and_moves_odd_rates_to_48k(tmp_path):
    source = write_audio(tmp_path / "voice.wav", sine(32_000)[None], muxer="wav", encoder="pcm_s16le", rate=32_000)
    out = tmp_path / "voice.m4a"
    encoding.progressive(str(source), str(out), bitrate=64_000)
    found = audio.probe(str(out), max_seconds=60)
    assert (found.format, found.codec, found.channels, found.sample_rate) == ("m4a", "aac", 1, 48_000)
    assert found.duration == pytest.approx(SECONDS, abs=0.1)


def test_progressive_leaves_nothing_on_failure(files, tmp_path):
    data = files["flac"].read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 2])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert refused(encoding.progressive, str(cut), str(out_dir / "track.m4a")) == "truncated_audio"
    assert os.listdir(out_dir) == []


# --- hls --------------------------------------------------------------------------------------------------------


def media_playlist(path: Path) -> tuple[list[str], list[tuple[float, str]]]:
    lines = path.read_text().splitlines()
    segments, duration = [], None
    for line in lines:
        if line.startswith("#EXTINF:"):
            duration = float(line.removeprefix("#EXTINF:").split(",")[0])
        elif line and not line.startswith("#"):
            segments.append((duration, line))
    return lines, segments


def test_hls_ladder(files, tmp_path):
    out = tmp_path / "hls"
    written = encoding.hls(str(files["mp3"]), str(out), segment_seconds=1)
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written[0] == "master.m3u8" and sorted(written) == on_disk

    master = (out / "master.m3u8").read_text().splitlines()
    assert master[0] == "#EXTM3U"
    variants = [(line, master[i + 1]) for i, line in enumerate(master) if line.startswith("#EXT-X-STREAM-INF:")]
    assert [uri for _, uri in variants] == ["64k/index.m3u8", "128k/index.m3u8", "256k/index.m3u8"]
    bandwidths = [int(info.split("BANDWIDTH=")[1].split(",")[0]) for info, _ in variants]
    assert bandwidths == sorted(bandwidths) and len(set(bandwidths)) == 3
    assert all('CODECS="mp4a.40.2"' in info for info, _ in variants)

    duration = audio.probe(str(files["mp3"]), max_seconds=60).duration
    for _, uri in variants:
        playlist = out / uri
        lines, segments = media_playlist(playlist)
        assert lines[0] == "#EXTM3U" and lines[-1] == "#EXT-X-ENDLIST"
        target = int(next(line for line in lines if line.startswith("#EXT-X-TARGETDURATION:")).split(":")[1])
        assert len(segments) >= 3 and all(seconds <= target + 0.5 for seconds, _ in segments)
        assert sum(seconds for seconds, _ in segments) == pytest.approx(duration, abs=0.2)
        for _, segment in segments:
            assert "/" not in segment and ":" not in segment, "segment URIs are relative to the playlist"
            with av.open(str(playlist.parent / segment)) as container:
                assert container.streams.audio[0].codec_context.name == "aac"
                assert sum(frame.samples for frame in container.decode(audio=0)) > 0


def test_hls_leaves_nothing_on_failure(files, tmp_path):
    data = files["flac"].read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "hls"
    out.mkdir()
    (out / "keep.txt").write_text("not ours")
    assert refused(encoding.hls, str(cut), str(out)) == "truncated_audio"
    assert os.listdir(out) == ["keep.txt"]


# --- renditions: the progressive file and the ladder from one decode ----------------------------------------------


def test_renditions_write_the_progressive_file_and_the_ladder(files, tmp_path):
    stream, out = tmp_path / "stream.m4a", tmp_path / "hls"
    written = encoding.renditions(str(files["flac"]), str(stream), str(out), segment_seconds=1)
    assert written[0] == "master.m3u8"
    assert sorted(written) == sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert (out / "master.m3u8").read_text().count("#EXT-X-STREAM-INF:") == 3
    # The progressive file reuses the 128 kb/s rendition's packets: it is the file a separate encode writes.
    alone = tmp_path / "alone.m4a"
    encoding.progressive(str(files["flac"]), str(alone))
    assert stream.read_bytes() == alone.read_bytes()
    found = audio.probe(str(stream), max_seconds=60)
    assert (found.codec, found.channels, found.sample_rate) == ("aac", 2, 44_100)
    assert found.duration == pytest.approx(SECONDS, abs=0.1)
    assert sorted(os.listdir(tmp_path)) == ["alone.m4a", "hls", "stream.m4a"]


def aac_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(audio=0) if packet.size]


@pytest.mark.parametrize("name", ["mp3", "flac"])
def test_renditions_encode_what_a_plain_encode_does(files, name, tmp_path):
    # The encoders get the decoded audio regrouped into larger frames: the AAC they write must not change, so it is
    # compared with an encode fed the decoder's own frames (1152 samples each for MP3) one by one.
    plain = tmp_path / "plain.m4a"
    with av.open(str(files[name])) as source, av.open(str(plain), "w", format="ipod") as output:
        stream = output.add_stream("aac", rate=44_100, layout="stereo", options={"aac_coder": "twoloop"})
        stream.bit_rate = 128_000
        for frame in source.decode(audio=0):
            frame.pts = None
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    stream_path = tmp_path / "stream.m4a"
    encoding.renditions(str(files[name]), str(stream_path), str(tmp_path / "hls"))
    assert aac_packets(stream_path) == aac_packets(plain)
    assert len(aac_packets(plain)) > 3 * encoding._FRAME / 1024, "several of the encoders' frames"


def test_renditions_leave_nothing_on_failure(files, tmp_path):
    data = files["flac"].read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    out.mkdir()
    assert refused(encoding.renditions, str(cut), str(out / "stream.m4a"), str(out / "hls")) == "truncated_audio"
    assert sorted(p.name for p in out.rglob("*")) == ["hls"]


def test_an_encoder_that_fails_stops_the_others_and_leaves_nothing(tmp_path):
    # NaN samples stop FFmpeg's AAC encoder, in its own thread: the error reaches the caller.
    signal = stereo(sine(44_100, 2.0))
    signal[:, 40_000:40_010] = np.nan
    nan_wav = write_audio(tmp_path / "nan.wav", signal, muxer="wav", encoder="pcm_f32le", rate=44_100)
    out = tmp_path / "out"
    with pytest.raises(av.FFmpegError):
        encoding.renditions(str(nan_wav), str(out / "stream.m4a"), str(out / "hls"))
    assert sorted(p.name for p in out.rglob("*")) == ["hls"]

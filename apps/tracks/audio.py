"""The audio work of the tracks media pipeline, on local files.

Validate an upload (`sniff` while the request is open, `probe` in the worker) and draw its waveform (`peaks`, in
BBC audiowaveform's JSON). What listeners stream is encoded by encoding.py from the same decoder
(`open_source`, `decoded_frames`). No database and no storage here: the tracks services fetch the upload to a
local path, call these functions and store what they write.

Bad input raises `NotAudio` (its `code` is machine-readable, its text is shown to the uploader); anything else
that escapes (OSError, MemoryError...) is a fault of the machine, not of the file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import BinaryIO

import av
import numpy as np

SUPPORTED: dict[str, frozenset[str]] = {
    "mp3": frozenset({"mp3"}),
    "ogg": frozenset({"opus", "vorbis", "flac"}),
    "flac": frozenset({"flac"}),
    "wav": frozenset({"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le"}),
    "m4a": frozenset({"aac", "alac"}),
}

_PCM_BYTES = {"pcm_u8": 1, "pcm_s16le": 2, "pcm_s24le": 3, "pcm_s32le": 4, "pcm_f32le": 4, "pcm_f64le": 8}

# FFmpeg's demuxer names for the formats above. The MP4 demuxer also reads .mov and .3gp: audio in any of them is
# accepted as "m4a".
_DEMUXERS = {"mp3": "mp3", "ogg": "ogg", "flac": "flac", "wav": "wav", "mov,mp4,m4a,3gp,3g2,mj2": "m4a"}

# Only these demuxers may open an upload. Without the list FFmpeg picks whichever matches the bytes best, and
# some (HLS and concat playlists, image sequences) open further files or URLs named inside the upload.
_FORMAT_WHITELIST = "mp3,ogg,flac,wav,mov"

# Tag names kept from a file's metadata. The rest is encoder and container bookkeeping (encoder, major_brand,
# handler_name...), not something to show next to a track.
_TAGS = frozenset({
    "title", "artist", "album", "album_artist", "composer", "performer", "genre", "date",
    "track", "disc", "comment", "description", "copyright", "publisher",
})
_TAG_MAX = 1000


class NotAudio(Exception):
    """The upload is not audio SmaRTC can take. str(exc) is a short reason for the uploader."""

    code: str  # "not_audio", "empty_audio", "truncated_audio" or "too_long"

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def _not_audio(detail: str = "The file is not audio we can read.") -> NotAudio:
    return NotAudio(detail, code="not_audio")


_UNSUPPORTED = "This audio format is not supported: upload MP3, Ogg (Opus or Vorbis), FLAC, WAV or M4A (AAC)."


@dataclass(frozen=True)
class Probe:
    format: str  # a key of SUPPORTED
    codec: str  # FFmpeg's codec name, e.g. "mp3", "opus", "pcm_s16le"
    duration: float  # seconds of decoded audio
    sample_rate: int
    channels: int
    bitrate: int  # bits per second
    tags: dict[str, str]  # lower-cased names from _TAGS


class _Unnamed:
    """A file object without a `name`: FFmpeg favours the demuxer that matches the file's extension when the bytes
    alone are ambiguous, and an upload's name is whatever the uploader chose."""

    def __init__(self, file: BinaryIO) -> None:
        self.read = file.read
        self.seek = file.seek
        self.tell = file.tell


@dataclass
class Source:
    container: av.container.InputContainer
    stream: av.AudioStream
    format: str


@contextmanager
def open_source(path: str) -> Iterator[Source]:
    """Opens an upload and picks its audio stream, refusing what is not one of the SUPPORTED formats."""
    if os.path.getsize(path) == 0:
        raise empty_audio()
    with open(path, "rb") as file:
        try:
            container = av.open(
                _Unnamed(file), options={"format_whitelist": _FORMAT_WHITELIST}, metadata_errors="replace"
            )
        except av.FFmpegError as exc:
            _reraise_machine_fault(exc)
            raise _not_audio() from exc
        with container:
            fmt = _DEMUXERS.get(container.format.name)
            # Cover art comes as a one-picture video stream; a real video stream means a video file.
            pictures = av.stream.Disposition.attached_pic
            if any(not (s.disposition & pictures) for s in container.streams.video):
                raise _not_audio("The file is a video or an image, not audio.")
            if not container.streams.audio:
                raise _not_audio()
            stream = container.streams.audio[0]
            if fmt is None or stream.codec.canonical_name not in SUPPORTED[fmt]:
                raise _not_audio(_UNSUPPORTED)
            yield Source(container, stream, fmt)


def _reraise_machine_fault(exc: av.FFmpegError) -> None:
    # PyAV's errors for a failing disk or a lack of memory are also OSError / MemoryError: those are not the
    # uploader's fault and must not be reported as a bad file.
    if isinstance(exc, OSError | MemoryError):
        raise exc


def decoded_frames(source: Source) -> Iterator[av.AudioFrame]:
    """Every decoded frame of the source's audio stream. Damage part way raises NotAudio("truncated_audio"); a change
    of sample rate, layout or sample format part way raises NotAudio("not_audio"), as the rest of this module (and
    many players) cannot follow one."""
    first: av.AudioFrame | None = None
    try:
        for packet in source.container.demux(source.stream):
            # FFmpeg marks a packet corrupt when the file ends before the container said it would: a cut file, or
            # a WAV written as a stream (ffmpeg to a pipe, some recorders) whose length is left at 0 or 0xFFFFFFFF.
            # For PCM only a packet that ends inside a sample proves a cut.
            if packet.is_corrupt and not _whole_samples(source, packet):
                raise _damaged(first is not None)
            for frame in packet.decode():
                if first is None:
                    first = frame
                elif (frame.sample_rate, frame.layout.name, frame.format.name) != (
                    first.sample_rate, first.layout.name, first.format.name
                ):
                    raise _not_audio("The audio changes its sample rate or channels part way.")
                yield frame
    except av.FFmpegError as exc:
        _reraise_machine_fault(exc)
        raise _damaged(first is not None) from exc


def _whole_samples(source: Source, packet: av.Packet) -> bool:
    width = _PCM_BYTES.get(source.stream.codec.canonical_name)
    return width is not None and packet.size % (width * source.stream.codec_context.channels) == 0


def _damaged(started: bool) -> NotAudio:
    if not started:
        return _not_audio()
    return NotAudio("The file is damaged: it stops before its end.", code="truncated_audio")


def empty_audio() -> NotAudio:
    return NotAudio("The audio is empty.", code="empty_audio")


@dataclass(frozen=True)
class Sniffed:
    format: str  # a key of SUPPORTED
    sample_rate: int  # of the decoded audio (Opus decodes at 48 kHz whatever its header says)
    channels: int
    seconds: float | None  # the length the file states; else FFmpeg's estimate (from the size); else None
    stated: bool  # whether `seconds` is the file's own statement


def sniff(path: str) -> Sniffed:
    """What the upload is, from opening it and decoding its first frames: cheap enough for the upload request,
    whatever the size. Raises NotAudio. The full check is `probe`, later, in a worker."""
    with open_source(path) as source:
        frames = decoded_frames(source)
        first = next(frames, None)
        if first is None:
            raise empty_audio()
        for _ in islice(frames, 7):  # a few frames more: a file that only starts like audio fails here
            pass
        frames.close()
        stated = _declared_seconds(path, source)
        estimate = source.container.duration / av.time_base if source.container.duration else None
        return Sniffed(format=source.format, sample_rate=first.sample_rate, channels=first.layout.nb_channels,
                       seconds=estimate if stated is None else stated, stated=stated is not None)


def probe(path: str, *, max_seconds: float) -> Probe:
    """Decodes the whole file, so that a damaged file, or a file that only looks like audio, is refused here rather
    than by a listener's player. Raises NotAudio; stops decoding as soon as the audio passes `max_seconds`."""
    with open_source(path) as source:
        container, stream = source.container, source.stream
        samples = 0
        first: av.AudioFrame | None = None
        for frame in decoded_frames(source):
            if first is None:
                first = frame
            samples += frame.samples
            if samples > max_seconds * first.sample_rate:
                raise NotAudio(f"The audio is longer than {clock(max_seconds)}.", code="too_long")
        if first is None or samples == 0:
            raise empty_audio()
        seconds = samples / first.sample_rate
        declared = _declared_seconds(path, source)
        # Formats that state their length (FLAC, MP4, WAV, an MP3 with a Xing/VBRI frame) can be cut without a
        # decoding error: the missing end only shows as a length shorter than stated.
        if declared is not None and declared - seconds > max(0.5, 0.01 * declared):
            raise NotAudio("The file is damaged: it stops before its end.", code="truncated_audio")
        bitrate = stream.bit_rate or container.bit_rate or round(os.path.getsize(path) * 8 / seconds)
        return Probe(
            format=source.format,
            codec=stream.codec.canonical_name,
            duration=seconds,
            sample_rate=first.sample_rate,
            channels=first.layout.nb_channels,
            bitrate=int(bitrate),
            tags=_tags(container.metadata, stream.metadata),
        )


def _declared_seconds(path: str, source: Source) -> float | None:
    """The length the file states, or None where FFmpeg only estimated it."""
    stream = source.stream
    if source.format == "mp3" and not _mp3_states_length(path):
        # Without a Xing/Info/VBRI frame FFmpeg guesses the length from the file size and the first frame's bit rate.
        return None
    if source.format == "wav":
        # FFmpeg trims a WAV's stated length to the file without a word; the header still holds the claim.
        size = _wav_data_size(path)
        width = _PCM_BYTES[stream.codec.canonical_name] * stream.codec_context.channels
        return None if size is None else size / width / stream.codec_context.sample_rate
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if source.container.duration is not None:
        return source.container.duration / av.time_base
    return None


def _mp3_states_length(path: str) -> bool:
    """True when the first MPEG frame is a Xing/Info or VBRI header, which counts the frames of the file."""
    with open(path, "rb") as file:
        start = 0
        head = file.read(10)
        if head[:3] == b"ID3" and len(head) == 10:
            size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
            start = 10 + size + (10 if head[5] & 0x10 else 0)
        file.seek(start)
        data = file.read(4096)
    sync = next((i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] & 0xE0 == 0xE0), None)
    if sync is None:
        return False
    # Xing/Info sits after the side information (13, 21 or 36 bytes into the frame), VBRI at 36.
    window = data[sync + 13 : sync + 40]
    return any(tag in window for tag in (b"Xing", b"Info", b"VBRI"))


def _wav_data_size(path: str) -> int | None:
    """The size the RIFF header gives the data chunk; None when it is unknown (a WAV written as a stream leaves 0 or
    0xFFFFFFFF there) or the file is not plain RIFF (RF64 and BW64 keep it elsewhere)."""
    with open(path, "rb") as file:
        head = file.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        while len(chunk := file.read(8)) == 8:
            size = int.from_bytes(chunk[4:], "little")
            if chunk[:4] == b"data":
                return None if size in (0, 0xFFFFFFFF) else size
            file.seek(size + size % 2, os.SEEK_CUR)  # chunks are padded to even sizes
    return None


def _tags(*sources: dict[str, str]) -> dict[str, str]:
    # MP3/FLAC/WAV/MP4 keep tags on the container, Ogg on the stream.
    tags: dict[str, str] = {}
    for metadata in sources:
        for key, value in metadata.items():
            key = key.lower()
            # PostgreSQL text cannot hold NUL, which some taggers leave in.
            value = value.replace("\x00", "").strip()[:_TAG_MAX]
            if key in _TAGS and value and key not in tags:
                tags[key] = value
    return tags


def clock(seconds: float) -> str:
    """m:ss, or h:mm:ss from an hour on."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# --- Waveform ---------------------------------------------------------------------------------------------------

# Decoded audio is turned into numpy arrays this many samples at a time: one conversion per decoded frame (a
# few hundred samples) would cost more than the decoding.
_CHUNK = 1 << 18
# Up to this many mono samples (64 MB of float32, ~6 minutes at 44.1 kHz) stay in memory, so the track is decoded
# once. A longer track is decoded twice: once to count its samples, once to bucket them, in constant memory.
_IN_MEMORY = 1 << 24


def peaks(path: str, *, pixels: int = 1800, bits: int = 8) -> dict:
    """Waveform peaks in BBC audiowaveform's JSON (version 2), which wavesurfer.js and peaks.js read: the channels'
    average in `ceil(total_samples / pixels)`-sample buckets, each as min and max scaled to signed `bits`. Raises
    NotAudio."""
    if bits not in (8, 16):
        raise ValueError("bits must be 8 or 16")
    if pixels < 1:
        raise ValueError("pixels must be positive")
    total, sample_rate = 0, 0
    kept: list[np.ndarray] | None = []
    with open_source(path) as source:
        for rate, mono in _mono_chunks(source):
            sample_rate = rate
            total += len(mono)
            if kept is not None:
                kept.append(mono)
                if total > _IN_MEMORY:
                    kept = None
    if not total:
        raise empty_audio()
    per_pixel = math.ceil(total / pixels)
    if kept is None:
        with open_source(path) as source:
            lows, highs = _buckets((mono for _, mono in _mono_chunks(source)), per_pixel)
    else:
        lows, highs = _buckets(kept, per_pixel)
    # audiowaveform truncates toward minus infinity (a right shift), and +1.0 lands on the top value.
    scale = 1 << (bits - 1)
    pairs = np.column_stack((lows, highs)) * scale
    data = np.clip(np.floor(pairs), -scale, scale - 1).astype(np.int32).ravel().tolist()
    return {
        "version": 2,
        "channels": 1,
        "sample_rate": sample_rate,
        "samples_per_pixel": per_pixel,
        "bits": bits,
        "length": len(lows),
        "data": data,
    }


def _mono_chunks(source: Source) -> Iterator[tuple[int, np.ndarray]]:
    """(sample rate, float32 samples) pairs of the channels' average, as audiowaveform downmixes (FFmpeg's own
    downmix would scale by 1/sqrt(2) instead)."""
    fifo = av.AudioFifo()
    # Interleaved, not planar: PyAV 18 crashes the process (a segfault) turning planar frames of 8 channels or
    # more into arrays.
    interleaved = av.AudioResampler(format="flt")
    rate = 0

    def convert(frame: av.AudioFrame | None) -> Iterator[tuple[int, np.ndarray]]:
        if frame is not None and frame.format.name == "fltp" and frame.layout.nb_channels <= 2:
            # Planar float, what MP3, AAC, Vorbis and Opus decode to: the planes are averaged where they are rather
            # than interleaved first (a third less CPU for an MP3's waveform), the same sum and division as the mean
            # below, so the same peaks.
            planes = [np.frombuffer(plane, dtype=np.float32, count=frame.samples) for plane in frame.planes]
            yield rate, (planes[0] + planes[1]) / np.float32(2) if len(planes) == 2 else planes[0].copy()
            return
        for converted in interleaved.resample(frame):
            # A resampler that has nothing to convert hands back its input, None included.
            if converted is not None:
                samples = converted.to_ndarray().reshape(-1, converted.layout.nb_channels)
                yield rate, samples.mean(axis=1, dtype=np.float32)

    for frame in decoded_frames(source):
        rate = frame.sample_rate
        # The FIFO only regroups samples; decoders' timestamps (which skip encoder delay) would upset its checks.
        frame.pts = None
        fifo.write(frame)
        if fifo.samples >= _CHUNK:
            yield from convert(fifo.read())
    if fifo.samples:
        yield from convert(fifo.read())
    yield from convert(None)


def _buckets(chunks: Iterable[np.ndarray], per_pixel: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of each run of `per_pixel` samples across the chunks; the last run may be shorter."""
    lows: list[np.ndarray] = []
    highs: list[np.ndarray] = []
    carry = np.empty(0, dtype=np.float32)
    for chunk in chunks:
        samples = np.concatenate((carry, chunk)) if carry.size else chunk
        whole = len(samples) // per_pixel * per_pixel
        if whole:
            runs = samples[:whole].reshape(-1, per_pixel)
            lows.append(runs.min(axis=1))
            highs.append(runs.max(axis=1))
        carry = samples[whole:]
    if carry.size:
        lows.append(carry.min(keepdims=True))
        highs.append(carry.max(keepdims=True))
    return np.concatenate(lows), np.concatenate(highs)

"""What listeners stream, encoded from the upload: one progressive AAC .m4a for HTTP Range playback and an HLS
ladder of AAC renditions.

`renditions` decodes and resamples the upload once and hands each frame to one AAC encoder per bit rate, each in
its own thread: PyAV lets go of the GIL inside FFmpeg's encoder and muxer calls, so the encoders (nearly all of
the work) share the cores. The progressive file is the ladder's rendition of the same bit rate written a second
time, into MP4: the same AAC packets, not a fourth encode. `progressive` and `hls` are each half on its own.

Bad input raises audio.NotAudio, as in audio.py; on any failure nothing these functions wrote is left behind.
"""

from __future__ import annotations

import math
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from fractions import Fraction

import av

from .audio import decoded_frames, empty_audio, open_source

LADDER = (64_000, 128_000, 256_000)
PROGRESSIVE = 128_000

# Samples per frame handed to the encoders: many of the AAC encoder's 1024-sample frames at a time (PyAV's encode
# cuts them), so that the Python work per frame (a queue hand-off and a wake-up per encoder, the GIL taken back
# after each FFmpeg call) is paid once per 8192 samples rather than once per decoded frame (1152 samples for MP3).
# The encoders see the same samples with the same timestamps: their packets do not change.
_FRAME = 8192
# Frames waiting for each encoder (16 are 3 seconds of audio at 44.1 kHz). A few are enough to keep the encoders busy
# while the decoder runs ahead; the bound keeps memory flat whatever the track's length, and keeps the encoders
# within as many frames of each other, so that none is left to finish alone on one core.
_QUEUED = 16

# FFmpeg's default coder, named so nobody swaps it for "fast" to save time: fast costs 2-3 times less CPU but drops
# most of 4-11 kHz at 64 kb/s and is 7 dB noisier at 256 kb/s (docs/benchmarks.md, tracks media pipeline).
_AAC_OPTIONS = {"aac_coder": "twoloop"}


def renditions(
    path: str, stream_path: str, hls_dir: str, *, bitrate: int = PROGRESSIVE, ladder: Iterable[int] = LADDER,
    segment_seconds: int = 6,
) -> list[str]:
    """Writes the progressive file at stream_path (see `progressive`) and the HLS ladder into hls_dir (see `hls`)
    from one decode of the upload. Returns what `hls` returns. Raises NotAudio; on any failure neither is left."""
    return _write(path, progressive=(stream_path, bitrate), hls_dir=hls_dir, ladder=ladder,
                  segment_seconds=segment_seconds)


def progressive(path: str, out_path: str, *, bitrate: int = PROGRESSIVE) -> None:
    """Writes one AAC .m4a for progressive (HTTP Range) playback: stereo at most, 44.1 or 48 kHz, with its index at
    the front ("faststart") so that a browser can seek before the whole file has loaded. Raises NotAudio; on any
    failure out_path is left as it was."""
    _write(path, progressive=(out_path, bitrate), hls_dir=None, ladder=(), segment_seconds=6)


def hls(path: str, out_dir: str, *, ladder: Iterable[int] = LADDER, segment_seconds: int = 6) -> list[str]:
    """Writes an HLS VOD ladder of AAC renditions: out_dir/<kbps>k/index.m3u8 with its MPEG-TS segments for each
    bit rate, and out_dir/master.m3u8 naming them. Every URI is relative, so the folder works wherever it is served
    from. Returns the paths written, relative to out_dir with "/" separators, master first. Raises NotAudio; on any
    failure nothing this call wrote stays in out_dir. An earlier ladder's renditions of the same names are replaced.
    """
    return _write(path, progressive=None, hls_dir=out_dir, ladder=ladder, segment_seconds=segment_seconds)


def _write(
    path: str, *, progressive: tuple[str, int] | None, hls_dir: str | None, ladder: Iterable[int],
    segment_seconds: int,
) -> list[str]:
    bitrates = sorted(ladder) if hls_dir is not None else []
    names = [f"{round(bitrate / 1000)}k" for bitrate in bitrates]
    if hls_dir is not None:
        if not names or len(set(names)) != len(names):
            raise ValueError("ladder must hold distinct bit rates")
        if segment_seconds < 1:
            raise ValueError("segment_seconds must be at least 1")
        os.makedirs(hls_dir, exist_ok=True)
    # The progressive file is written beside its final name and renamed, so that nobody reads a half-written
    # file under that name; the renditions go to a hidden folder and are moved into place at the end, so a failure
    # half way (a damaged upload, a full disk) is cleaned up by removing one folder.
    partial = f"{progressive[0]}.part" if progressive else None
    staging = tempfile.mkdtemp(dir=hls_dir, prefix=".hls-") if hls_dir is not None else None
    try:
        with open_source(path) as source:
            frames = decoded_frames(source)
            first = next(frames, None)
            if first is None:
                raise empty_audio()
            layout, rate = _output_shape(first)
            with ExitStack() as outputs:
                encoders: list[_Encoder] = []
                for name, bitrate in zip(names, bitrates, strict=True):
                    output = outputs.enter_context(_hls_output(os.path.join(staging, name), segment_seconds))
                    encoders.append(_Encoder(output, _aac_stream(output, layout, rate, bitrate), bitrate))
                if progressive:
                    m4a = outputs.enter_context(
                        av.open(partial, "w", format="ipod", options={"movflags": "+faststart"}))
                    shared = next((e for e in encoders if e.bitrate == progressive[1]), None)
                    if shared is None:
                        encoders.append(_Encoder(m4a, _aac_stream(m4a, layout, rate, progressive[1]), progressive[1]))
                    else:
                        shared.copy_into(m4a)
                _encode(_resampled(first, frames, layout, rate), encoders)
        written: list[str] = []
        if staging is not None:
            variants = [(name, _segments(os.path.join(staging, name, "index.m3u8"))) for name in names]
            with open(os.path.join(staging, "master.m3u8"), "w", encoding="utf-8") as master:
                master.write(_master_playlist(staging, variants, segment_seconds))
            written = ["master.m3u8"]
            for name, segments in variants:
                written += [f"{name}/index.m3u8", *(f"{name}/{uri}" for _, uri in segments)]
        if progressive:
            os.replace(partial, progressive[0])
        if staging is not None:
            try:
                _move_into(staging, hls_dir, [*names, "master.m3u8"])
            except BaseException:
                if progressive:
                    _remove(progressive[0])
                raise
        return written
    except BaseException:
        if partial:
            _remove(partial)
        raise
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _hls_output(folder: str, segment_seconds: int) -> av.container.OutputContainer:
    os.mkdir(folder)
    return av.open(os.path.join(folder, "index.m3u8"), "w", format="hls", options={
        "hls_time": str(segment_seconds),
        "hls_playlist_type": "vod",
        "hls_segment_type": "mpegts",
        "hls_flags": "independent_segments",
        "hls_segment_filename": os.path.join(folder, "seg_%03d.ts"),
        # Lets MPEG-TS put several AAC frames in one PES packet (ffmpeg's command line does the same). With no
        # delay each 23 ms frame gets its own packet and a 64 kb/s rendition weighs 130 kb/s.
        "max_delay": "700000",
    })


def _output_shape(first: av.AudioFrame) -> tuple[str, int]:
    """Mono stays mono, anything wider becomes stereo. The rate is 44.1 kHz for the CD family of rates (11.025,
    22.05, 88.2 kHz...) and 48 kHz for the others, so that a 44.1 or 48 kHz source is not resampled."""
    layout = "mono" if first.layout.nb_channels == 1 else "stereo"
    rate = 44_100 if first.sample_rate % 11_025 == 0 else 48_000
    return layout, rate


def _aac_stream(output: av.container.OutputContainer, layout: str, rate: int, bitrate: int) -> av.AudioStream:
    stream = output.add_stream("aac", rate=rate, layout=layout, options=dict(_AAC_OPTIONS))
    stream.bit_rate = bitrate
    return stream


def _resampled(
    first: av.AudioFrame, rest: Iterator[av.AudioFrame], layout: str, rate: int
) -> Iterator[av.AudioFrame]:
    """The source's frames as the AAC encoder takes them, _FRAME samples each (the last may be shorter), with
    timestamps counted from zero in samples."""
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate, frame_size=_FRAME)
    time_base = Fraction(1, rate)
    position = 0

    def stamped(frames: list[av.AudioFrame | None]) -> Iterator[av.AudioFrame]:
        nonlocal position
        for frame in frames:
            if frame is not None:
                frame.pts, frame.time_base = position, time_base
                position += frame.samples
                yield frame

    yield from stamped(resampler.resample(first))
    for frame in rest:
        yield from stamped(resampler.resample(frame))
    yield from stamped(resampler.resample(None))


_END = object()


class _Encoder(threading.Thread):
    """One AAC encoder in its own thread, fed through a short queue. It muxes its packets into its container, and a
    copy of each into the containers given to `copy_into`. It only reads the frames it is given, so one frame can
    go to every encoder at once."""

    def __init__(self, output: av.container.OutputContainer, stream: av.AudioStream, bitrate: int) -> None:
        super().__init__(name=f"aac-{bitrate // 1000}k", daemon=True)
        self.output, self.stream, self.bitrate = output, stream, bitrate
        self.queue: queue.Queue = queue.Queue(maxsize=_QUEUED)
        self.copies: list[tuple[av.container.OutputContainer, av.AudioStream]] = []
        self.error: BaseException | None = None
        self.abandoned = False  # set by the feeder before it queues _END: skip the rest, write no trailer

    def copy_into(self, output: av.container.OutputContainer) -> None:
        # The copy's stream takes the encoder's parameters (AudioSpecificConfig, priming samples), which exist once
        # the encoder is open: opening the first container opens it.
        self.output.start_encoding()
        self.copies.append((output, output.add_stream_from_template(self.stream)))

    def run(self) -> None:
        try:
            while (frame := self.queue.get()) is not _END:
                if not self.abandoned:
                    self._write(self.stream.encode(frame))
            if not self.abandoned:
                self._write(self.stream.encode(None))
        except BaseException as exc:
            self.error = exc
            while self.queue.get() is not _END:  # keeps the feeder from waiting on a full queue
                pass

    def _write(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            for output, stream in self.copies:
                # Muxing hands the packet's data to FFmpeg, so each container gets its own packet.
                copy = av.Packet(bytes(packet))
                copy.pts, copy.dts, copy.duration = packet.pts, packet.dts, packet.duration
                copy.time_base, copy.is_keyframe, copy.stream = packet.time_base, packet.is_keyframe, stream
                output.mux(copy)
            self.output.mux(packet)


def _encode(frames: Iterable[av.AudioFrame], encoders: list[_Encoder]) -> None:
    """Hands every frame to every encoder; raises what the decoder or any encoder raised."""
    for encoder in encoders:
        encoder.start()
    failed = False
    try:
        for frame in frames:
            for encoder in encoders:
                encoder.queue.put(frame)
            if any(encoder.error for encoder in encoders):
                failed = True
                break
    except BaseException:
        failed = True
        raise
    finally:
        for encoder in encoders:
            encoder.abandoned = failed
            encoder.queue.put(_END)
        for encoder in encoders:
            encoder.join()
    for encoder in encoders:
        if encoder.error is not None:
            raise encoder.error


def _move_into(staging: str, out_dir: str, entries: list[str]) -> None:
    moved: list[str] = []
    try:
        for entry in entries:
            target = os.path.join(out_dir, entry)
            if os.path.isdir(target):
                shutil.rmtree(target)
            os.replace(os.path.join(staging, entry), target)
            moved.append(target)
    except BaseException:
        for target in moved:
            if os.path.isdir(target):
                shutil.rmtree(target)
            else:
                os.remove(target)
        raise


def _segments(playlist: str) -> list[tuple[float, str]]:
    """(duration, URI) of each segment of a media playlist FFmpeg wrote."""
    segments: list[tuple[float, str]] = []
    duration = None
    with open(playlist, encoding="utf-8") as file:
        for line in file:
            line = line.strip()
            if line.startswith("#EXTINF:"):
                duration = float(line[len("#EXTINF:") :].split(",")[0])
            elif line and not line.startswith("#") and duration is not None:
                segments.append((duration, line))
                duration = None
    return segments


def _master_playlist(root: str, variants: list[tuple[str, list[tuple[float, str]]]], segment_seconds: int) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for name, segments in variants:
        sized = [(duration, os.path.getsize(os.path.join(root, name, uri))) for duration, uri in segments]
        rates = [size * 8 / duration for duration, size in sized if duration > 0]
        # BANDWIDTH is the peak segment bit rate (players pick a variant by it). A short last segment is mostly
        # MPEG-TS headers and would overstate the peak, so it counts only when no segment is near full length.
        full = [size * 8 / duration for duration, size in sized if duration >= segment_seconds / 2]
        peak = max(full or rates)
        average = sum(size for _, size in sized) * 8 / sum(duration for duration, _ in sized)
        lines.append(
            f'#EXT-X-STREAM-INF:BANDWIDTH={math.ceil(peak)},AVERAGE-BANDWIDTH={math.ceil(average)},CODECS="mp4a.40.2"'
        )
        lines.append(f"{name}/index.m3u8")
    return "\n".join(lines) + "\n"


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass

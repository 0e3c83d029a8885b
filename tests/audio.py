"""Audio files made by the tests and benchmarks themselves, with PyAV: sines of known pitch and
loudness, so what the pipeline reports (duration, peaks) can be checked against what was written."""
from __future__ import annotations

import io
import struct
from pathlib import Path

import av
import numpy as np

from apps.tracks.synth import write_samples as write_audio

# name -> (muxer, encoder, sample rate, expected Probe.format, expected Probe.codec)
FORMATS = {
    "mp3": ("mp3", "libmp3lame", 44_100, "mp3", "mp3"),
    "ogg": ("ogg", "libopus", 48_000, "ogg", "opus"),
    "flac": ("flac", "flac", 44_100, "flac", "flac"),
    "wav": ("wav", "pcm_s16le", 44_100, "wav", "pcm_s16le"),
    "m4a": ("ipod", "aac", 44_100, "m4a", "aac"),
}


def sine(rate: int, seconds: float, *, amplitude: float = 0.5, hz: float = 440.0) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def stereo(signal: np.ndarray) -> np.ndarray:
    return np.stack([signal, signal])


def track_file(path: Path, seconds: float = 4.0, *, loud_then_quiet: bool = False, tags: dict | None = None) -> Path:
    """A stereo 440 Hz sine in the format the path's extension names; with loud_then_quiet the
    second half is at a tenth of the first."""
    muxer, encoder, rate, _, _ = FORMATS[path.suffix.lstrip(".")]
    signal = sine(rate, seconds, amplitude=0.8)
    if loud_then_quiet:
        signal[len(signal) // 2:] *= 0.1
    return write_audio(path, stereo(signal), muxer=muxer, encoder=encoder, rate=rate, tags=tags,
                       options={"movflags": "+faststart"} if muxer == "ipod" else None)


def decode_mono(data_or_path) -> tuple[np.ndarray, int]:
    """An independent decode: mono float samples (the channels' average) and their rate."""
    src = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else str(data_or_path)
    with av.open(src) as f:
        stream = f.streams.audio[0]
        rate = stream.codec_context.sample_rate
        planar = av.AudioResampler(format="fltp", layout=stream.codec_context.layout, rate=rate)
        parts = [p.to_ndarray() for frame in f.decode(stream) for p in planar.resample(frame)]
        parts += [p.to_ndarray() for p in planar.resample(None)]
    return np.concatenate(parts, axis=1).mean(axis=0), rate


def wav_bytes(channels: int, rate: int, seconds: float, *, data_size: int | None = None) -> bytes:
    """A 16-bit PCM WAV written by hand (any channel count and rate, which FFmpeg's encoders refuse): a 440 Hz
    sine in every channel. `data_size` replaces the length the header states."""
    samples = (sine(rate, seconds) * 32767).astype("<i2")
    data = np.repeat(samples[:, None], channels, axis=1).tobytes()
    block = channels * 2
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, channels, rate, rate * block, block, 16)
    header = struct.pack("<4sI", b"data", len(data) if data_size is None else data_size)
    return b"RIFF" + struct.pack("<I", 4 + len(fmt) + len(header) + len(data)) + b"WAVE" + fmt + header + data

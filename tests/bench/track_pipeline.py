"""Time of each step of the tracks audio pipeline on a 3-minute stereo 44.1 kHz track.

    .venv/bin/python -m tests.bench.track_pipeline [--seconds 180] [--runs 3]

Makes the track (a few detuned partials with a slow tremolo and some noise, so the encoders have real work) as
16-bit WAV and 128 kb/s MP3 in a temporary folder, then times `sniff`, `probe`, `peaks`, `progressive` and `hls`
(the default ladder) on each input: median of --runs runs, as wall time and as this process's CPU time (on a busy
machine the wall time grows, the CPU time much less). Needs no Django. Run by hand; not part of `make test`.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from apps.tracks import audio
from tests.audio import write_audio

RATE = 44_100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results: dict = {"seconds": args.seconds, "runs": args.runs, "steps": {}}

    folder = tempfile.mkdtemp(prefix="smartc-bench-")
    try:
        inputs = {
            "wav": make_track(os.path.join(folder, "track.wav"), args.seconds, "wav", "pcm_s16le"),
            "mp3": make_track(os.path.join(folder, "track.mp3"), args.seconds, "mp3", "libmp3lame"),
        }
        sizes = ", ".join(f"{name} {os.path.getsize(path) / 1e6:.1f} MB" for name, path in inputs.items())
        print(f"{args.seconds:.0f} s stereo {RATE} Hz track ({sizes}); median of {args.runs} runs; "
              f"PyAV {av.__version__}, FFmpeg {av.ffmpeg_version_info}; {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"{'step':12} {'input':6} {'wall s':>8} {'cpu s':>8}  result")
        for name, path in inputs.items():
            out = os.path.join(folder, f"out-{name}")
            steps: dict[str, Callable[[], str]] = {
                "sniff": lambda path=path: audio.sniff(path),
                "probe": lambda path=path: describe_probe(audio.probe(path, max_seconds=3 * 3600)),
                "peaks": lambda path=path: describe_peaks(audio.peaks(path)),
                "progressive": lambda path=path, out=out: describe_progressive(path, out + ".m4a"),
                "hls": lambda path=path, out=out: describe_hls(path, out + "-hls"),
            }
            for step, run in steps.items():
                wall, cpu, result = timed(run, args.runs)
                print(f"{step:12} {name:6} {wall:8.3f} {cpu:8.3f}  {result}")
                results["steps"].setdefault(name, {})[step] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def make_track(path: str, seconds: float, muxer: str, encoder: str) -> str:
    t = np.arange(round(RATE * seconds)) / RATE
    rng = np.random.default_rng(1)
    left = sum(0.12 * np.sin(2 * np.pi * hz * t) for hz in (110.0, 220.5, 329.6, 440.0, 659.3, 1318.5))
    right = sum(0.12 * np.sin(2 * np.pi * hz * t + 0.7) for hz in (110.3, 219.8, 330.0, 441.0, 660.1, 1760.0))
    tremolo = 0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * t)
    channels = np.stack([left * tremolo, right * tremolo]) + rng.normal(0, 0.02, (2, len(t)))
    channels = np.clip(channels, -1, 1).astype(np.float32)
    write_audio(Path(path), channels, muxer=muxer, encoder=encoder, rate=RATE,
                bit_rate=128_000 if encoder == "libmp3lame" else None)
    return path


def timed(run: Callable[[], str], runs: int) -> tuple[float, float, str]:
    walls, cpus, result = [], [], ""
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def describe_probe(found: audio.Probe) -> str:
    return f"{found.format}/{found.codec} {found.duration:.2f} s {found.bitrate // 1000} kb/s"


def describe_peaks(result: dict) -> str:
    return f"{result['length']} px x {result['samples_per_pixel']} samples"


def describe_progressive(path: str, out: str) -> str:
    audio.progressive(path, out)
    return f"{os.path.getsize(out) / 1e6:.2f} MB m4a"


def describe_hls(path: str, out: str) -> str:
    shutil.rmtree(out, ignore_errors=True)
    written = audio.hls(path, out)
    megabytes = sum(os.path.getsize(os.path.join(out, name)) for name in written) / 1e6
    return f"{len(written)} files, {megabytes:.2f} MB"


if __name__ == "__main__":
    main()

"""Time of each step of the tracks audio pipeline on a 3-minute stereo 44.1 kHz track.

    .venv/bin/python -m tests.bench.track_pipeline [--seconds 180] [--runs 3]

Makes the track (a few detuned partials with a slow tremolo and some noise, so the encoders have real work) as
16-bit WAV and 128 kb/s MP3 in a temporary folder, then times `sniff`, `probe`, `peaks` and `renditions` (the
progressive file and the default HLS ladder from one decode) on each input: median of --runs runs, as wall time
and as this process's CPU time, every thread's (on a busy machine the wall time grows, the CPU time much less).
Then the whole worker-side pipeline (probe, peaks, renditions) once more in a fresh process, for its peak memory
(RSS). Needs no Django. Run by hand; not part of `make test`.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from apps.tracks import audio, encoding
from tests.audio import write_audio

RATE = 44_100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--whole", metavar="PATH", help=argparse.SUPPRESS)  # the fresh process's part
    args = parser.parse_args()
    if args.whole:
        whole_pipeline(args.whole)
        return
    results: dict = {"seconds": args.seconds, "runs": args.runs, "steps": {}, "whole": {}}

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
                "renditions": lambda path=path, out=out: describe_renditions(path, out),
            }
            for step, run in steps.items():
                wall, cpu, result = timed(run, args.runs)
                print(f"{step:12} {name:6} {wall:8.3f} {cpu:8.3f}  {result}")
                results["steps"].setdefault(name, {})[step] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
            whole = json.loads(subprocess.run(
                [sys.executable, "-m", "tests.bench.track_pipeline", "--whole", path],
                check=True, capture_output=True, text=True).stdout)
            print(f"{'whole':12} {name:6} {whole['wall_s']:8.3f} {whole['cpu_s']:8.3f}  probe + peaks + renditions "
                  f"in a fresh process, peak RSS {whole['max_rss_mb']:.0f} MB")
            results["whole"][name] = whole
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


def describe_renditions(path: str, out: str) -> str:
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    written = encoding.renditions(path, os.path.join(out, "stream.m4a"), os.path.join(out, "hls"))
    megabytes = sum(os.path.getsize(os.path.join(out, "hls", name)) for name in written) / 1e6
    return f"m4a {os.path.getsize(os.path.join(out, 'stream.m4a')) / 1e6:.2f} MB + HLS {len(written)} files, " \
           f"{megabytes:.2f} MB"


def whole_pipeline(path: str) -> None:
    """What a worker does with an upload (probe, peaks, renditions), timed; prints JSON with the peak RSS."""
    out = tempfile.mkdtemp(prefix="smartc-bench-whole-")
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        audio.probe(path, max_seconds=3 * 3600)
        audio.peaks(path)
        encoding.renditions(path, os.path.join(out, "stream.m4a"), os.path.join(out, "hls"))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(json.dumps({"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "max_rss_mb": round(peak_rss_mb(), 1)}))


def peak_rss_mb() -> float:
    """This process's peak RSS. Linux's VmHWM starts afresh at exec; ru_maxrss would keep the parent's peak (the
    benchmark's own copy of the track as float64) across the fork and exec that started this process."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()

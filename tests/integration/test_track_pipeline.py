"""The tracks media pipeline for real: an upload through the API stores its original in S3 (moto's
server over HTTP), the test process enqueues on Redis, a Celery worker process on the `media` queue
probes, draws the waveform, encodes the renditions and the cover thumbnails into the same bucket,
and the uploader's live socket hears each step."""
from __future__ import annotations

import asyncio
import io
import json
import re
import urllib.request

import av
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from apps.tracks.models import Track
from celery_app import app as celery_app
from tests import audio, servers
from tests.factories import UserFactory, add_member
from tests.integration.test_gateway import db, gateway, run_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alice(guild):
    return add_member(guild, UserFactory(username="alice")).user


def cover_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


def upload(user, guild, data: bytes, name: str, **fields):
    api = APIClient()
    api.force_authenticate(user)
    body = {"file": SimpleUploadedFile(name, data), "title": "Sine in A", **fields}
    return api.post(f"/api/guilds/{guild.id}/tracks", body, format="multipart")


def fetch(url: str, headers: dict | None = None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
        return r.status, r.headers, r.read()


def get(user, path: str):
    client = Client()
    client.force_login(user)
    return client.get(path)


async def until_state(track_id: int, states: set[str], timeout: float = 90) -> Track:
    import asyncio

    for _ in range(int(timeout * 5)):
        track = await db(Track.objects.get)(pk=track_id)
        if track.state in states:
            return track
        await asyncio.sleep(0.2)
    raise AssertionError(f"track {track_id} stayed {track.state}/{track.step}")


@run_async
async def test_a_worker_turns_an_upload_into_a_playable_track_in_s3(guild, alice, s3, tmp_path):
    assert not celery_app.conf.task_always_eager  # the test process enqueues on Redis, as production does
    await db(celery_app.control.purge)()
    source = audio.track_file(tmp_path / "a.flac", 6.0, loud_then_quiet=True,
                              tags={"title": "Sine", "artist": "SmaRTC"})
    r = await db(upload)(alice, guild, source.read_bytes(), "a.flac", tags="sine, test", genre="Ambient",
                         cover=SimpleUploadedFile("c.png", cover_png()))
    assert r.status_code == 201, r.json()
    track_id = r.json()["id"]
    assert r.json()["state"] == "uploaded" and r.json()["stream_url"] is None
    track = await db(Track.objects.get)(pk=track_id)
    assert s3.keys(track.folder) == sorted([track.original.name, track.cover.name])

    async with gateway(alice) as a:
        with servers.celery_worker(queues="media", env=s3.env()):
            steps = []
            while not steps or steps[-1]["state"] not in ("ready", "failed"):
                steps.append(await a.event("TRACK_UPDATE", timeout=90))
    assert {s["id"] for s in steps} == {track_id}
    assert [s["step"] for s in steps] == ["probe", "waveform", "renditions", "artwork", ""]
    assert steps[-1]["state"] == "ready", steps[-1]

    track = await db(Track.objects.get)(pk=track_id)
    assert abs(track.duration_ms - 6000) <= 100
    assert (track.sample_rate, track.channels, track.codec) == (44100, 2, "flac")
    assert track.file_tags.get("artist") == "SmaRTC"
    # Everything lives in the bucket, under the track's folder, and nothing else does.
    assert s3.keys(track.folder) == sorted(track.stored_names())
    assert any(k.endswith("/hls/master.m3u8") for k in s3.keys(track.folder))

    # The waveform follows an independent decode: loud first half, quiet second half.
    r = await db(get)(alice, f"/tracks/{track_id}/peaks.json")
    assert r.status_code == 200
    peaks = json.loads(r.content)
    assert (peaks["version"], peaks["channels"], peaks["bits"]) == (2, 1, 8)
    data = np.array(peaks["data"]).reshape(-1, 2)
    assert len(data) == peaks["length"] > 100
    samples, _ = audio.decode_mono(source)
    spp = peaks["samples_per_pixel"]
    expected = np.array([np.abs(samples[i:i + spp]).max() for i in range(0, len(samples), spp)])
    measured = np.maximum(-data[:, 0], data[:, 1]) / 127
    assert len(measured) == len(expected) and np.abs(measured - expected).max() < 0.02
    half = len(measured) // 2
    assert measured[:half - 2].min() > 5 * measured[half + 2:].max()

    # The progressive stream: a signed S3 URL that answers Range, and decodes to the same length.
    r = await db(get)(alice, f"/tracks/{track_id}/stream.m4a")
    assert r.status_code == 302 and r["Location"].startswith(s3.endpoint)
    status, headers, body = await db(fetch)(r["Location"], {"Range": "bytes=0-99"})
    assert status == 206 and len(body) == 100 and headers["Content-Range"].endswith(f"/{track.stream_size}")
    _, _, whole = await db(fetch)(r["Location"])
    with av.open(io.BytesIO(whole)) as f:
        assert f.streams.audio[0].codec_context.name == "aac"
        decoded = sum(frame.samples for frame in f.decode(audio=0)) / f.streams.audio[0].codec_context.sample_rate
    assert abs(decoded - 6.0) < 0.15

    # HLS: the master playlist names three bitrates; each variant's segments add up to the track.
    r = await db(get)(alice, f"/tracks/{track_id}/hls/master.m3u8")
    assert r.status_code == 200 and r["Content-Type"] == "application/vnd.apple.mpegurl"
    master = r.content.decode()
    bandwidths = [int(b) for b in re.findall(r"(?<!-)BANDWIDTH=(\d+)", master)]
    assert len(bandwidths) == 3 and bandwidths == sorted(bandwidths)
    variants = [line for line in master.splitlines() if line and not line.startswith("#")]
    for variant in variants:
        r = await db(get)(alice, f"/tracks/{track_id}/hls/{variant}")
        playlist = r.content.decode()
        assert playlist.startswith("#EXTM3U") and "#EXT-X-ENDLIST" in playlist
        assert abs(sum(float(d) for d in re.findall(r"#EXTINF:([\d.]+)", playlist)) - 6.0) < 0.3
        folder = variant.rsplit("/", 1)[0]
        first = next(line for line in playlist.splitlines() if line and not line.startswith("#"))
        r = await db(get)(alice, f"/tracks/{track_id}/hls/{folder}/{first}")
        assert r.status_code == 302  # a segment is a signed S3 URL
        _, _, segment = await db(fetch)(r["Location"])
        with av.open(io.BytesIO(segment)) as f:
            assert sum(1 for _ in f.decode(audio=0)) > 0

    # Cover thumbnails in each size, WebP, keeping the 4:3 shape.
    assert sorted(int(k) for k in track.covers) == [96, 300, 600]
    r = await db(get)(alice, f"/tracks/{track_id}/cover-300.webp")
    _, _, thumb = await db(fetch)(r["Location"])
    with Image.open(io.BytesIO(thumb)) as img:
        assert (img.format, img.size) == ("WEBP", (300, 225))


@run_async
async def test_a_damaged_upload_fails_with_its_reason_and_leaves_nothing_in_s3(guild, alice, s3, tmp_path):
    await db(celery_app.control.purge)()
    whole = audio.track_file(tmp_path / "a.wav", 8.0).read_bytes()
    # The header still promises 8 seconds: the upload is accepted, the worker's full decode is not.
    r = await db(upload)(alice, guild, whole[: len(whole) // 3], "cut.wav")
    assert r.status_code == 201, r.json()
    track_id = r.json()["id"]
    async with gateway(alice) as a:
        with servers.celery_worker(queues="media", env=s3.env()):
            while (update := await a.event("TRACK_UPDATE", timeout=90))["state"] != "failed":
                assert update["state"] != "ready"
    assert update["failure_reason"]
    track = await db(Track.objects.get)(pk=track_id)
    assert (track.state, track.failure_reason) == ("failed", update["failure_reason"])
    assert s3.keys(track.folder) == []
    r = await db(get)(alice, f"/api/tracks/{track_id}")
    assert r.json()["state"] == "failed" and r.json()["failure_reason"] == track.failure_reason


@run_async
async def test_a_step_cut_short_by_a_killed_worker_is_delivered_again(guild, alice, s3, tmp_path):
    """acks_late: a worker killed mid-step never acknowledged its task, so once the visibility
    timeout passes another worker takes it and the track still ends ready, with one set of files."""
    await db(celery_app.control.purge)()
    r = await db(upload)(alice, guild, audio.track_file(tmp_path / "long.wav", 60.0).read_bytes(), "long.wav")
    assert r.status_code == 201, r.json()
    track_id = r.json()["id"]
    async with gateway(alice) as a:
        with servers.celery_worker(queues="media", env=s3.env()) as first:
            while (update := await a.event("TRACK_UPDATE", timeout=90))["step"] != "renditions":
                pass
            await asyncio.sleep(1.0)  # into the encoding
            first.kill()
            first.wait(10)
        track = await db(Track.objects.get)(pk=track_id)
        assert (track.state, track.step) == ("processing", "renditions")  # cut short
        with servers.celery_worker(queues="media", env={**s3.env(), "CELERY_VISIBILITY_TIMEOUT": "2"}):
            while (update := await a.event("TRACK_UPDATE", timeout=120))["state"] not in ("ready", "failed"):
                pass
    assert update["state"] == "ready", update
    track = await db(Track.objects.get)(pk=track_id)
    assert abs(track.duration_ms - 60000) <= 100
    assert s3.keys(track.folder) == sorted(track.stored_names())
    r = await db(get)(alice, f"/tracks/{track_id}/hls/master.m3u8")
    assert r.status_code == 200 and r.content.count(b"#EXT-X-STREAM-INF") == 3


async def final_update(user, *, env: dict, pool: str = "solo", timeout: float = 60) -> dict:
    """Run a worker until the uploader's socket hears the track end ready or failed."""
    async with gateway(user) as a:
        with servers.celery_worker(queues="media", env=env, pool=pool):
            while (update := await a.event("TRACK_UPDATE", timeout=timeout))["state"] not in ("ready", "failed"):
                pass
    return update


@run_async
async def test_an_error_nobody_foresaw_fails_the_track_with_a_reason(guild, alice, s3, tmp_path):
    """A float WAV with a few NaN samples probes and draws, then stops FFmpeg's AAC encoder with an
    error no check names: the track must end failed, not stay `processing` forever."""
    await db(celery_app.control.purge)()
    signal = audio.stereo(audio.sine(44_100, 2.0))
    signal[:, 40_000:40_010] = np.nan
    nan_wav = audio.write_audio(tmp_path / "nan.wav", signal, muxer="wav", encoder="pcm_f32le", rate=44_100)
    r = await db(upload)(alice, guild, nan_wav.read_bytes(), "nan.wav")
    assert r.status_code == 201, r.json()
    update = await final_update(alice, env=s3.env())
    assert (update["id"], update["state"]) == (r.json()["id"], "failed")
    reason = "This audio could not be processed; converting it to MP3 or FLAC and uploading it again may help."
    assert update["failure_reason"] == reason
    track = await db(Track.objects.get)(pk=r.json()["id"])
    assert (track.state, track.failure_reason) == ("failed", reason) and s3.keys(track.folder) == []
    r = await db(get)(alice, f"/api/tracks/{track.id}")
    assert (r.json()["state"], r.json()["failure_reason"]) == ("failed", reason)
    r = await db(get)(alice, f"/tracks/{track.id}")
    assert reason in r.content.decode()


@run_async
async def test_7_1_audio_becomes_a_playable_stereo_track(guild, alice, s3):
    """Eight channels is the most a track may have; PyAV 18 crashed the worker drawing their waveform."""
    await db(celery_app.control.purge)()
    r = await db(upload)(alice, guild, audio.wav_bytes(8, 48_000, 2.0), "surround.wav")
    assert r.status_code == 201, r.json()
    update = await final_update(alice, env=s3.env())
    assert update["state"] == "ready", update
    track = await db(Track.objects.get)(pk=r.json()["id"])
    assert (track.channels, track.sample_rate, abs(track.duration_ms - 2000) <= 50) == (8, 48_000, True)
    r = await db(get)(alice, f"/tracks/{track.id}/peaks.json")
    peaks = json.loads(r.content)
    assert peaks["length"] > 100 and max(peaks["data"]) > 50  # the sine, at half scale
    r = await db(get)(alice, f"/tracks/{track.id}/stream.m4a")
    _, _, whole = await db(fetch)(r["Location"])
    with av.open(io.BytesIO(whole)) as f:
        assert f.streams.audio[0].codec_context.channels == 2


@run_async
async def test_a_step_past_its_time_limit_fails_the_track(guild, alice, s3, tmp_path):
    """TRACK_STEP_TIME_LIMIT bounds the CPU one step may take (prefork workers enforce it)."""
    await db(celery_app.control.purge)()
    r = await db(upload)(alice, guild, audio.track_file(tmp_path / "long.wav", 60.0).read_bytes(), "long.wav")
    assert r.status_code == 201, r.json()
    # The probe and the waveform of a minute of WAV take a few tenths of a second; its renditions, seconds.
    update = await final_update(alice, env={**s3.env(), "TRACK_STEP_TIME_LIMIT": "1.0"}, pool="prefork")
    assert (update["state"], update["failure_reason"]) == ("failed", "Processing this audio took too long.")
    track = await db(Track.objects.get)(pk=r.json()["id"])
    assert s3.keys(track.folder) == []

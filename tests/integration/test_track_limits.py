"""What audio the pipeline takes, and how much a member may upload in a day: refused at upload from
what the file states, and again by the probe from what decoding finds (a file that understates its
length, a track queued before the limits); a track the pipeline left still is failed by the sweep."""
from __future__ import annotations

import datetime
import os

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.core.events import user_group
from apps.tracks import pipeline
from apps.tracks.audio import NotAudio
from apps.tracks.models import Track, UploadDay
from tests import audio
from tests.factories import UserFactory, add_member
from tests.integration.test_events import listen  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _own_media_folder(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def alice(guild):
    return add_member(guild, UserFactory(username="alice")).user


def post(api, guild, data: bytes, name: str = "song.wav", language: str = "en"):
    body = {"file": SimpleUploadedFile(name, data), "title": "A song"}
    return api.post(f"/api/guilds/{guild.id}/tracks", body, format="multipart", HTTP_ACCEPT_LANGUAGE=language)


def stored_files() -> list[str]:
    root = os.path.join(default_storage.location, "tracks")
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]


def refused(r, status: int, code: str) -> str:
    assert r.status_code == status, r.json()
    error = r.json()["error"]
    assert error["code"] == code and error["fields"]["file"] == [error["message"]], error
    assert not Track.objects.exists() and stored_files() == []
    return error["message"]


def flac(samples: np.ndarray, rate: int, tmp_path, *, total_samples: int | None = None) -> bytes:
    """A FLAC file; `total_samples` replaces the length its STREAMINFO states (0: unknown)."""
    written = audio.write_audio(tmp_path / "a.flac", samples, muxer="flac", encoder="flac", rate=rate)
    data = bytearray(written.read_bytes())
    if total_samples is not None:  # 36 bits, from the low nibble of byte 21 (after "fLaC" and the block header)
        data[21] = (data[21] & 0xF0) | (total_samples >> 32)
        data[22:26] = (total_samples & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(data)


def stored_track(guild, owner, data: bytes, ext: str = "wav") -> Track:
    """A track queued before the upload checks existed (or by a path that skipped them)."""
    track = Track(owner=owner, guild=guild, title="Old upload", original_format=ext, original_size=len(data))
    track.original.save(f"original.{ext}", ContentFile(data), save=False)
    track.save()
    return track


# --- finding: channel counts the pipeline cannot take left tracks `processing` forever ---------------------------


@pytest.mark.parametrize("channels", [64, 255])
def test_audio_with_more_channels_than_the_pipeline_takes_is_refused_at_upload(api_as, guild, alice, channels):
    r = post(api_as(alice), guild, audio.wav_bytes(channels, 44_100, 0.1))
    message = refused(r, 400, "too_many_channels")
    assert message == f"This audio has {channels} channels; tracks have at most 8 (7.1)."


def test_the_probe_fails_a_queued_track_with_too_many_channels(guild, alice):
    track = stored_track(guild, alice, audio.wav_bytes(64, 44_100, 0.1))
    with pytest.raises(NotAudio):
        pipeline.probe_track(track.id)
    track.refresh_from_db()
    assert (track.state, track.failure_reason) == ("failed", "This audio has 64 channels; tracks have at most 8 (7.1).")
    assert stored_files() == []


# --- finding: audio out of proportion to its file cost minutes of CPU ------------------------------------------


@pytest.mark.parametrize("rate", [8, 4_000, 768_000])
def test_sample_rates_outside_8_to_384_khz_are_refused_at_upload(api_as, guild, alice, rate):
    data = audio.wav_bytes(1, rate, 2500 if rate == 8 else 0.05)  # at 8 Hz: 40 KB holding 2,500 s
    message = refused(post(api_as(alice), guild, data), 400, "unsupported_sample_rate")
    assert f"sampled at {rate} Hz" in message


def test_a_header_claiming_hours_in_a_small_file_is_refused_at_upload(api_as, guild, alice, tmp_path):
    wav = audio.wav_bytes(2, 44_100, 0.2, data_size=0xFFFFFFF0)  # "6:45:48" in 35 KB
    refused(post(api_as(alice), guild, wav), 400, "out_of_proportion")
    ten_hours = flac(audio.stereo(audio.sine(44_100, 1.0)), 44_100, tmp_path, total_samples=44_100 * 36_000)
    message = refused(post(api_as(alice), guild, ten_hours, name="a.flac"), 400, "out_of_proportion")
    assert "damaged, or almost nothing but silence" in message


def test_a_file_of_silence_is_refused_at_upload(api_as, guild, alice, tmp_path):
    silence = flac(np.zeros((1, 8_000 * 600), np.float32), 8_000, tmp_path)  # 10 minutes in 112 KB
    refused(post(api_as(alice), guild, silence, name="a.flac"), 400, "out_of_proportion")


def test_the_probe_stops_decoding_silence_whose_length_is_unstated(guild, alice, tmp_path):
    silence = flac(np.zeros((1, 8_000 * 600), np.float32), 8_000, tmp_path, total_samples=0)
    track = stored_track(guild, alice, silence, "flac")
    with pytest.raises(NotAudio, match="almost nothing but silence"):
        pipeline.probe_track(track.id)
    track.refresh_from_db()
    assert track.state == "failed" and "almost nothing but silence" in track.failure_reason


def test_audio_longer_than_track_max_seconds_is_refused_at_upload(api_as, guild, alice, settings):
    settings.TRACK_MAX_SECONDS = 2
    refused(post(api_as(alice), guild, audio.wav_bytes(2, 44_100, 3.0)), 400, "too_long")


def test_a_member_uploads_at_most_track_daily_seconds_a_day(api_as, guild, alice, settings):
    settings.TRACK_DAILY_SECONDS = 5
    api = api_as(alice)
    first = post(api, guild, audio.wav_bytes(2, 44_100, 3.0))
    assert first.status_code == 201, first.json()
    r = post(api, guild, audio.wav_bytes(2, 44_100, 3.0))
    assert r.status_code == 429 and r.json()["error"]["code"] == "daily_limit"
    assert r.json()["error"]["message"] == "You can upload 0:05 of audio a day; try again tomorrow."
    assert 0 < int(r["Retry-After"]) <= 86_400
    assert Track.objects.count() == 1
    # Deleting a track does not give its seconds back.
    assert api.delete(f"/api/tracks/{first.json()['id']}").status_code == 204
    assert post(api, guild, audio.wav_bytes(2, 44_100, 3.0)).status_code == 429
    r = post(api, guild, audio.wav_bytes(2, 44_100, 1.5), language="fr")
    assert r.status_code == 201, r.json()  # what is left of the day
    r = post(api, guild, audio.wav_bytes(2, 44_100, 1.0), language="fr")
    assert r.status_code == 429
    assert r.json()["error"]["message"] == ("Tu peux téléverser 0:05 d'audio par jour ; "
                                            "réessaie demain.")
    # Another member has a day of their own.
    bob = add_member(guild, UserFactory(username="bob")).user
    assert post(api_as(bob), guild, audio.wav_bytes(2, 44_100, 3.0)).status_code == 201


def understating_mp3(tmp_path) -> bytes:
    """An MP3 without a Xing frame states no length: FFmpeg estimates one from the first frame's bit rate. One
    second at 320 kb/s, then a minute at 32 kb/s: estimated at 9 s, decoded at 61 s."""
    plain = {"id3v2_version": "0", "write_xing": "0"}
    parts = [audio.write_audio(tmp_path / f"{seconds}.mp3", audio.stereo(audio.sine(44_100, seconds)), muxer="mp3",
                           encoder="libmp3lame", rate=44_100, options=plain, bit_rate=bit_rate).read_bytes()
             for seconds, bit_rate in ((1, 320_000), (60, 32_000))]
    return b"".join(parts)


def test_the_probe_holds_a_file_that_understates_its_length_to_the_day(api_as, guild, alice, settings, tmp_path):
    settings.TRACK_DAILY_SECONDS = 40
    assert post(api_as(alice), guild, audio.wav_bytes(1, 8_000, 10.0)).status_code == 201
    r = post(api_as(alice), guild, understating_mp3(tmp_path), name="a.mp3")
    assert r.status_code == 201, r.json()  # charged its estimate: 10 + 9 s of 40
    original = Track.objects.get(pk=r.json()["id"]).original.name
    with pytest.raises(NotAudio, match="a day"):
        pipeline.probe_track(r.json()["id"])  # the decode stops at 30 s, what was left of the day
    track = Track.objects.get(pk=r.json()["id"])
    assert (track.state, track.failure_reason) == ("failed", "You can upload 0:40 of audio a day; try again tomorrow.")
    assert UploadDay.objects.get(user=alice).audio_ms == 40_000
    assert not default_storage.exists(original)


def test_the_probe_corrects_the_day_to_the_decoded_length(api_as, guild, alice, tmp_path):
    track_id = post(api_as(alice), guild, understating_mp3(tmp_path), name="a.mp3").json()["id"]
    assert 8_000 < UploadDay.objects.get(user=alice).audio_ms < 10_000
    assert pipeline.probe_track(track_id) == "done"
    assert pipeline.probe_track(track_id) == "done"  # a probe delivered twice corrects once
    duration = Track.objects.get(pk=track_id).duration_ms
    assert abs(duration - 61_000) < 200 and abs(UploadDay.objects.get(user=alice).audio_ms - duration) <= 1


# --- a track the pipeline left still -----------------------------------------------------------------------------


def test_the_sweep_fails_tracks_left_processing_and_tells_their_owner(guild, alice, settings, listen):  # noqa: F811
    settings.TRACK_STALLED_AFTER = 3600
    long_ago = timezone.now() - datetime.timedelta(hours=2)
    stuck = stored_track(guild, alice, audio.wav_bytes(2, 44_100, 0.5))
    Track.objects.filter(pk=stuck.pk).update(state="processing", step="renditions", progressed_at=long_ago)
    default_storage.save(f"{stuck.folder}hls/64k/seg_000.ts", ContentFile(b"a killed worker's segment"))
    never_started = stored_track(guild, alice, audio.wav_bytes(2, 44_100, 0.5))
    Track.objects.filter(pk=never_started.pk).update(progressed_at=long_ago)
    busy = stored_track(guild, alice, audio.wav_bytes(2, 44_100, 0.5))
    Track.objects.filter(pk=busy.pk).update(state="processing", step="waveform")
    ready = stored_track(guild, alice, audio.wav_bytes(2, 44_100, 0.5))
    Track.objects.filter(pk=ready.pk).update(state="ready", duration_ms=500, progressed_at=long_ago)
    owners_tabs = listen(user_group(alice.id))

    assert pipeline.fail_stalled_tracks() == 2
    reason = "Processing stopped part way; please upload the track again."
    states = dict(Track.objects.values_list("id", "state"))
    assert states == {stuck.id: "failed", never_started.id: "failed", busy.id: "processing", ready.id: "ready"}
    assert Track.objects.get(pk=stuck.pk).failure_reason == reason
    updates = [owners_tabs.receive() for _ in range(2)]
    assert {(u["t"], u["d"]["id"], u["d"]["state"], u["d"]["failure_reason"]) for u in updates} == {
        ("TRACK_UPDATE", stuck.id, "failed", reason), ("TRACK_UPDATE", never_started.id, "failed", reason)}
    kept = sorted(os.path.join(default_storage.location, t.original.name) for t in (busy, ready))
    assert sorted(stored_files()) == kept  # the stalled tracks' folders are empty, leftovers included
    assert pipeline.fail_stalled_tracks() == 0

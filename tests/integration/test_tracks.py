"""Tracks through the API and the media views, on the local storage: uploads refused for what they
are (not for their names), nothing stored when refused, and the stream answering Range requests."""
from __future__ import annotations

import io
import os

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.guilds.permissions import Permission
from apps.tracks import pipeline
from apps.tracks.models import Track
from apps.tracks.views import parse_range
from tests import audio
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _own_media_folder(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def alice(guild):
    return add_member(guild, UserFactory(username="alice")).user


@pytest.fixture
def sine_mp3(tmp_path) -> bytes:
    return audio.track_file(tmp_path / "s.mp3", 3.0).read_bytes()


def post(api, guild, data: bytes, name: str = "song.mp3", language: str = "en", **fields):
    body = {"file": SimpleUploadedFile(name, data), "title": "A song", **fields}
    return api.post(f"/api/guilds/{guild.id}/tracks", body, format="multipart", HTTP_ACCEPT_LANGUAGE=language)


def stored_files() -> list[str]:
    root = default_storage.location
    return [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(root, "tracks")) for f in fs]


def processed(track_id: int) -> Track:
    """Run the pipeline's steps here, as a worker would."""
    for step in (pipeline.probe_track, pipeline.make_waveform, pipeline.make_renditions, pipeline.make_artwork):
        step(track_id)
    return Track.objects.get(pk=track_id)


def test_a_member_uploads_and_the_track_is_queued(api_as, guild, alice, sine_mp3):
    r = post(api_as(alice), guild, sine_mp3, name="whatever.bin", tags="Lo-Fi, #chill, lo-fi", genre="Chill")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["state"], body["title"], body["genre"]) == ("uploaded", "A song", "Chill")
    assert body["tags"] == ["chill", "lo-fi"]
    track = Track.objects.get(pk=body["id"])
    assert track.original_format == "mp3" and track.original.name.endswith("original.mp3")  # by content, not name


@pytest.mark.parametrize("name, data, code", [
    ("fake.mp3", b"This is a text file, not a song.\n" * 50, "not_audio"),
    ("random.ogg", os.urandom(20000), "not_audio"),
    ("empty.wav", b"", "empty_audio"),
])
def test_files_that_are_not_audio_are_refused_and_nothing_is_stored(api_as, guild, alice, name, data, code):
    r = post(api_as(alice), guild, data, name=name)
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == code and r.json()["error"]["fields"]["file"]
    assert not Track.objects.exists() and stored_files() == []


def test_an_image_renamed_mp3_is_not_audio(api_as, guild, alice):
    png = io.BytesIO()
    Image.new("RGB", (64, 64)).save(png, "PNG")
    r = post(api_as(alice), guild, png.getvalue(), name="cover.mp3")
    assert r.status_code == 400 and r.json()["error"]["code"] == "not_audio"


def test_too_large_uploads_get_413(api_as, guild, alice, sine_mp3, settings):
    settings.TRACK_MAX_BYTES = 10_000
    r = post(api_as(alice), guild, sine_mp3)
    assert r.status_code == 413 and r.json()["error"]["code"] == "file_too_large"
    assert "MB" in r.json()["error"]["message"]
    assert not Track.objects.exists() and stored_files() == []


def test_a_bad_cover_or_title_refuses_the_whole_upload(api_as, guild, alice, sine_mp3):
    r = post(api_as(alice), guild, sine_mp3, cover=SimpleUploadedFile("c.png", b"\x89PNG\r\n\x1a\nnot really"))
    assert r.status_code == 400 and "cover" in r.json()["error"]["fields"]
    r = post(api_as(alice), guild, sine_mp3, title="   ")
    assert r.status_code == 400 and "title" in r.json()["error"]["fields"]
    r = post(api_as(alice), guild, sine_mp3, tags=",".join(f"t{i}" for i in range(11)))
    assert r.status_code == 400 and "tags" in r.json()["error"]["fields"]
    assert not Track.objects.exists() and stored_files() == []


def test_only_members_with_upload_tracks_may_upload(api_as, guild, alice, sine_mp3):
    outsider = UserFactory(username="outsider")
    r = post(api_as(outsider), guild, sine_mp3)
    assert r.status_code == 404
    everyone = guild.roles.get(is_default=True)
    everyone.permissions = int(everyone.permissions) & ~Permission.UPLOAD_TRACKS
    everyone.save()
    r = post(api_as(alice), guild, sine_mp3)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "missing_permission" and r.json()["error"]["permission"] == "UPLOAD_TRACKS"
    assert stored_files() == []


def test_a_ready_track_streams_with_range_requests(api_as, client, guild, alice, sine_mp3):
    track_id = post(api_as(alice), guild, sine_mp3).json()["id"]
    track = processed(track_id)
    assert track.state == "ready" and abs(track.duration_ms - 3000) <= 100
    client.force_login(alice)
    r = client.get(f"/tracks/{track_id}/stream.m4a")
    whole = b"".join(r.streaming_content)
    assert r.status_code == 200 and r["Accept-Ranges"] == "bytes" and len(whole) == track.stream_size

    r = client.get(f"/tracks/{track_id}/stream.m4a", HTTP_RANGE="bytes=100-199")
    assert r.status_code == 206 and r["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert b"".join(r.streaming_content) == whole[100:200]
    r = client.get(f"/tracks/{track_id}/stream.m4a", HTTP_RANGE="bytes=-50")  # the last 50 bytes
    assert r.status_code == 206 and b"".join(r.streaming_content) == whole[-50:]
    r = client.get(f"/tracks/{track_id}/stream.m4a", HTTP_RANGE="bytes=1000-")
    assert b"".join(r.streaming_content) == whole[1000:]
    for bad in (f"bytes={len(whole)}-", "bytes=50-10", "bytes=abc", "items=0-1", "bytes=-0"):
        r = client.get(f"/tracks/{track_id}/stream.m4a", HTTP_RANGE=bad)
        assert r.status_code == 416, bad
        assert r["Content-Range"] == f"bytes */{len(whole)}"

    api = api_as(alice)
    body = api.get(f"/api/tracks/{track_id}").json()
    assert body["stream_url"] == f"/tracks/{track_id}/stream.m4a" and body["hls_url"].endswith("master.m3u8")
    assert [t["id"] for t in api.get(f"/api/guilds/{guild.id}/tracks").json()] == [track_id]


def test_media_is_served_only_to_members(api_as, client, guild, alice, sine_mp3):
    track_id = post(api_as(alice), guild, sine_mp3).json()["id"]
    processed(track_id)
    client.force_login(UserFactory(username="outsider"))
    for path in ("stream.m4a", "peaks.json", "hls/master.m3u8"):
        assert client.get(f"/tracks/{track_id}/{path}").status_code == 404
    assert api_as(UserFactory()).get(f"/api/tracks/{track_id}").status_code == 404


def test_a_track_is_not_playable_before_it_is_ready(api_as, client, guild, alice, sine_mp3):
    track_id = post(api_as(alice), guild, sine_mp3).json()["id"]
    client.force_login(alice)
    assert client.get(f"/tracks/{track_id}/stream.m4a").status_code == 404
    assert api_as(alice).get(f"/api/tracks/{track_id}").json()["state"] == "uploaded"


def test_deleting_a_track_removes_its_files(api_as, guild, alice, sine_mp3):
    track_id = post(api_as(alice), guild, sine_mp3).json()["id"]
    processed(track_id)
    assert len(stored_files()) > 5
    bob = add_member(guild, UserFactory(username="bob")).user
    assert api_as(bob).delete(f"/api/tracks/{track_id}").status_code == 403
    assert api_as(alice).delete(f"/api/tracks/{track_id}").status_code == 204
    assert not Track.objects.exists() and stored_files() == []


@pytest.mark.parametrize("header, size, expected", [
    ("", 1000, None),
    ("bytes=0-99", 1000, (0, 99)),
    ("bytes=900-", 1000, (900, 999)),
    ("bytes=-100", 1000, (900, 999)),
    ("bytes=-5000", 1000, (0, 999)),
    ("bytes=990-2000", 1000, (990, 999)),
])
def test_parse_range(header, size, expected):
    assert parse_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-1", "bytes=-", "bytes=1-2,4-5", "lines=1-2", "bytes=-0"])
def test_parse_range_refuses(header):
    with pytest.raises(ValueError):
        parse_range(header, 1000)


def test_the_tracks_page_and_its_errors_speak_french(api_as, client, guild, alice, sine_mp3, settings):
    settings.TRACK_MAX_BYTES = 10_000
    client.force_login(alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get(f"/guilds/{guild.id}/tracks").content.decode()
    section = page[page.find("tracks-page"):][:3000]
    assert "Téléverser un morceau" in section and "Aucun morceau pour l'instant." in section
    r = post(api_as(alice), guild, sine_mp3, language="fr")
    assert r.status_code == 413 and r.json()["error"]["message"] == "Les morceaux ne peuvent pas dépasser 0 Mo."

"""Artist tools: editing a track after its upload (API and page), a scheduled release published by
the beat task, the download toggle, Insights counting plays per day, and replacing the audio on a
real Celery worker while the track keeps its likes, comments and plays."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.guilds.permissions import Permission
from apps.tracks import services, stats, tasks
from apps.tracks.models import Track, TrackComment, TrackPlay
from celery_app import app as celery_app
from tests import audio, servers
from tests.factories import UserFactory, add_member, add_member_with, make_guild, make_track
from tests.integration.test_gateway import db, run_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _own_media_folder(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def get(user, path: str):
    return page_as(user).get(path)


def page_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- editing ------------------------------------------------------------------------------------------

def test_the_owner_edits_a_track_and_members_see_the_new_text(guild, owner, alice):
    song = make_track(guild, owner, title="Night Drive", tags=["synth"])
    r = api_as(owner).patch(f"/api/tracks/{song.id}", {
        "title": "Night Drive (2026 mix)", "description": "Remastered", "genre": "Synthwave",
        "tags": ["synth", "retro"], "credits": "Mixed by Ada", "licence": "cc-by-sa", "downloadable": True},
        format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (body["title"], body["licence"], body["downloadable"]) == ("Night Drive (2026 mix)", "cc-by-sa", True)
    assert body["tags"] == ["retro", "synth"] and body["download_url"] == f"/tracks/{song.id}/download"
    seen = api_as(alice).get(f"/api/tracks/{song.id}").json()
    assert seen["title"] == "Night Drive (2026 mix)" and seen["genre"] == "Synthwave"
    assert [t.id for t in services.readable_tracks(alice).filter(search_text__icontains="retro")] == [song.id]
    page = page_as(alice).get(f"/tracks/{song.id}").content.decode()
    assert "Mixed by Ada" in page and "CC BY-SA" in page


def test_someone_elses_track_needs_manage_tracks_and_a_refusal_changes_nothing(guild, owner, alice):
    song = make_track(guild, owner, title="Night Drive")
    r = api_as(alice).patch(f"/api/tracks/{song.id}", {"title": "Mine now"}, format="json")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert page_as(alice).post(f"/tracks/{song.id}/edit", {"title": "Mine now"}).status_code == 403
    outsider = UserFactory(username="mallory")
    assert api_as(outsider).patch(f"/api/tracks/{song.id}", {"title": "x"}, format="json").status_code == 404
    assert Track.objects.get(pk=song.id).title == "Night Drive"

    moderator = add_member_with(guild, Permission.MANAGE_TRACKS, user=UserFactory(username="mod")).user
    r = api_as(moderator).patch(f"/api/tracks/{song.id}", {"title": "Night Drive (edited)"}, format="json")
    assert r.status_code == 200 and Track.objects.get(pk=song.id).title == "Night Drive (edited)"


def test_bad_edits_are_refused_whole(guild, owner):
    song = make_track(guild, owner, title="Night Drive")
    api = api_as(owner)
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    r = api.patch(f"/api/tracks/{song.id}", {"title": "New", "release_at": past}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "release_in_past"
    far = (timezone.now() + timedelta(days=400)).isoformat()
    r = api.patch(f"/api/tracks/{song.id}", {"title": "New", "release_at": far}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "release_too_far"
    r = api.patch(f"/api/tracks/{song.id}", {"licence": "public-domain-ish"}, format="json")
    assert r.status_code == 400 and "licence" in r.json()["error"]["fields"]
    r = api.patch(f"/api/tracks/{song.id}", {"title": ""}, format="json")
    assert r.status_code == 400
    assert Track.objects.get(pk=song.id).title == "Night Drive"


def test_the_edit_page_saves_the_form_and_shows_errors_in_french(guild, owner):
    song = make_track(guild, owner, title="Night Drive")
    client = page_as(owner)
    assert client.get(f"/tracks/{song.id}/edit").status_code == 200
    r = client.post(f"/tracks/{song.id}/edit", {"title": "Dawn Drive", "licence": "cc0", "tags": "a, b",
                                                "downloadable": "on", "release_at": ""})
    assert r.status_code == 200
    song.refresh_from_db()
    assert (song.title, song.licence, song.downloadable) == ("Dawn Drive", "cc0", True)
    r = client.post(f"/tracks/{song.id}/edit", {"title": "Later", "licence": "arr", "release_at": "2001-01-01T10:00"},
                    HTTP_ACCEPT_LANGUAGE="fr")
    assert r.status_code == 400 and "La date de sortie doit être dans le futur." in r.content.decode()
    assert Track.objects.get(pk=song.id).title == "Dawn Drive"


# --- scheduled release --------------------------------------------------------------------------------

def test_a_scheduled_track_is_its_owners_until_the_beat_task_publishes_it(guild, owner, alice):
    song = make_track(guild, owner, title="Night Drive")
    when = timezone.now() + timedelta(days=2)
    r = api_as(owner).patch(f"/api/tracks/{song.id}", {"release_at": when.isoformat()}, format="json")
    assert r.status_code == 200 and r.json()["released"] is False
    assert api_as(alice).get(f"/api/tracks/{song.id}").status_code == 404
    assert song.id not in [t["id"] for t in api_as(alice).get(f"/api/guilds/{guild.id}/tracks").json()]
    assert api_as(owner).get(f"/api/tracks/{song.id}").status_code == 200

    job = celery_app.conf.beat_schedule["publish-released-tracks"]
    assert job["task"] == "tracks.publish_released_tracks" and job["schedule"] <= 60
    assert tasks.publish_released_tracks() == 0  # not yet
    Track.objects.filter(pk=song.id).update(release_at=timezone.now() - timedelta(seconds=1))  # its time came
    assert tasks.publish_released_tracks() == 1
    assert api_as(alice).get(f"/api/tracks/{song.id}").status_code == 200
    assert song.id in [t["id"] for t in api_as(alice).get(f"/api/guilds/{guild.id}/tracks").json()]


# --- download -----------------------------------------------------------------------------------------

def test_the_original_downloads_only_when_its_owner_allows_it(guild, owner, alice, tmp_path):
    data = audio.track_file(tmp_path / "s.mp3", 1.0).read_bytes()
    song = make_track(guild, owner, title="Night Drive")
    song.original.save("original.mp3", SimpleUploadedFile("s.mp3", data))
    assert page_as(alice).get(f"/tracks/{song.id}/download").status_code == 403
    assert page_as(UserFactory(username="mallory")).get(f"/tracks/{song.id}/download").status_code == 404
    api_as(owner).patch(f"/api/tracks/{song.id}", {"downloadable": True}, format="json")
    r = page_as(alice).get(f"/tracks/{song.id}/download")
    assert r.status_code == 200 and b"".join(r.streaming_content) == data
    assert r["Content-Disposition"].startswith("attachment;") and "night-drive.mp3" in r["Content-Disposition"]


# --- insights -----------------------------------------------------------------------------------------

def test_insights_count_plays_listeners_and_likes_per_day(guild, owner, alice, bob):
    song = make_track(guild, owner, title="Night Drive")
    today = datetime(2026, 12, 6, 12, tzinfo=UTC)
    yesterday = today - timedelta(days=1)
    services.record_play(user=alice, track_id=song.id, at=yesterday)
    services.record_play(user=alice, track_id=song.id, at=yesterday + timedelta(hours=2))  # once a day
    services.record_play(user=alice, track_id=song.id, at=today)
    services.record_play(user=bob, track_id=song.id, at=today)
    services.like_track(user=bob, track_id=song.id)
    found = stats.track_insights(song, days=7, today=today.date())
    by_day = {d.day: d for d in found.days}
    assert len(found.days) == 7 and found.days[-1].day == today.date()
    assert by_day[yesterday.date()].plays == 1 and by_day[today.date()].plays == 2
    assert found.listeners == 2 and found.totals["plays"] == 3
    assert TrackPlay.objects.filter(track=song).count() == 3

    assert api_as(alice).get(f"/api/tracks/{song.id}/insights").status_code == 403
    body = api_as(owner).get(f"/api/tracks/{song.id}/insights?days=3").json()
    assert len(body["days"]) == 3 and body["listeners"] >= 1
    for bad in ("", "soon", "0", "366"):  # an empty value is not "the default" (it is documented as 1-365)
        r = api_as(owner).get(f"/api/tracks/{song.id}/insights?days={bad}")
        assert r.status_code == 400 and "days" in r.json()["error"]["fields"], bad
    page = page_as(owner).get(f"/tracks/{song.id}/insights")
    assert page.status_code == 200 and b"<svg" in page.content


# --- replacing the audio ------------------------------------------------------------------------------

def test_a_replacement_that_is_not_audio_or_too_long_changes_nothing(guild, owner, settings, tmp_path):
    song = make_track(guild, owner, title="Night Drive", duration_ms=3000)
    api = api_as(owner)
    r = api.post(f"/api/tracks/{song.id}/audio", {"file": SimpleUploadedFile("x.mp3", b"not audio" * 100)},
                 format="multipart")
    assert r.status_code == 400 and r.json()["error"]["code"] == "not_audio"
    settings.TRACK_MAX_SECONDS = 2
    long = audio.track_file(tmp_path / "long.flac", 4.0).read_bytes()
    r = api.post(f"/api/tracks/{song.id}/audio", {"file": SimpleUploadedFile("l.flac", long)}, format="multipart")
    assert r.status_code == 400 and r.json()["error"]["code"] == "too_long"
    assert Track.objects.count() == 1 and Track.objects.get(pk=song.id).duration_ms == 3000
    other = make_track(make_guild(UserFactory(username="x")), title="theirs")
    add_member(other.guild, owner)
    r = api.post(f"/api/tracks/{other.id}/audio", {"file": SimpleUploadedFile("l.flac", long)}, format="multipart")
    assert r.status_code == 403


async def until(predicate, timeout: float = 120):
    for _ in range(int(timeout * 5)):
        found = await db(predicate)()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError("timed out")


@run_async
async def test_replacing_the_audio_keeps_likes_comments_and_plays_on_a_real_worker(guild, owner, alice, s3, tmp_path):
    assert not celery_app.conf.task_always_eager
    await db(celery_app.control.purge)()
    first = audio.track_file(tmp_path / "a.flac", 4.0).read_bytes()
    r = await db(lambda *a, **k: api_as(owner).post(*a, **k))(f"/api/guilds/{guild.id}/tracks",
                                     {"file": SimpleUploadedFile("a.flac", first), "title": "Night Drive"},
                                     format="multipart")
    track_id = r.json()["id"]
    with servers.celery_worker(queues="media", env=s3.env()):
        await until(lambda: Track.objects.filter(pk=track_id, state="ready").exists())
        await db(services.like_track)(user=alice, track_id=track_id)
        await db(services.record_play)(user=alice, track_id=track_id)
        await db(services.comment_on_track)(author=alice, track_id=track_id, body="at the end", position_ms=3500)
        before = await db(Track.objects.get)(pk=track_id)

        second = audio.track_file(tmp_path / "b.flac", 2.0).read_bytes()
        r = await db(api_as(owner).post)(f"/api/tracks/{track_id}/audio",
                                         {"file": SimpleUploadedFile("b.flac", second)}, format="multipart")
        assert r.status_code == 202, r.json()
        # Until the new audio is ready, the old one plays.
        r = await db(get)(alice, f"/tracks/{track_id}/stream.m4a")
        assert r.status_code == 302
        after = await until(lambda: Track.objects.filter(pk=track_id, duration_ms__lt=3000).first())

    assert abs(after.duration_ms - 2000) <= 100 and after.state == "ready"
    assert (after.like_count, after.play_count, after.comment_count) == (1, 1, 1)
    assert after.key != before.key and after.stream != before.stream
    assert await db(Track.objects.count)() == 1  # the replacement's row is gone
    # Only the new media remain in the bucket; the old folder keeps nothing but what is still named.
    assert not s3.keys(before.folder)
    assert s3.keys(after.folder) == sorted(after.stored_names())
    comment = await db(TrackComment.objects.get)(track_id=track_id)
    assert comment.position_ms == 3500  # kept; the page shows it at the end
    r = await db(get)(alice, f"/tracks/{track_id}")
    assert "at the end" in r.content.decode()


def test_a_new_cover_gets_new_thumbnails_and_the_old_ones_go(guild, owner, alice):
    import io

    from django.core.files.storage import default_storage
    from PIL import Image

    def png(color) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (640, 480), color).save(out, "PNG")
        return out.getvalue()

    song = make_track(guild, owner, title="Night Drive")
    client = page_as(owner)
    r = client.post(f"/tracks/{song.id}/edit", {"title": "Night Drive", "licence": "arr",
                                                "cover": SimpleUploadedFile("a.png", png("red"))})
    assert r.status_code == 200
    first = Track.objects.get(pk=song.id).covers
    assert sorted(first) == ["300", "600", "96"] and all(default_storage.exists(n) for n in first.values())
    r = client.post(f"/tracks/{song.id}/edit", {"title": "Night Drive", "licence": "arr",
                                                "cover": SimpleUploadedFile("b.png", png("blue"))})
    second = Track.objects.get(pk=song.id).covers
    assert set(second.values()).isdisjoint(first.values())
    assert not any(default_storage.exists(n) for n in first.values())
    assert page_as(alice).get(f"/tracks/{song.id}/cover-96.webp").status_code == 200
    r = client.post(f"/tracks/{song.id}/edit", {"title": "Night Drive", "licence": "arr",
                                                "cover": SimpleUploadedFile("c.png", b"not an image")})
    assert r.status_code == 400 and Track.objects.get(pk=song.id).covers == second


def test_a_failed_replacement_leaves_the_track_as_it_was_and_says_why(guild, owner, alice, tmp_path):
    from apps.tracks import pipeline

    first = audio.track_file(tmp_path / "a.flac", 3.0).read_bytes()
    r = api_as(owner).post(f"/api/guilds/{guild.id}/tracks", {"file": SimpleUploadedFile("a.flac", first),
                                                              "title": "Night Drive"}, format="multipart")
    track_id = r.json()["id"]
    for step in (pipeline.probe_track, pipeline.make_waveform, pipeline.make_renditions, pipeline.make_artwork):
        step(track_id)  # the pipeline's steps, run here in order as the worker runs them
    before = Track.objects.get(pk=track_id)
    assert before.state == "ready"

    second = audio.track_file(tmp_path / "b.flac", 2.0).read_bytes()
    api = api_as(owner)
    r = api.post(f"/api/tracks/{track_id}/audio", {"file": SimpleUploadedFile("b.flac", second)}, format="multipart")
    assert r.status_code == 202 and r.json()["state"] == "uploaded"
    r = api.post(f"/api/tracks/{track_id}/audio", {"file": SimpleUploadedFile("b.flac", second)}, format="multipart")
    assert r.status_code == 409 and r.json()["error"]["code"] == "replacement_pending"
    replacement = Track.objects.get(replaces_id=track_id)
    # Nobody sees the replacement: not in the guild's list, not by its id.
    assert [t["id"] for t in api.get(f"/api/guilds/{guild.id}/tracks").json()] == [track_id]
    assert api.get(f"/api/tracks/{replacement.id}").status_code == 404

    pipeline.fail_track(replacement.id, reason="The file is damaged.")
    after = Track.objects.get(pk=track_id)
    assert (after.key, after.stream, after.duration_ms, after.state) == (
        before.key, before.stream, before.duration_ms, "ready")
    assert page_as(alice).get(f"/tracks/{track_id}/stream.m4a").status_code == 200
    assert "The file is damaged." in page_as(owner).get(f"/tracks/{track_id}/edit").content.decode()

    # Another try goes through: its steps, then the swap; the old media are deleted.
    r = api.post(f"/api/tracks/{track_id}/audio", {"file": SimpleUploadedFile("b.flac", second)}, format="multipart")
    assert r.status_code == 202
    replacement = Track.objects.get(replaces_id=track_id, state="uploaded")
    for step in (pipeline.probe_track, pipeline.make_waveform, pipeline.make_renditions, pipeline.make_artwork):
        step(replacement.id)
    after = Track.objects.get(pk=track_id)
    assert abs(after.duration_ms - 2000) <= 100 and after.key == replacement.key
    assert Track.objects.filter(replaces_id=track_id).count() == 0
    from django.core.files.storage import default_storage

    assert not any(default_storage.exists(n) for n in [before.original.name, before.stream, *before.hls_files])
    assert all(default_storage.exists(n) for n in after.stored_names())

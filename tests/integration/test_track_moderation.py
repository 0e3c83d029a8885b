"""Tracks and their comments under moderation: a real worker scores an uploaded track's title and
description and each new comment with the messages' scorer and the guild's thresholds; a comment
over the hide threshold leaves the other members' open pages and lists (its author keeps it, marked
held) until a moderator decides in the same admin queue as messages."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.guilds.models import AuditLogEntry
from apps.moderation import services
from apps.moderation.models import Flag
from apps.tracks import services as tracks
from apps.tracks.models import Track, TrackComment
from celery_app import app as celery_app
from tests import audio, servers
from tests.factories import UserFactory, make_track
from tests.integration.test_gateway import alice, bob, db, gateway, run_async  # noqa: F401
from tests.integration.test_moderation import ABUSIVE, CLEAN, admin_client, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("moderators_group")]


@pytest.fixture(autouse=True)
def _own_media_folder(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def comments_seen_by(user, track) -> dict[int, bool]:
    r = api_as(user).get(f"/api/tracks/{track.id}/comments")
    assert r.status_code == 200
    return {c["id"]: c["held"] for c in r.json()}


def test_a_worker_scores_uploaded_tracks_and_the_queue_gets_the_abusive_one(guild, alice, tmp_path):  # noqa: F811
    data = audio.track_file(tmp_path / "s.mp3", 2.0).read_bytes()
    ids = []
    for title, description in (("Sunday morning", CLEAN), ("For my ex", ABUSIVE)):
        r = api_as(alice).post(f"/api/guilds/{guild.id}/tracks", {
            "file": SimpleUploadedFile("s.mp3", data), "title": title, "description": description},
            format="multipart")
        assert r.status_code == 201, r.json()
        ids.append(r.json()["id"])
    with servers.celery_worker(queues="moderation"):
        wait_for(lambda: Flag.objects.filter(kind="track").count() == 2)
    clean, abusive = (Flag.objects.get(track_id=i) for i in ids)
    assert (clean.state, abusive.state) == ("clean", "open")
    assert abusive.content == f"For my ex\n{ABUSIVE}" and abusive.author == alice and abusive.channel is None
    assert not abusive.auto_hidden  # tracks wait for a moderator; they are not held


def test_track_scores_follow_the_guilds_thresholds(guild, owner, alice):  # noqa: F811
    mild = make_track(guild, alice, title="this track is crap")  # about 0.98
    services.set_thresholds(actor=owner, guild=guild, review_at=0.99, hide_at=1.0)
    assert services.score_track(track_id=mild.id).state == "clean"
    other = make_track(guild, alice, title="this track is crap", description="really")
    services.set_thresholds(actor=owner, guild=guild, review_at=0.5, hide_at=0.9)
    assert services.score_track(track_id=other.id).state == "open"


def test_an_upload_queues_its_scoring(guild, alice, tmp_path, monkeypatch):  # noqa: F811
    from apps.moderation import tasks

    queued = []
    monkeypatch.setattr(tasks.score_track, "delay", queued.append)
    data = audio.track_file(tmp_path / "s.mp3", 2.0).read_bytes()
    track = tracks.upload_track(uploader=alice, guild_id=guild.id, upload=SimpleUploadedFile("s.mp3", data),
                                title="A song", description=ABUSIVE)
    assert queued == [track.id]


@run_async
async def test_an_abusive_comment_is_held_from_others_until_a_moderator_decides(guild, owner, alice, bob):  # noqa: F811
    track = await db(make_track)(guild, owner)
    await db(celery_app.control.purge)()
    async with gateway(bob) as b:
        clean = await db(tracks.comment_on_track)(author=alice, track_id=track.id, body=CLEAN, position_ms=1000)
        rude = await db(tracks.comment_on_track)(author=alice, track_id=track.id, body=ABUSIVE, position_ms=2000)
        for c in (clean, rude):
            assert (await b.event("TRACK_COMMENT_CREATE"))["id"] == c.id  # shown first, scored after
        with servers.celery_worker(queues="moderation"):
            gone = await b.event("TRACK_COMMENT_DELETE", timeout=60)
            assert gone["id"] == rude.id
            await db(wait_for)(lambda: Flag.objects.filter(kind="track_comment").count() == 2)
    flag = await db(Flag.objects.get)(track_comment_id=rude.id)
    assert (flag.state, flag.auto_hidden) == ("open", True)
    assert (await db(Flag.objects.get)(track_comment_id=clean.id)).state == "clean"
    assert await db(comments_seen_by)(bob, track) == {clean.id: False}
    assert await db(comments_seen_by)(alice, track) == {clean.id: False, rude.id: True}
    assert await db(AuditLogEntry.objects.filter(action="track_comment_auto_hide").exists)()

    async with gateway(bob) as b:
        await db(services.approve)(actor=owner, flag=flag)
        assert (await b.event("TRACK_COMMENT_CREATE"))["id"] == rude.id  # back on open pages
    assert await db(comments_seen_by)(bob, track) == {clean.id: False, rude.id: False}


def test_removing_a_comment_or_a_track_from_the_queue(guild, owner, alice, bob):  # noqa: F811
    track = make_track(guild, alice, title="Shut up, you idiot")
    comment = tracks.comment_on_track(author=bob, track_id=track.id, body=ABUSIVE, position_ms=10)
    comment_flag = services.score_track_comment(comment_id=comment.id)
    track_flag = services.score_track(track_id=track.id)
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = admin_client(staff)
    page = client.get("/admin/moderation/flag/", {"kind__exact": "track_comment", "state__exact": "open"})
    assert ABUSIVE in page.content.decode()
    client.post("/admin/moderation/flag/", {"action": "remove_warn", "_selected_action": [comment_flag.id]})
    comment.refresh_from_db()
    assert comment.visibility == "removed" and comments_seen_by(bob, track) == {}
    assert Track.objects.get(pk=track.pk).comment_count == 0
    assert bob.warnings.filter(guild=guild).exists()

    client.post("/admin/moderation/flag/", {"action": "remove", "_selected_action": [track_flag.id]})
    assert not Track.objects.filter(pk=track.pk).exists()
    track_flag.refresh_from_db()  # the flag stays, with the words, as evidence
    assert (track_flag.state, track_flag.track_id, track_flag.content) == ("removed", None, "Shut up, you idiot")
    assert AuditLogEntry.objects.filter(action="track_remove", actor=staff).exists()
    assert TrackComment.objects.filter(pk=comment.pk).count() == 0  # went with its track

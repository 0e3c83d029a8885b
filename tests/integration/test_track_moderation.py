"""Tracks and their comments under moderation: a real worker scores an uploaded track's title and
description and each new comment with the messages' scorer and the guild's thresholds; a track or a
comment over the hide threshold leaves the other members' pages, lists and media (its author keeps
it, marked held) until a moderator decides in the same admin queue as messages."""
from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from apps.core.events import guild_group, user_group
from apps.guilds.models import AuditLogEntry
from apps.guilds.permissions import Permission
from apps.moderation import services
from apps.moderation.models import Flag
from apps.tracks import services as tracks
from apps.tracks.models import Track
from celery_app import app as celery_app
from tests import audio, servers
from tests.factories import UserFactory, add_member_with, make_track
from tests.integration.test_events import listen  # noqa: F401 (a fixture)
from tests.integration.test_gateway import db, gateway, run_async  # noqa: F401
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
    # The site's hide threshold (0.9) is reached: held at once, the clean one left alone.
    assert abusive.auto_hidden and not clean.auto_hidden
    assert [Track.objects.get(pk=i).visibility for i in ids] == ["visible", "held"]


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
    services.set_thresholds(actor=owner, guild=guild, review_at=0.5, hide_at=1.0)  # queued, not held
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

    assert Track.objects.get(pk=track.pk).visibility == "visible"  # below this guild's hide threshold
    client.post("/admin/moderation/flag/", {"action": "remove", "_selected_action": [track_flag.id]})
    track_flag.refresh_from_db()  # the flag stays, with the words and the track, as evidence
    assert (track_flag.state, track_flag.track_id, track_flag.content) == ("removed", track.id, "Shut up, you idiot")
    assert Track.objects.get(pk=track.pk).visibility == "removed"
    for user in (bob, alice):  # nobody sees a removed track, its owner neither
        assert api_as(user).get(f"/api/tracks/{track.id}").status_code == 404
    assert AuditLogEntry.objects.filter(action="track_remove", actor=staff).exists()


# --- a held track ---------------------------------------------------------------------------

def ready_with_media(guild, owner, **kwargs) -> Track:
    """A ready track whose stream and peaks are in storage, so its media views answer 200."""
    track = make_track(guild, owner, **kwargs)
    track.stream = default_storage.save(f"{track.folder}stream.m4a", ContentFile(b"\x00" * 64))
    track.stream_size = 64
    track.peaks = default_storage.save(f"{track.folder}peaks.json", ContentFile(b'{"data": []}'))
    track.save(update_fields=["stream", "stream_size", "peaks"])
    return track


def page_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def what_sees(user, track, guild) -> dict[str, object]:
    """Every way a member meets the track: the API, its media, the lists and pages that list tracks."""
    api, page = api_as(user), page_as(user)
    listed = f'data-track-id="{track.id}"'

    def ids(r):
        assert r.status_code == 200, r.content[:500]
        return [t["id"] for t in r.json()]

    single = api.get(f"/api/tracks/{track.id}")
    guild_list = {t["id"]: t["held"] for t in api.get(f"/api/guilds/{guild.id}/tracks").json()}
    playlists = api.get("/api/playlists").json()
    return {
        "api": single.json()["held"] if single.status_code == 200 else single.status_code,
        "stream": page.get(f"/tracks/{track.id}/stream.m4a").status_code,
        "peaks": page.get(f"/tracks/{track.id}/peaks.json").status_code,
        "page": page.get(f"/tracks/{track.id}").status_code,
        "guild list": guild_list.get(track.id, "absent"),
        "search": track.id in ids(api.get("/api/tracks/search", {"q": "idiot"})),
        "stream list": track.id in [i["track"]["id"] for i in api.get("/api/stream").json()["items"]],
        "trending": track.id in ids(api.get("/api/tracks/trending")),
        "profile": listed in page.get(f"/users/{track.owner.username}").content.decode(),
        "tag": listed in page.get("/tracks/tag/grime").content.decode(),
        "genre": listed in page.get("/tracks/genre/Grime").content.decode(),
        "playlist": [track.id in [e["track"]["id"] for e in api.get(f"/api/playlists/{p['id']}").json()["entries"]]
                     for p in playlists],
    }


EVERYWHERE = {"api": False, "stream": 200, "peaks": 200, "page": 200, "guild list": False, "search": True,
              "stream list": True, "trending": True, "profile": True, "tag": True, "genre": True,
              "playlist": [True]}
NOWHERE = {"api": 404, "stream": 404, "peaks": 404, "page": 404, "guild list": "absent", "search": False,
           "stream list": False, "trending": False, "profile": False, "tag": False, "genre": False,
           "playlist": [False]}


def test_a_track_over_the_hide_threshold_is_held_from_others_until_approved(  # noqa: F811
        guild, owner, alice, bob, listen):  # noqa: F811
    services.set_thresholds(actor=owner, guild=guild, review_at=0.2, hide_at=0.5)
    track = ready_with_media(guild, alice, title=f"For my ex: {ABUSIVE}", tags=["grime"], genre="Grime",
                             trending_score=1.0)
    tracks.follow_user(follower=bob, user_id=alice.id)
    playlist = tracks.create_playlist(owner=bob, title="Mine")
    tracks.add_to_playlist(actor=bob, playlist_id=playlist.id, track_id=track.id)
    hers = tracks.create_playlist(owner=alice, title="Hers")  # public: bob reads it too
    tracks.add_to_playlist(actor=alice, playlist_id=hers.id, track_id=track.id)
    mod = add_member_with(guild, Permission.MANAGE_TRACKS, user=UserFactory(username="mod")).user
    assert what_sees(bob, track, guild) == EVERYWHERE  # before it is scored, as any track

    owners_tabs = listen(user_group(alice.id))
    flag = services.score_track(track_id=track.id)
    assert (flag.state, flag.auto_hidden) == ("open", True)
    assert Track.objects.get(pk=track.pk).visibility == "held"
    update = owners_tabs.receive()
    assert (update["t"], update["d"]["id"], update["d"]["held"]) == ("TRACK_UPDATE", track.id, True)
    assert AuditLogEntry.objects.filter(action="track_auto_hide", actor=None, guild=guild).exists()

    assert what_sees(bob, track, guild) == NOWHERE
    # Its owner keeps it everywhere, marked held (not in bob's playlist: that is bob's, and owners see theirs).
    seen = what_sees(alice, track, guild)
    assert {k: seen[k] for k in ("api", "stream", "peaks", "page", "guild list", "profile", "search")} == {
        "api": True, "stream": 200, "peaks": 200, "page": 200, "guild list": True, "profile": True, "search": True}
    assert "held for review" in page_as(alice).get(f"/users/{alice.username}").content.decode()
    assert "Held for review" in page_as(alice).get(f"/tracks/{track.id}").content.decode()
    assert "held for review" in page_as(alice).get(f"/playlists/{hers.id}").content.decode()
    assert api_as(bob).get(f"/api/playlists/{hers.id}").json()["entries"] == []
    # A member with MANAGE_TRACKS sees it, marked held, on its page and in the guild's list.
    assert api_as(mod).get(f"/api/tracks/{track.id}").json()["held"] is True
    assert what_sees(mod, track, guild)["guild list"] is True
    # Its comments no longer reach the guild's sockets, only the owner's and the commenter's.
    guild_sockets = listen(guild_group(guild.id))
    note = tracks.comment_on_track(author=mod, track_id=track.id, body="Checking this one", position_ms=5)
    assert guild_sockets.nothing()
    assert owners_tabs.receive()["d"]["id"] == note.id
    assert owners_tabs.receive()["t"] == "ACTIVITY_CREATE"  # a comment on the owner's track: its bell hears of it
    # Held tracks are not reportable by those who cannot see them (the same 404 as an unknown one).
    assert api_as(bob).post("/api/reports", {"type": "track", "id": track.id, "reason": "hate"},
                            format="json").status_code == 404

    staff = UserFactory(is_staff=True, is_superuser=True)
    admin_client(staff).post("/admin/moderation/flag/", {"action": "approve", "_selected_action": [flag.id]})
    assert Track.objects.get(pk=track.pk).visibility == "visible"
    update = owners_tabs.receive()
    assert (update["t"], update["d"]["id"], update["d"]["held"]) == ("TRACK_UPDATE", track.id, False)
    assert AuditLogEntry.objects.filter(action="track_approve", actor=staff).exists()
    assert what_sees(bob, track, guild) == EVERYWHERE


def test_a_held_track_removed_from_the_queue_is_gone_for_everyone(guild, owner, alice, bob, listen):  # noqa: F811
    services.set_thresholds(actor=owner, guild=guild, review_at=0.2, hide_at=0.5)
    track = ready_with_media(guild, alice, title=f"For my ex: {ABUSIVE}", tags=["grime"], genre="Grime",
                             trending_score=1.0)
    flag = services.score_track(track_id=track.id)
    assert Track.objects.get(pk=track.pk).visibility == "held"
    owners_tabs = listen(user_group(alice.id))
    services.remove(actor=owner, flag=flag)
    gone = owners_tabs.receive()
    assert (gone["t"], gone["d"]) == ("TRACK_DELETE", {"id": track.id})
    for user in (bob, alice):
        seen = what_sees(user, track, guild)
        assert {k: v for k, v in seen.items() if k != "playlist"} == {
            k: v for k, v in NOWHERE.items() if k != "playlist"}, user
    # Kept as evidence: the row, its files and the flag that names it.
    assert default_storage.exists(Track.objects.get(pk=track.pk).stream)
    flag.refresh_from_db()
    assert (flag.state, flag.label, flag.track_id) == ("removed", "toxic", track.id)
    # Scoring again (a redelivered task) does not bring it back.
    services.score_track(track_id=track.id)
    assert Track.objects.get(pk=track.pk).visibility == "removed"

"""Tracks meeting chat: a timed comment posted into a channel (the comment on the track and a
message linking that moment, both or neither), and the stream showing each track once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.chat.models import Message
from apps.core.errors import MissingPermission, NotFound, ValidationFailed
from apps.guilds import services as guild_services
from apps.guilds.permissions import Permission
from apps.tracks import selectors, services
from apps.tracks.models import TrackComment
from tests.factories import UserFactory, add_member, make_guild, make_track

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ada(guild):
    return add_member(guild, UserFactory(username="ada", display_name="Ada Lovelace")).user


@pytest.fixture
def bo(guild):
    return add_member(guild, UserFactory(username="bo", display_name="Bo")).user


@pytest.fixture
def track(guild, ada):
    return make_track(guild, ada, title="Night Drive", duration_ms=90_000)


@pytest.fixture
def general(guild):
    return guild.channels.get(name="general")


def test_a_comment_in_a_channel_is_a_comment_and_a_message_linking_that_moment(api_as, track, bo, general):
    r = api_as(bo).post(f"/api/tracks/{track.id}/comments",
                        {"body": "listen to this drop", "position_ms": 83_400, "channel_id": general.id}, format="json")
    assert r.status_code == 201, r.json()
    comment = TrackComment.objects.get()
    assert (comment.body, comment.position_ms, comment.author_id) == ("listen to this drop", 83_400, bo.id)
    message = Message.objects.get(pk=r.json()["message_id"])
    assert message.channel_id == general.id and message.author_id == bo.id
    assert "listen to this drop" in message.content
    assert f"http://testserver/tracks/{track.id}?t=83" in message.content
    assert f'href="http://testserver/tracks/{track.id}?t=83"' in message.content_html  # a link in the message
    history = api_as(bo).get(f"/api/channels/{general.id}/messages").json()
    assert any(f"/tracks/{track.id}?t=83" in m["content"] for m in history)
    assert api_as(bo).get(f"/api/tracks/{track.id}").json()["comment_count"] == 1


def test_without_send_messages_neither_is_written(api_as, guild, track, bo, general):
    everyone = guild.roles.get(is_default=True)
    guild_services.set_overwrite(actor=guild.owner, channel=general, role=everyone, allow=0,
                                 deny=int(Permission.SEND_MESSAGES))
    r = api_as(bo).post(f"/api/tracks/{track.id}/comments",
                        {"body": "drop", "position_ms": 1_000, "channel_id": general.id}, format="json")
    assert r.status_code == 403, r.json()
    assert r.json()["error"]["permission"] == "SEND_MESSAGES"
    assert not TrackComment.objects.exists() and not Message.objects.exists()
    assert api_as(bo).get(f"/api/tracks/{track.id}").json()["comment_count"] == 0


def test_when_the_message_fails_the_comment_is_rolled_back(track, bo, general):
    # The message is refused (too long for a message) after the comment was written: nothing stays.
    with pytest.raises(ValidationFailed) as refused:
        services.comment_in_channel(author=bo, track_id=track.id, channel_id=general.id, position_ms=5_000,
                                    body="x" * 1000, origin="http://" + "h" * 5000)
    assert "content" in refused.value.fields
    assert not TrackComment.objects.exists() and not Message.objects.exists()


def test_without_comment_on_tracks_neither_is_written(guild, track, bo, general):
    everyone = guild.roles.get(is_default=True)
    everyone.permissions = int(everyone.permissions) & ~Permission.COMMENT_ON_TRACKS
    everyone.save()
    with pytest.raises(MissingPermission):
        services.comment_in_channel(author=bo, track_id=track.id, channel_id=general.id, position_ms=0, body="hi")
    assert not TrackComment.objects.exists() and not Message.objects.exists()


def test_a_channel_the_author_cannot_see_is_404(track, bo):
    other = make_guild(UserFactory(username="cy"), name="Elsewhere").channels.get(name="general")
    with pytest.raises(NotFound):
        services.comment_in_channel(author=bo, track_id=track.id, channel_id=other.id, position_ms=0, body="hi")
    assert not TrackComment.objects.exists() and not Message.objects.exists()


# --- the stream shows a track once --------------------------------------------------------------

def test_a_track_uploaded_and_reposted_by_followees_comes_once_at_its_newest_activity(api_as, guild, ada, bo):
    cy = add_member(guild, UserFactory(username="cy", display_name="Cy")).user
    dee = add_member(guild, UserFactory(username="dee", display_name="Dee")).user
    viewer = add_member(guild, UserFactory(username="eve")).user
    now = timezone.now()
    song = make_track(guild, ada, title="Song", created_at=now - timedelta(days=3))
    make_track(guild, ada, title="Other", created_at=now - timedelta(days=2))
    for user in (ada, cy, dee):
        services.follow_user(follower=viewer, user_id=user.id)
    services.repost_track(user=cy, track_id=song.id)
    services.repost_track(user=dee, track_id=song.id)
    song.reposts.filter(user=cy).update(created_at=now - timedelta(days=1))
    song.reposts.filter(user=dee).update(created_at=now - timedelta(hours=1))

    items = api_as(viewer).get("/api/stream").json()["items"]
    assert [i["track"]["title"] for i in items] == ["Song", "Other"]
    assert items[0]["reposted_by"]["username"] == "dee"  # the newest repost names its reposter
    assert items[1]["reposted_by"] is None

    # Two followees reposting a track nobody followed uploaded: once.
    zed = add_member(guild, UserFactory(username="zed")).user
    theirs = make_track(guild, zed, title="Theirs", created_at=now - timedelta(days=5))
    services.repost_track(user=cy, track_id=theirs.id)
    services.repost_track(user=ada, track_id=theirs.id)
    found = selectors.stream(viewer)
    assert [i.track.title for i in found.items].count("Theirs") == 1
    assert found.items[0].track.title == "Theirs" and found.items[0].reposted_by.username == "ada"

"""Activity notifications: new followers, likes, reposts, comments and replies on a member's tracks
reach its bell (the API), its open tabs (ACTIVITY_CREATE over the gateway) and its devices (Web Push
from a real Celery worker), as its settings allow; never its own acts, never a blocked user's."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Block
from apps.notifications import activity
from apps.notifications.models import Activity
from apps.tracks import services as tracks
from tests.factories import UserFactory, add_member, make_guild, make_track
from tests.integration.test_gateway import db, gateway, run_async
from tests.integration.test_web_push import checked, subscribe
from tests.push import PushService
from tests.servers import celery_worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(db):
    ada = UserFactory(username="ada", display_name="Ada")
    bo = UserFactory(username="bo", display_name="Bo")
    cy = UserFactory(username="cy", display_name="Cy")
    guild = make_guild(ada, name="Synth Lab")
    add_member(guild, bo)
    add_member(guild, cy)
    song = make_track(guild, ada, title="Night Drive")
    return {"ada": ada, "bo": bo, "cy": cy, "guild": guild, "song": song}


def bell(user) -> dict:
    api = APIClient()
    api.force_authenticate(user)
    return api.get("/api/users/@me/activity").json()


def test_each_kind_of_activity_reaches_the_tracks_owner(people):
    ada, bo, cy, song = people["ada"], people["bo"], people["cy"], people["song"]
    tracks.follow_user(follower=bo, user_id=ada.id)
    tracks.like_track(user=bo, track_id=song.id)
    tracks.repost_track(user=bo, track_id=song.id)
    tracks.comment_on_track(author=cy, track_id=song.id, body="what a drop", position_ms=1000)
    tracks.comment_on_track(author=bo, track_id=song.id, body="@cy agreed!", position_ms=2000)

    found = bell(ada)
    assert found["unread_count"] == 5
    assert [(a["kind"], a["actor"]["display_name"]) for a in found["items"]] == [
        ("comment", "Bo"), ("comment", "Cy"), ("repost", "Bo"), ("like", "Bo"), ("follow", "Bo")]
    assert found["items"][3]["title"] == "Bo liked Night Drive" and found["items"][3]["url"] == f"/tracks/{song.id}"
    assert found["items"][4]["url"] == "/users/bo"
    # Cy commented on the track and Bo answered with @cy: a reply for Cy.
    [reply] = bell(cy)["items"]
    assert (reply["kind"], reply["body"], reply["url"]) == ("reply", "@cy agreed!", f"/tracks/{song.id}?t=2")

    # A like taken back and given again is new activity; liking twice is not.
    tracks.unlike_track(user=bo, track_id=song.id)
    tracks.like_track(user=bo, track_id=song.id)
    tracks.like_track(user=bo, track_id=song.id)  # idempotent: nothing new
    assert Activity.objects.filter(recipient=ada, kind="like").count() == 2

    api = APIClient()
    api.force_authenticate(ada)
    assert api.post("/api/users/@me/activity/read").json()["unread_count"] == 0


def test_nobody_hears_of_their_own_acts(people):
    ada, song = people["ada"], people["song"]
    tracks.like_track(user=ada, track_id=song.id)
    tracks.repost_track(user=ada, track_id=song.id)
    tracks.comment_on_track(author=ada, track_id=song.id, body="@ada mine", position_ms=0)
    assert bell(ada) == {"unread_count": 0, "items": []}


def test_blocked_users_never_notify_either_way(people):
    ada, bo, cy, song = people["ada"], people["bo"], people["cy"], people["song"]
    Block.objects.create(blocker=ada, blocked=bo)
    Block.objects.create(blocker=cy, blocked=ada)
    tracks.follow_user(follower=bo, user_id=ada.id)
    tracks.like_track(user=bo, track_id=song.id)
    tracks.comment_on_track(author=bo, track_id=song.id, body="hello", position_ms=0)
    tracks.like_track(user=cy, track_id=song.id)  # cy blocked ada: ada does not hear of cy either
    assert bell(ada)["items"] == []

    # Blocking someone later hides what they did before.
    tracks.repost_track(user=cy, track_id=song.id)
    Block.objects.filter(blocker=cy).delete()
    tracks.repost_track(user=people["guild"].owner, track_id=song.id)  # her own: nothing
    tracks.unlike_track(user=cy, track_id=song.id)
    tracks.like_track(user=cy, track_id=song.id)
    assert bell(ada)["unread_count"] == 1
    Block.objects.create(blocker=ada, blocked=cy)
    assert bell(ada) == {"unread_count": 0, "items": []}


def test_a_kind_turned_off_is_not_heard_of_and_the_others_still_are(people):
    ada, bo, song = people["ada"], people["bo"], people["song"]
    api = APIClient()
    api.force_authenticate(ada)
    r = api.patch("/api/users/@me/activity-settings", {"like": False}, format="json")
    assert r.json() == {"follow": True, "like": False, "repost": True, "comment": True, "reply": True}
    tracks.like_track(user=bo, track_id=song.id)
    tracks.repost_track(user=bo, track_id=song.id)
    assert [a["kind"] for a in bell(ada)["items"]] == ["repost"]
    assert api.patch("/api/users/@me/activity-settings", {"like": "maybe"}, format="json").status_code == 400
    # The page's form turns them on and off too.
    from django.test import Client

    page = Client()
    page.force_login(ada)
    page.post("/activity", {"follow": "on", "like": "on", "comment": "on", "reply": "on"})
    assert activity.settings_for(ada).repost is False and activity.settings_for(ada).like is True
    tracks.unrepost_track(user=bo, track_id=song.id)
    tracks.repost_track(user=bo, track_id=song.id)
    assert Activity.objects.filter(recipient=ada, kind="repost").count() == 1


@run_async
async def test_an_open_tab_hears_of_a_like_live(people):
    ada, bo, song = people["ada"], people["bo"], people["song"]
    async with gateway(ada) as tab:
        await db(tracks.like_track)(user=bo, track_id=song.id)
        d = await tab.event("ACTIVITY_CREATE")
    assert (d["kind"], d["title"], d["unread_count"], d["track_id"]) == ("like", "Bo liked Night Drive", 1, song.id)


@pytest.fixture
def push_service():
    service = PushService(hang_seconds=3).start()
    yield service
    service.stop()


def test_a_member_with_no_tab_open_gets_a_web_push_in_its_language(people, push_service):
    ada, bo, song = people["ada"], people["bo"], people["song"]
    device = push_service.device("ada-phone")
    assert subscribe(ada, device, HTTP_ACCEPT_LANGUAGE="fr").status_code == 201
    with celery_worker(queues="default", env={"PUSH_TIMEOUT": "1"}):
        tracks.comment_on_track(author=bo, track_id=song.id, body="quel son", position_ms=3000)
        [push] = push_service.wait("ada-phone")
    payload = checked(push, device, push_service.origin)
    assert payload["title"] == "Bo a commenté Night Drive"
    assert (payload["body"], payload["url"], payload["kind"]) == ("quel son", f"/tracks/{song.id}?t=3", "comment")
    assert payload["tag"].startswith("activity-")

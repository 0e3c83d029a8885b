"""The tracks' social layer against PostgreSQL and Redis: likes, reposts, follows, timed comments,
plays counted once per listener per day, the stream, trending, profiles, tag pages and search.
Whatever the list, nobody sees a track of a guild they are not a member of."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import NotFound, ValidationFailed
from apps.core.events import guild_group
from apps.guilds.permissions import Permission
from apps.tracks import events, payloads, selectors, services, tasks
from apps.tracks.models import Follow, Track, TrackComment, TrackLike, TrackPlay, TrackRepost
from tests.factories import UserFactory, add_member, add_member_with, make_guild, make_track
from tests.integration.test_events import listen  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ada(guild):
    return add_member(guild, UserFactory(username="ada", display_name="Ada Lovelace")).user


@pytest.fixture
def bo(guild):
    return add_member(guild, UserFactory(username="bo")).user


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def track(guild, ada):
    return make_track(guild, ada, title="Night Drive", tags=["synthwave"], genre="Electronic", duration_ms=90_000)


def fresh(track) -> Track:
    return Track.objects.get(pk=track.pk)


def deny(guild, permission):
    everyone = guild.roles.get(is_default=True)
    everyone.permissions = int(everyone.permissions) & ~permission
    everyone.save()


# --- likes and reposts ------------------------------------------------------------------------

def test_likes_are_one_per_user_and_idempotent(api_as, track, bo, ada):
    api = api_as(bo)
    for _ in range(2):
        r = api.put(f"/api/tracks/{track.id}/like")
        assert r.status_code == 200 and r.json()["like_count"] == 1 and r.json()["liked"] is True
    assert TrackLike.objects.filter(track=track).count() == 1
    assert api_as(ada).put(f"/api/tracks/{track.id}/like").json()["like_count"] == 2
    api = api_as(bo)
    for _ in range(2):
        r = api.delete(f"/api/tracks/{track.id}/like")
        assert r.status_code == 200 and r.json()["like_count"] == 1 and r.json()["liked"] is False
    assert fresh(track).like_count == 1
    assert api.get(f"/api/tracks/{track.id}").json()["like_count"] == 1


def test_the_database_refuses_a_second_like_row(track, bo):
    TrackLike.objects.create(user=bo, track=track)
    with pytest.raises(IntegrityError), transaction.atomic():
        TrackLike.objects.create(user=bo, track=track)


def test_reposts_count_like_likes(api_as, track, bo):
    api = api_as(bo)
    assert api.put(f"/api/tracks/{track.id}/repost").json()["repost_count"] == 1
    assert api.put(f"/api/tracks/{track.id}/repost").json()["repost_count"] == 1
    r = api.delete(f"/api/tracks/{track.id}/repost").json()
    assert (r["repost_count"], r["reposted"]) == (0, False)
    assert fresh(track).repost_count == 0 and not TrackRepost.objects.exists()


def test_outsiders_cannot_like_repost_play_or_see_comments(api_as, track, outsider):
    api = api_as(outsider)
    for method, path in (("put", "like"), ("delete", "like"), ("put", "repost"), ("post", "plays"),
                         ("get", "comments"), ("post", "comments")):
        r = getattr(api, method)(f"/api/tracks/{track.id}/{path}", {"body": "hi", "position_ms": 0}, format="json")
        assert r.status_code == 404, (method, path)
        assert r.json()["error"]["code"] == "not_found"
    assert fresh(track).like_count == 0 and not TrackLike.objects.exists()


# --- comments ---------------------------------------------------------------------------------

def test_a_member_comments_at_a_moment_of_the_track(api_as, track, bo):
    r = api_as(bo).post(f"/api/tracks/{track.id}/comments", {"body": "  that drop!  ", "position_ms": 45_000},
                        format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["body"], body["position_ms"], body["author"]["username"]) == ("that drop!", 45_000, "bo")
    api_as(bo).post(f"/api/tracks/{track.id}/comments", {"body": "intro", "position_ms": 0}, format="json")
    listed = api_as(bo).get(f"/api/tracks/{track.id}/comments").json()
    assert [c["body"] for c in listed] == ["intro", "that drop!"]  # in the order of the track
    assert fresh(track).comment_count == 2
    assert api_as(bo).post(f"/api/tracks/{track.id}/comments", {"body": "end", "position_ms": 90_000},
                           format="json").status_code == 201  # the very end is still in the track


@pytest.mark.parametrize("payload, code, field", [
    ({"body": "too late", "position_ms": 90_001}, "position_out_of_range", "position_ms"),
    ({"body": "way too late", "position_ms": 10**9}, "position_out_of_range", "position_ms"),
    ({"body": "before it starts", "position_ms": -1}, "position_out_of_range", "position_ms"),
    ({"body": "nowhere"}, "validation_failed", "position_ms"),
    ({"body": "where?", "position_ms": "soon"}, "validation_failed", "position_ms"),
    ({"body": "   ", "position_ms": 5}, "validation_failed", "body"),
    ({"body": "x" * 1001, "position_ms": 5}, "validation_failed", "body"),
    ({"body": ["not", "text"], "position_ms": 5}, "validation_failed", "body"),
])
def test_bad_comments_are_refused_with_a_clear_message(api_as, track, bo, payload, code, field):
    r = api_as(bo).post(f"/api/tracks/{track.id}/comments", payload, format="json")
    assert r.status_code == 400, r.json()
    error = r.json()["error"]
    assert error["code"] == code and error["fields"][field]
    if code == "position_out_of_range":
        assert "90000" in error["message"]
    assert not TrackComment.objects.exists() and fresh(track).comment_count == 0


def test_commenting_needs_comment_on_tracks(api_as, guild, track, bo):
    deny(guild, Permission.COMMENT_ON_TRACKS)
    r = api_as(bo).post(f"/api/tracks/{track.id}/comments", {"body": "hi", "position_ms": 1}, format="json")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "missing_permission"
    assert r.json()["error"]["permission"] == "COMMENT_ON_TRACKS"
    assert api_as(bo).get(f"/api/tracks/{track.id}/comments").status_code == 200  # reading is still fine


def test_comments_are_rate_limited(api_as, track, bo):
    api = api_as(bo)
    for i in range(services.COMMENT_RATE_LIMIT):
        assert api.post(f"/api/tracks/{track.id}/comments", {"body": f"c{i}", "position_ms": i},
                        format="json").status_code == 201
    r = api.post(f"/api/tracks/{track.id}/comments", {"body": "one more", "position_ms": 0}, format="json")
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited" and r["Retry-After"] == "60"
    assert fresh(track).comment_count == services.COMMENT_RATE_LIMIT


def test_a_track_still_processing_takes_no_comments(api_as, guild, ada, bo):
    track = make_track(guild, ada, state=Track.State.PROCESSING, duration_ms=None)
    r = api_as(bo).post(f"/api/tracks/{track.id}/comments", {"body": "hi", "position_ms": 1}, format="json")
    assert r.status_code == 404


def test_the_author_or_manage_tracks_deletes_a_comment(api_as, guild, track, ada, bo):
    first = services.comment_on_track(author=bo, track_id=track.id, body="one", position_ms=1000)
    second = services.comment_on_track(author=bo, track_id=track.id, body="two", position_ms=2000)
    r = api_as(ada).delete(f"/api/tracks/{track.id}/comments/{first.id}")  # the uploader is not a moderator
    assert r.status_code == 403 and r.json()["error"]["permission"] == "MANAGE_TRACKS"
    assert api_as(bo).delete(f"/api/tracks/{track.id}/comments/{first.id}").status_code == 204
    moderator = add_member_with(guild, Permission.MANAGE_TRACKS).user
    assert api_as(moderator).delete(f"/api/tracks/{track.id}/comments/{second.id}").status_code == 204
    assert not TrackComment.objects.exists() and fresh(track).comment_count == 0
    assert api_as(bo).delete(f"/api/tracks/{track.id}/comments/{second.id}").status_code == 404
    other = make_track(guild, ada)
    third = services.comment_on_track(author=bo, track_id=other.id, body="three", position_ms=0)
    assert api_as(bo).delete(f"/api/tracks/{track.id}/comments/{third.id}").status_code == 404  # not this track's


def test_a_comment_is_published_to_the_tracks_guild(track, bo, listen):  # noqa: F811
    listener = listen(guild_group(track.guild_id))
    comment = services.comment_on_track(author=bo, track_id=track.id, body="live", position_ms=3210)
    msg = listener.receive()
    assert msg["t"] == events.TRACK_COMMENT_CREATE
    assert msg["d"] == {"guild_id": track.guild_id, **payloads.comment_payload(comment)}
    assert msg["d"]["position_ms"] == 3210 and msg["d"]["track_id"] == track.id
    services.delete_track_comment(actor=bo, track_id=track.id, comment_id=comment.id)
    msg = listener.receive()
    assert msg["t"] == events.TRACK_COMMENT_DELETE
    assert msg["d"] == {"guild_id": track.guild_id, "track_id": track.id, "id": comment.id}


def test_a_refused_comment_publishes_nothing(track, bo, listen):  # noqa: F811
    listener = listen(guild_group(track.guild_id))
    with pytest.raises(ValidationFailed):
        services.comment_on_track(author=bo, track_id=track.id, body="late", position_ms=99_999)
    assert listener.nothing()


# --- follows ----------------------------------------------------------------------------------

def test_follows_are_idempotent_and_not_of_yourself(api_as, ada, bo):
    api = api_as(bo)
    for _ in range(2):
        r = api.put(f"/api/users/{ada.id}/follow")
        assert r.status_code == 200 and r.json() == {"following": True, "followers": 1}
    r = api.put(f"/api/users/{bo.id}/follow")
    assert r.status_code == 400 and r.json()["error"]["code"] == "cannot_follow_self"
    assert api.put("/api/users/999999/follow").status_code == 404
    for _ in range(2):
        assert api.delete(f"/api/users/{ada.id}/follow").json() == {"following": False, "followers": 0}
    assert not Follow.objects.exists()


def test_the_database_refuses_a_self_follow(bo):
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=bo, followee=bo)


# --- plays ------------------------------------------------------------------------------------

def test_plays_count_once_per_listener_per_day(api_as, track, ada, bo):
    api = api_as(bo)
    assert api.post(f"/api/tracks/{track.id}/plays").json() == {"counted": True, "play_count": 1}
    assert api.post(f"/api/tracks/{track.id}/plays").json() == {"counted": False, "play_count": 1}
    assert api_as(ada).post(f"/api/tracks/{track.id}/plays").json() == {"counted": True, "play_count": 2}
    tomorrow = timezone.now() + timedelta(days=1)
    assert services.record_play(user=bo, track_id=track.id, at=tomorrow) is True
    assert services.record_play(user=bo, track_id=track.id, at=tomorrow + timedelta(minutes=5)) is False
    assert fresh(track).play_count == 3
    assert TrackPlay.objects.filter(user=bo).count() == 2


def test_a_play_day_is_the_utc_day(track, bo):
    late = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    assert services.record_play(user=bo, track_id=track.id, at=late)
    assert services.record_play(user=bo, track_id=track.id, at=late + timedelta(minutes=2))  # the next day
    assert not services.record_play(user=bo, track_id=track.id, at=late + timedelta(hours=5))


# --- the stream -------------------------------------------------------------------------------

def test_the_stream_shows_uploads_and_reposts_of_followed_people_newest_first(api_as, guild, ada, bo):
    cy = add_member(guild, UserFactory(username="cy")).user
    now = timezone.now()
    old = make_track(guild, ada, title="Old", created_at=now - timedelta(days=3))
    new = make_track(guild, ada, title="New", created_at=now - timedelta(days=1))
    by_cy = make_track(guild, cy, title="Cy's")
    services.follow_user(follower=bo, user_id=ada.id)
    services.repost_track(user=ada, track_id=by_cy.id)  # Ada reposts Cy's: Bo sees it without following Cy
    elsewhere = make_guild(ada, name="Ada's private room")
    make_track(elsewhere, ada, title="Secret")  # Bo is not in that guild

    r = api_as(bo).get("/api/stream")
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["track"]["title"] for i in items] == ["Cy's", "New", "Old"]
    assert items[0]["reposted_by"]["username"] == "ada" and items[1]["reposted_by"] is None
    assert r.json()["next_page"] is None
    page = api_as(bo).get("/api/stream?page=1").json()
    assert [i["track"]["id"] for i in page["items"]] == [by_cy.id, new.id, old.id]
    assert api_as(bo).get("/api/stream?page=x").status_code == 400
    assert api_as(cy).get("/api/stream").json()["items"] == []  # Cy follows nobody


def test_the_stream_pages(api_as, guild, ada, bo):
    now = timezone.now()
    for i in range(25):
        make_track(guild, ada, title=f"T{i}", created_at=now - timedelta(minutes=i))
    services.follow_user(follower=bo, user_id=ada.id)
    first = api_as(bo).get("/api/stream").json()
    assert len(first["items"]) == 20 and first["next_page"] == 2 and first["items"][0]["track"]["title"] == "T0"
    second = api_as(bo).get("/api/stream?page=2").json()
    assert [i["track"]["title"] for i in second["items"]] == [f"T{i}" for i in range(20, 25)]
    assert second["next_page"] is None


def test_the_stream_page_says_reposted_by(client, guild, ada, bo):
    cy = add_member(guild, UserFactory(username="cy", display_name="Cy")).user
    services.follow_user(follower=bo, user_id=ada.id)
    services.repost_track(user=ada, track_id=make_track(guild, cy, title="Borrowed").id)
    client.force_login(bo)
    page = client.get("/stream").content.decode()
    assert "Borrowed" in page and "reposted by Ada Lovelace" in page


# --- trending ---------------------------------------------------------------------------------

def _age(model, track, delta):
    model.objects.filter(track=track).update(created_at=timezone.now() - delta)


def test_recent_attention_beats_older_attention_with_the_same_counts(api_as, guild, ada, bo):
    cy = add_member(guild, UserFactory(username="cy")).user
    older = make_track(guild, ada, title="Older", created_at=timezone.now() - timedelta(days=4))
    recent = make_track(guild, ada, title="Recent")
    quiet = make_track(guild, ada, title="Quiet")
    for t in (older, recent):
        for user in (bo, cy):
            services.like_track(user=user, track_id=t.id)
            services.record_play(user=user, track_id=t.id)
        services.repost_track(user=bo, track_id=t.id)
    for model in (TrackLike, TrackPlay, TrackRepost):
        _age(model, older, timedelta(days=3))
    assert tasks.recompute_trending.apply().get() == 2  # the task beat runs
    older, recent, quiet = fresh(older), fresh(recent), fresh(quiet)
    assert recent.trending_score > older.trending_score > 0 and quiet.trending_score == 0
    r = api_as(bo).get("/api/tracks/trending")
    assert [t["title"] for t in r.json()] == ["Recent", "Older"]
    # A week later nothing is recent: every score falls back to 0.
    services.recompute_trending(now=timezone.now() + timedelta(days=8))
    assert api_as(bo).get("/api/tracks/trending").json() == []


def test_trending_lists_only_readable_tracks(api_as, guild, ada, bo, outsider):
    elsewhere = make_guild(outsider, name="Elsewhere")
    hidden = make_track(elsewhere, outsider, title="Hidden")
    services.like_track(user=outsider, track_id=hidden.id)
    shown = make_track(guild, ada, title="Shown")
    services.like_track(user=bo, track_id=shown.id)
    services.recompute_trending()
    assert [t["title"] for t in api_as(bo).get("/api/tracks/trending").json()] == ["Shown"]
    assert [t["title"] for t in api_as(outsider).get("/api/tracks/trending").json()] == ["Hidden"]


def test_beat_recomputes_trending_every_ten_minutes():
    from celery_app.app import app

    entry = next(e for e in app.conf.beat_schedule.values() if e["task"] == "tracks.recompute_trending")
    assert entry["schedule"] == 600.0


# --- profiles, tags, genres -------------------------------------------------------------------

def test_a_profile_shows_what_the_viewer_can_read(client, guild, ada, bo, outsider):
    mine = make_track(guild, ada, title="Public to the guild")
    elsewhere = make_guild(ada, name="Ada's private room")
    make_track(elsewhere, ada, title="Private demo")
    services.like_track(user=ada, track_id=mine.id)
    services.repost_track(user=ada, track_id=mine.id)
    services.follow_user(follower=bo, user_id=ada.id)
    services.follow_user(follower=ada, user_id=outsider.id)
    client.force_login(bo)
    r = client.get("/users/ada")
    page = r.content.decode()
    assert r.status_code == 200 and "Public to the guild" in page and "Private demo" not in page
    assert r.context["profile"].followers == 1 and r.context["profile"].following == 1
    assert r.context["profile"].followed is True
    assert [t.title for t in r.context["profile"].likes] == ["Public to the guild"]
    assert [t.title for t in r.context["profile"].reposts] == ["Public to the guild"]
    client.force_login(ada)
    assert "Private demo" in client.get("/users/ADA").content.decode()
    assert client.get("/users/nobody-here").status_code == 404


def test_tag_and_genre_pages(client, guild, ada, bo, outsider):
    make_track(guild, ada, title="Sunset", tags=["lo-fi", "chill"], genre="Ambient")
    make_track(guild, ada, title="Noon", tags=["chill"], genre="House")
    make_track(make_guild(outsider), outsider, title="Elsewhere chill", tags=["chill"], genre="Ambient")
    client.force_login(bo)
    page = client.get("/tracks/tag/chill").content.decode()
    assert "Sunset" in page and "Noon" in page and "Elsewhere chill" not in page
    page = client.get("/tracks/tag/lo-fi").content.decode()
    assert "Sunset" in page and "Noon" not in page
    page = client.get("/tracks/genre/ambient").content.decode()
    assert "Sunset" in page and "Noon" not in page and "Elsewhere chill" not in page


def test_tags_and_genres_with_a_slash_have_pages(client, guild, ada, bo):
    track = make_track(guild, ada, title="Breaks", tags=["drum/bass"], genre="Hip-Hop/Rap")
    client.force_login(bo)
    page = client.get(f"/tracks/{track.id}").content.decode()
    assert 'href="/tracks/tag/drum/bass"' in page and 'href="/tracks/genre/Hip-Hop/Rap"' in page
    assert "Breaks" in client.get("/tracks/tag/drum/bass").content.decode()
    assert "Breaks" in client.get("/tracks/genre/hip-hop/rap").content.decode()


def test_the_track_page_links_the_artist_tags_and_shows_the_social_bar(client, track, bo):
    services.like_track(user=bo, track_id=track.id)
    services.comment_on_track(author=bo, track_id=track.id, body="nice bridge", position_ms=61_000)
    client.force_login(bo)
    page = client.get(f"/tracks/{track.id}").content.decode()
    assert 'href="/users/ada"' in page and 'href="/tracks/tag/synthwave"' in page
    assert 'href="/tracks/genre/Electronic"' in page
    assert 'id="like-count">1<' in page and 'aria-pressed="true"' in page
    assert "nice bridge" in page and ">1:01<" in page
    assert 'href="/stream"' in page and 'href="/trending"' in page


# --- search -----------------------------------------------------------------------------------

def test_search_finds_by_title_tag_and_artist_only_in_readable_guilds(api_as, client, guild, ada, bo, outsider):
    from django.db import connection

    assert connection.vendor == "postgresql"
    make_track(guild, ada, title="Midnight Été", tags=["synthwave"])
    make_track(guild, bo, title="Morning Coffee", tags=["acoustic"])
    make_track(make_guild(outsider), outsider, title="Midnight Secret", tags=["synthwave"])

    def titles(q, user=bo):
        r = api_as(user).get("/api/tracks/search", {"q": q})
        assert r.status_code == 200, r.json()
        return sorted(t["title"] for t in r.json())

    assert titles("midnight") == ["Midnight Été"]  # the outsider's guild stays hidden
    assert titles("midn") == ["Midnight Été"]  # words are prefixes
    assert titles("ete") == ["Midnight Été"]  # accents ignored
    assert titles("synthwave") == ["Midnight Été"]  # by tag
    assert titles("ada") == ["Midnight Été"]  # by artist username
    assert titles("lovelace") == ["Midnight Été"]  # by artist display name
    assert titles("coffee bo") == ["Morning Coffee"]  # every word must match
    assert titles("midnight", user=outsider) == ["Midnight Secret"]
    assert titles("nothing-like-this") == []
    r = api_as(bo).get("/api/tracks/search", {"q": "  !!  "})
    assert r.status_code == 400 and r.json()["error"]["fields"]["q"]
    assert api_as(bo).get("/api/tracks/search", {"q": "x" * 201}).status_code == 400
    client.force_login(bo)
    page = client.get("/tracks/search", {"q": "midnight"}).content.decode()
    assert "Midnight Été" in page and "Midnight Secret" not in page


def test_search_matches_on_the_expression_of_the_gin_index(guild, bo):
    """The planner can use the index only for the very expression it was built on."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_track(guild, bo, title="Indexed")
    with CaptureQueriesContext(connection) as queries:
        assert [t.title for t in selectors.search_tracks(bo, "indexed")] == ["Indexed"]
    search = next(q["sql"] for q in queries.captured_queries if "to_tsvector" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'track_search'")
        (definition,) = cursor.fetchone()
        cursor.execute(f"EXPLAIN {search}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "USING gin (to_tsvector('smartc_search'::regconfig, search_text))" in definition
    assert "(to_tsvector('smartc_search'::regconfig, search_text) @@ " in plan, plan


def test_unknown_tracks_are_not_found_for_every_action(bo):
    with pytest.raises(NotFound):
        services.like_track(user=bo, track_id=999_999)

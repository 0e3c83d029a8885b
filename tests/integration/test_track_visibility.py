"""Who hears a track, on every path a track is read: for each audience (guild, unlisted, public) and
each kind of visitor (signed out, signed-in outsider, member, owner, moderator), the page, the API
(which chat cards read), the stream with Range, HLS playlists and segments, peaks, covers, search,
trending, the stream of followed people, playlists, profiles, the embed and oEmbed. A held track
stays hidden in every cell; an unlisted track's secret link opens it, and a reset closes the old one.
A refusal is answered exactly as a track that does not exist."""
from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.guilds.permissions import Permission
from apps.tracks import services, sharing
from apps.tracks.models import Track, track_path
from tests.factories import UserFactory, add_member, add_member_with, make_track

pytestmark = pytest.mark.django_db(transaction=True)

AUDIENCES = ["guild", "unlisted", "public"]
VIEWERS = ["signed out", "outsider", "member", "owner", "moderator"]
HLS = ["master.m3u8", "v0/index.m3u8", "v0/seg_000.ts"]


@pytest.fixture(autouse=True)
def _own_media_folder(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def with_media(track: Track) -> Track:
    """The files a ready track's media views serve (a stream, peaks, an HLS ladder, a cover)."""
    def put(name, data):
        return default_storage.save(track_path(track, name), ContentFile(data))
    track.stream = put("stream.m4a", bytes(range(64)))
    track.stream_size = 64
    track.peaks = put("peaks.json", b'{"version": 2, "bits": 8, "length": 1, "data": [0, 0]}')
    track.hls_files = [put(f"hls/{name}", b"#EXTM3U\n" if name.endswith(".m3u8") else b"\x47" * 188)
                       for name in HLS]
    track.covers = {"96": put("cover-96.webp", b"RIFF0000WEBP")}
    track.save()
    return track


@pytest.fixture
def world(guild):
    """A track by `artist` in `guild`, reposted by `ringo` (whom every signed-in viewer follows) and
    in ringo's public playlist; a visitor of each kind."""
    artist = add_member(guild, UserFactory(username="artist", display_name="Artist")).user
    ringo = add_member(guild, UserFactory(username="ringo")).user
    viewers = {
        "signed out": None,
        "outsider": UserFactory(username="outsider"),
        "member": add_member(guild, UserFactory(username="member")).user,
        "owner": artist,
        "moderator": add_member_with(guild, Permission.MANAGE_TRACKS, user=UserFactory(username="mod")).user,
    }
    track = with_media(make_track(guild, artist, title="Velvet Harbour", trending_score=2.0))
    services.repost_track(user=ringo, track_id=track.id)
    playlist = services.create_playlist(owner=ringo, title="Ringo's picks")
    services.add_to_playlist(actor=ringo, playlist_id=playlist.id, track_id=track.id)
    for user in viewers.values():
        if user is not None:
            services.follow_user(follower=user, user_id=ringo.id)
    return {"track": track, "viewers": viewers, "playlist": playlist, "artist": artist}


def clients(user) -> tuple[Client, APIClient]:
    page, api = Client(), APIClient()
    if user is not None:
        page.force_login(user)
        api.force_authenticate(user)
    return page, api


def framing(response) -> object:
    """How an embed answers: its status, and whether other sites may frame it."""
    if response.status_code != 200:
        return response.status_code
    csp = response.headers.get("Content-Security-Policy", "")
    if "X-Frame-Options" not in response.headers and "frame-ancestors *" in csp:
        return "framable"
    assert response.headers.get("X-Frame-Options") == "DENY" and "frame-ancestors 'none'" in csp
    return "not framable"


def direct(user, track: Track, prefix: str = "") -> dict[str, object]:
    """Every path that opens the one track, by its id or (`prefix` "/s/<secret>") its secret link."""
    page, api = clients(user)
    base = f"/tracks/{track.id}{prefix}"
    query = {"secret": prefix.removeprefix("/s/")} if prefix else {}
    return {
        "page": page.get(base).status_code,
        "api": api.get(f"/api/tracks/{track.id}", query).status_code,
        # A chat card is what the message's player fetches: the track's API answer, then its media.
        "chat card": api.get(f"/api/tracks/{track.id}", query).status_code,
        "stream": page.get(f"{base}/stream.m4a", headers={"Range": "bytes=0-9"}).status_code,
        "hls playlist": page.get(f"{base}/hls/master.m3u8").status_code,
        "hls segment": page.get(f"{base}/hls/v0/seg_000.ts").status_code,
        "peaks": page.get(f"{base}/peaks.json").status_code,
        "cover": page.get(f"{base}/cover-96.webp").status_code,
        "comments": api.get(f"/api/tracks/{track.id}/comments", query).status_code,
        "embed": framing(page.get(f"/embed/tracks/{track.id}{prefix}")),
        "oembed": Client().get("/oembed", {"url": f"http://testserver{base}", "format": "json"}).status_code,
    }


def listed(user, track: Track, playlist, artist) -> dict[str, object]:
    """Every list the track may appear in."""
    page, api = clients(user)

    def has(r) -> bool:
        assert r.status_code == 200, r.content[:300]
        return track.id in [t["id"] for t in r.json()]

    feed = api.get("/api/stream")
    entries = api.get(f"/api/playlists/{playlist.id}").json()["entries"]
    return {
        "search": has(api.get("/api/tracks/search", {"q": "velvet"})),
        "trending": has(api.get("/api/tracks/trending")),
        "stream": ([i["track"]["id"] for i in feed.json()["items"]] == [track.id]) if user else feed.status_code,
        "playlist": [e["track"]["id"] for e in entries] == [track.id],
        "profile": f'data-track-id="{track.id}"' in page.get(f"/users/{artist.username}").content.decode(),
        "public trending page": f'data-track-id="{track.id}"' in page.get("/trending").content.decode(),
    }


def expected_direct(ok: bool, framable: bool, oembed: bool) -> dict[str, object]:
    code = 200 if ok else 404
    return {"page": code, "api": code, "chat card": code, "stream": 206 if ok else 404, "hls playlist": code,
            "hls segment": code, "peaks": code, "cover": code, "comments": code,
            "embed": ("framable" if framable else "not framable") if ok else 404,
            "oembed": 200 if oembed else 404}


def expected_lists(ok: bool, signed_in: bool) -> dict[str, object]:
    return {"search": ok, "trending": ok, "stream": ok if signed_in else 401, "playlist": ok, "profile": ok,
            "public trending page": ok}


@pytest.mark.parametrize("held", [False, True], ids=["visible", "held"])
@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("audience", AUDIENCES)
def test_who_hears_a_track_on_every_path(world, audience, viewer, held):
    track, user = world["track"], world["viewers"][viewer]
    Track.objects.filter(pk=track.pk).update(audience=audience, visibility="held" if held else "visible")
    track.refresh_from_db()
    insider = viewer in ("member", "owner", "moderator")
    shared = audience != "guild"  # public and unlisted embeds may be framed by other sites
    if held:
        # Moderation first: only the owner and MANAGE_TRACKS open it; lists show it to its owner alone.
        ok = viewer in ("owner", "moderator")
        want = expected_direct(ok, framable=False, oembed=False)
        lists = expected_lists(viewer == "owner", signed_in=user is not None)
        by_link = expected_direct(ok, framable=False, oembed=False)
    else:
        ok = insider or audience == "public"
        want = expected_direct(ok, framable=shared, oembed=audience == "public")
        lists = expected_lists(ok, signed_in=user is not None)
        by_link = expected_direct(ok or audience == "unlisted", framable=shared, oembed=shared)
    assert direct(user, track) == want
    assert listed(user, track, world["playlist"], world["artist"]) == lists
    assert direct(user, track, f"/s/{track.secret}") == by_link


def test_resetting_the_secret_link_closes_the_old_one(world):
    track, artist = world["track"], world["artist"]
    sharing.set_track_audience(actor=artist, track_id=track.id, audience="unlisted")
    old = Track.objects.get(pk=track.pk).secret
    assert Client().get(f"/tracks/{track.id}/s/{old}").status_code == 200
    api = APIClient()
    api.force_authenticate(artist)
    answer = api.post(f"/api/tracks/{track.id}/secret")
    assert answer.status_code == 200
    new_link = answer.json()["secret_url"]
    assert old not in new_link
    for path in (f"/tracks/{track.id}/s/{old}", f"/tracks/{track.id}/s/{old}/stream.m4a",
                 f"/tracks/{track.id}/s/{old}/hls/master.m3u8", f"/embed/tracks/{track.id}/s/{old}"):
        assert Client().get(path).status_code == 404, path
    assert Client().get(new_link).status_code == 200
    assert Client().get(f"{new_link}/hls/v0/seg_000.ts").status_code == 200


def test_only_the_uploader_sets_the_audience_and_a_guild_may_forbid_public_tracks(world, guild, owner):
    track, artist, member = world["track"], world["artist"], world["viewers"]["member"]
    as_member, as_artist, as_owner = APIClient(), APIClient(), APIClient()
    as_member.force_authenticate(member)
    as_artist.force_authenticate(artist)
    as_owner.force_authenticate(owner)
    assert as_member.put(f"/api/tracks/{track.id}/sharing", {"audience": "public"}, format="json").status_code == 404
    assert as_artist.put(f"/api/tracks/{track.id}/sharing", {"audience": "loud"}, format="json").status_code == 400
    assert as_artist.put(f"/api/tracks/{track.id}/sharing", {"audience": "public"},
                         format="json").json()["audience"] == "public"
    assert as_member.put(f"/api/guilds/{guild.id}/track-settings", {"allow_public": False},
                         format="json").status_code == 403
    assert as_owner.put(f"/api/guilds/{guild.id}/track-settings", {"allow_public": False},
                        format="json").json() == {"allow_public": False}
    assert Track.objects.get(pk=track.pk).audience == "guild"  # forbidding brings public tracks home
    refused = as_artist.put(f"/api/tracks/{track.id}/sharing", {"audience": "public"}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "public_tracks_forbidden")
    assert Client().get(f"/tracks/{track.id}").status_code == 404
    # The switch is on the guild's track page for MANAGE_GUILD only, showing the guild's rule.
    pages = {}
    for name, user in (("owner", owner), ("member", member)):
        client = Client()
        client.force_login(user)
        pages[name] = client.get(f"/guilds/{guild.id}/tracks").content.decode()
    assert 'id="allow-public">' in pages["owner"] and 'id="guild-track-policy"' not in pages["member"]


def test_a_refusal_is_answered_as_a_missing_track(world):
    """Same status, same body, same database work: guessing ids or secrets tells nothing."""
    track, outsider = world["track"], world["viewers"]["outsider"]
    Track.objects.filter(pk=track.pk).update(audience="unlisted")
    missing = Track.objects.order_by("-id").first().id + 1000
    api = APIClient()
    api.force_authenticate(outsider)
    answers, queries = [], []
    for path in (f"/api/tracks/{missing}", f"/api/tracks/{track.id}", f"/api/tracks/{track.id}?secret=wrong"):
        with CaptureQueriesContext(connection) as ctx:
            r = api.get(path)
        answers.append((r.status_code, r.content))
        queries.append(len(ctx.captured_queries))
    assert answers[0] == answers[1] == answers[2] and answers[0][0] == 404
    assert queries[0] == queries[1] == queries[2]
    # Pages: the same 404 page, but for the address it names (the language form's `next`) and the
    # per-response nonce (also in the meta Turbo reads it from) and CSRF token.
    pages = set()
    for path in (f"/tracks/{missing}/s/{'x' * 22}", f"/tracks/{track.id}/s/{'x' * 22}", f"/tracks/{missing}",
                 f"/tracks/{track.id}", f"/embed/tracks/{missing}", f"/embed/tracks/{track.id}"):
        r = Client().get(path)
        html = re.sub(r'(nonce|csrfmiddlewaretoken" value|"csp-nonce" content)="[^"]+"', "",
                      r.content.decode().replace(path, "PATH"))
        pages.add((r.status_code, html))
    assert len(pages) == 1 and pages.pop()[0] == 404


def test_a_signed_out_play_counts_once_a_day(world):
    track = world["track"]
    Track.objects.filter(pk=track.pk).update(audience="public")
    visitor = APIClient(HTTP_USER_AGENT="Embed browser")
    first = visitor.post(f"/api/tracks/{track.id}/plays")
    assert first.status_code == 200 and first.json() == {"counted": True, "play_count": 1}
    assert visitor.post(f"/api/tracks/{track.id}/plays").json() == {"counted": False, "play_count": 1}
    other = APIClient(HTTP_USER_AGENT="Another browser")
    assert other.post(f"/api/tracks/{track.id}/plays").json() == {"counted": True, "play_count": 2}
    Track.objects.filter(pk=track.pk).update(audience="guild")
    assert other.post(f"/api/tracks/{track.id}/plays").status_code == 404


def test_public_pages_unfurl_with_open_graph_and_oembed(world):
    track, playlist = world["track"], world["playlist"]
    Track.objects.filter(pk=track.pk).update(audience="public")
    html = Client().get(f"/tracks/{track.id}").content.decode()
    assert '<meta property="og:title" content="Velvet Harbour">' in html
    assert f'<meta name="twitter:player" content="http://testserver/embed/tracks/{track.id}">' in html
    assert 'type="application/json+oembed"' in html and "Sign in to comment" in html
    assert 'id="comment-form"' not in html
    oembed = Client().get("/oembed", {"url": f"http://testserver/tracks/{track.id}", "format": "json"}).json()
    assert (oembed["type"], oembed["version"], oembed["title"]) == ("rich", "1.0", "Velvet Harbour")
    assert f'src="http://testserver/embed/tracks/{track.id}"' in oembed["html"]
    assert (oembed["thumbnail_url"], oembed["thumbnail_width"]) == (
        f"http://testserver/tracks/{track.id}/cover-96.webp", 96)
    assert Client().get("/oembed", {"url": f"http://testserver/tracks/{track.id}", "format": "xml"}).status_code == 501
    assert Client().get("/oembed", {"url": f"http://elsewhere.test/tracks/{track.id}"}).status_code == 404
    profile = Client().get("/users/artist").content.decode()
    assert '<meta property="og:title" content="Artist">' in profile
    listing = Client().get(f"/playlists/{playlist.id}").content.decode()
    assert '<meta property="og:title" content="Ringo&#x27;s picks">' in listing
    embedded = Client().get(f"/embed/playlists/{playlist.id}")
    assert framing(embedded) == "framable"
    page = embedded.content.decode()  # the visitor sees the playlist, its track and the controls
    assert "<title>Ringo&#x27;s picks · SmaRTC</title>" in page and 'id="playlist-data"' in page
    assert ">Velvet Harbour</button>" in page and 'id="play"' in page and "Listen on SmaRTC" in page
    track_page = Client().get(f"/embed/tracks/{track.id}").content.decode()
    assert 'aria-valuemax="' in track_page and 'id="track-data"' in track_page
    # Every other page still refuses to be framed.
    assert framing(Client().get(f"/tracks/{track.id}")) == "not framable"


def test_make_runs_demo_track_is_public_for_signed_out_visitors(monkeypatch):
    from celery_app.app import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # the pipeline in-process, as `make run` runs it
    call_command("seed_demo")
    call_command("seed_demo_tracks")
    call_command("seed_demo_tracks")  # again: nothing changes
    track = Track.objects.get(title="Lounge Chords")
    assert (track.audience, track.state) == ("public", "ready")
    assert Client().get(f"/tracks/{track.id}").status_code == 200
    assert framing(Client().get(f"/embed/tracks/{track.id}")) == "framable"
    oembed = Client().get("/oembed", {"url": f"http://testserver/tracks/{track.id}", "format": "json"})
    assert oembed.status_code == 200 and oembed.json()["author_name"] == track.owner.shown_name

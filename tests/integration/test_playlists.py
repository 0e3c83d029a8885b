"""Playlists against PostgreSQL: their owner makes, fills, orders and empties them; others see a
public playlist with only the tracks they can read, and a private one not at all."""
from __future__ import annotations

import pytest

from apps.core.errors import Forbidden, NotFound, ValidationFailed
from apps.tracks import selectors, services
from apps.tracks.models import Playlist, PlaylistEntry
from tests.factories import UserFactory, add_member, make_guild, make_track

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ada(guild):
    return add_member(guild, UserFactory(username="ada", display_name="Ada Lovelace")).user


@pytest.fixture
def bo(guild):
    return add_member(guild, UserFactory(username="bo")).user


@pytest.fixture
def tracks(guild, ada):
    return [make_track(guild, ada, title=title) for title in ("One", "Two", "Three")]


@pytest.fixture
def mix(ada, tracks):
    playlist = services.create_playlist(owner=ada, title="Mix")
    for t in tracks:
        services.add_to_playlist(actor=ada, playlist_id=playlist.id, track_id=t.id)
    return playlist


def titles(payload) -> list[str]:
    return [e["track"]["title"] for e in payload["entries"]]


def test_create_add_reorder_remove_through_the_api(api_as, ada, tracks):
    api = api_as(ada)
    r = api.post("/api/playlists", {"title": "  Night mix ", "description": "for driving"}, format="json")
    assert r.status_code == 201, r.json()
    created = r.json()
    assert (created["title"], created["is_public"], created["entries"]) == ("Night mix", True, [])
    pid = created["id"]
    for t in tracks:
        r = api.post(f"/api/playlists/{pid}/tracks", {"track_id": t.id}, format="json")
        assert r.status_code == 200, r.json()
    assert titles(r.json()) == ["One", "Two", "Three"]
    again = api.post(f"/api/playlists/{pid}/tracks", {"track_id": tracks[0].id}, format="json").json()
    assert titles(again) == ["One", "Two", "Three"]  # already there: stays where it is

    ids = [e["id"] for e in r.json()["entries"]]
    r = api.put(f"/api/playlists/{pid}/order", {"entry_ids": [ids[2], ids[0], ids[1]]}, format="json")
    assert r.status_code == 200, r.json()
    assert titles(r.json()) == ["Three", "One", "Two"]
    assert titles(api.get(f"/api/playlists/{pid}").json()) == ["Three", "One", "Two"]

    r = api.delete(f"/api/playlists/{pid}/tracks/{tracks[0].id}")
    assert r.status_code == 200 and titles(r.json()) == ["Three", "Two"]
    assert [p["title"] for p in api.get("/api/playlists").json()] == ["Night mix"]
    assert api.get("/api/playlists").json()[0]["track_count"] == 2

    r = api.patch(f"/api/playlists/{pid}", {"title": "Drive", "is_public": False}, format="json")
    assert r.status_code == 200 and (r.json()["title"], r.json()["is_public"]) == ("Drive", False)
    assert api.delete(f"/api/playlists/{pid}").status_code == 204
    assert not Playlist.objects.exists() and not PlaylistEntry.objects.exists()
    assert len(tracks) == 3 and all(type(t).objects.filter(pk=t.pk).exists() for t in tracks)  # the tracks stay


@pytest.mark.parametrize("order", ["reversed_missing_one", "duplicate", "foreign", "not_a_list", "strings"])
def test_a_bad_order_is_refused_and_nothing_moves(api_as, ada, mix, order):
    ids = list(mix.entries.order_by("position").values_list("id", flat=True))
    other = services.create_playlist(owner=ada, title="Other")
    foreign = services.add_to_playlist(actor=ada, playlist_id=other.id, track_id=mix.entries.first().track_id)
    body = {"reversed_missing_one": ids[:0:-1], "duplicate": [ids[0], ids[0], ids[1]],
            "foreign": [ids[0], ids[1], foreign.id], "not_a_list": ids[0], "strings": [str(i) for i in ids]}[order]
    r = api_as(ada).put(f"/api/playlists/{mix.id}/order", {"entry_ids": body}, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["fields"]["entry_ids"]
    assert list(mix.entries.order_by("position").values_list("id", flat=True)) == ids


def test_a_private_playlist_is_404_for_everyone_but_its_owner(api_as, client, ada, bo, mix, tracks):
    services.update_playlist(actor=ada, playlist_id=mix.id, is_public=False)
    api = api_as(bo)
    for method, path, body in (("get", "", None), ("patch", "", {"title": "mine"}), ("delete", "", None),
                               ("post", "/tracks", {"track_id": tracks[0].id}),
                               ("delete", f"/tracks/{tracks[0].id}", None), ("put", "/order", {"entry_ids": []})):
        r = getattr(api, method)(f"/api/playlists/{mix.id}{path}", body, format="json")
        assert r.status_code == 404, (method, path)
        assert r.json()["error"]["code"] == "not_found"
    client.force_login(bo)
    assert client.get(f"/playlists/{mix.id}").status_code == 404
    assert api.get(f"/api/users/{ada.id}/playlists").json() == []
    assert api_as(ada).get(f"/api/users/{ada.id}/playlists").json()[0]["title"] == "Mix"  # her own, private too
    assert api_as(ada).get(f"/api/playlists/{mix.id}").status_code == 200


def test_others_see_a_public_playlist_but_cannot_change_it(api_as, ada, bo, mix, tracks):
    api = api_as(bo)
    assert titles(api.get(f"/api/playlists/{mix.id}").json()) == ["One", "Two", "Three"]
    assert api.patch(f"/api/playlists/{mix.id}", {"title": "mine"}, format="json").status_code == 403
    assert api.delete(f"/api/playlists/{mix.id}/tracks/{tracks[0].id}").status_code == 403
    assert mix.entries.count() == 3
    assert [p["title"] for p in api.get(f"/api/users/{ada.id}/playlists").json()] == ["Mix"]


def test_a_public_playlist_shows_each_viewer_only_the_tracks_it_can_read(api_as, client, guild, ada, bo, mix):
    # Ada adds a track of a guild Bo is not in: Bo never sees it, not even counted.
    secret_guild = make_guild(ada, name="Secret")
    secret = make_track(secret_guild, ada, title="Secret demo")
    services.add_to_playlist(actor=ada, playlist_id=mix.id, track_id=secret.id)
    assert titles(api_as(ada).get(f"/api/playlists/{mix.id}").json()) == ["One", "Two", "Three", "Secret demo"]
    seen = api_as(bo).get(f"/api/playlists/{mix.id}").json()
    assert titles(seen) == ["One", "Two", "Three"] and seen["track_count"] == 3
    assert api_as(bo).get(f"/api/users/{ada.id}/playlists").json()[0]["track_count"] == 3
    client.force_login(bo)
    page = client.get(f"/playlists/{mix.id}").content.decode()
    assert "Two" in page and "Secret demo" not in page
    profile = client.get("/users/ada").content.decode()
    assert f'href="/playlists/{mix.id}"' in profile


def test_only_a_track_the_owner_can_read_is_added(api_as, ada, bo, mix):
    elsewhere = make_track(make_guild(UserFactory(username="cy"), name="Elsewhere"), title="Not yours")
    r = api_as(ada).post(f"/api/playlists/{mix.id}/tracks", {"track_id": elsewhere.id}, format="json")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = api_as(ada).post(f"/api/playlists/{mix.id}/tracks", {"track_id": "two"}, format="json")
    assert r.status_code == 400
    assert mix.entries.count() == 3


def test_a_playlist_holds_at_most_500_tracks(guild, ada, mix, monkeypatch):
    monkeypatch.setattr(services, "PLAYLIST_MAX_ENTRIES", 4)
    fourth = make_track(guild, ada, title="Four")
    services.add_to_playlist(actor=ada, playlist_id=mix.id, track_id=fourth.id)
    with pytest.raises(ValidationFailed) as refused:
        services.add_to_playlist(actor=ada, playlist_id=mix.id, track_id=make_track(guild, ada).id)
    assert refused.value.code == "playlist_full" and mix.entries.count() == 4


def test_the_cap_is_500(api_as, guild, ada):
    assert services.PLAYLIST_MAX_ENTRIES == 500
    full = services.create_playlist(owner=ada, title="Full")
    many = [make_track(guild, ada, title=f"t{i}") for i in range(501)]
    PlaylistEntry.objects.bulk_create([PlaylistEntry(playlist=full, track=t, position=i)
                                       for i, t in enumerate(many[:500])])
    r = api_as(ada).post(f"/api/playlists/{full.id}/tracks", {"track_id": many[500].id}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "playlist_full"
    assert full.entries.count() == 500


def test_titles_are_1_to_100_characters(api_as, ada):
    for title in ("", "   ", "x" * 101, None):
        r = api_as(ada).post("/api/playlists", {"title": title}, format="json")
        assert r.status_code == 400 and r.json()["error"]["fields"]["title"]
    assert not Playlist.objects.exists()


def test_services_refuse_strangers(ada, bo, mix, tracks):
    with pytest.raises(Forbidden):
        services.reorder_playlist(actor=bo, playlist_id=mix.id, entry_ids=[])
    services.update_playlist(actor=ada, playlist_id=mix.id, is_public=False)
    with pytest.raises(NotFound):
        selectors.visible_playlist(bo, mix.id)

"""Odd input gets a 400 in the one error shape, never a 500, and nothing is written: channel kinds a
guild cannot hold, bodies that are not objects, text the database cannot store (NUL, lone
surrogates) wherever it comes in, and JSON nested past any need."""
import json
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from apps.bots import services as bots
from apps.bots.models import Application
from apps.guilds.models import Channel
from apps.guilds.permissions import Permission
from apps.tracks.models import Playlist, Track, TrackComment
from tests import big_ids
from tests.factories import add_member, make_role, make_track

pytestmark = pytest.mark.django_db

NUL, SURROGATE = "\\u0000", "\\ud800"  # as JSON escapes: the raw characters cannot travel as UTF-8
UNSTORABLE = "Text cannot contain NUL characters or unpaired surrogates."


def error(response, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])
    return body["error"]


def field_error(response, field):
    """The refusal of unstorable text in `field`: a field error like a serializer's, whose message
    is the generic one and whose field says why."""
    err = error(response)
    assert err == {"code": "validation_failed", "message": "Some fields are invalid.", "fields": {field: [UNSTORABLE]}}


def post_json(api, path, text):
    return api.post(path, data=text, content_type="application/json")


@pytest.fixture
def ada(guild):
    return add_member(guild).user


@pytest.fixture
def track(guild, ada):
    return make_track(guild, owner=ada, title="Ready")


@pytest.fixture
def mix(api_as, ada):
    response = api_as(ada).post("/api/playlists", {"title": "Mix"}, format="json")
    assert response.status_code == 201
    return Playlist.objects.get(pk=response.json()["id"])


# --- channel kinds a guild cannot hold ----------------------------------------------------------

@pytest.mark.parametrize("kind", ["thread", "dm", "group_dm"])
def test_a_guild_channel_cannot_be_a_thread_or_a_dm(api_as, guild, owner, kind):
    response = api_as(owner).post(f"/api/guilds/{guild.id}/channels", {"name": "odd", "type": kind}, format="json")
    assert "type" in error(response)["fields"]
    assert not Channel.objects.filter(name="odd").exists()


def test_the_channel_form_offers_only_guild_kinds():
    from apps.guilds.forms import ChannelForm

    assert [value for value, _label in ChannelForm().fields["type"].choices] == ["text", "voice", "announcement"]


# --- bodies that are not objects ----------------------------------------------------------------

@pytest.mark.parametrize("body", ["[1, 2]", "42", '"track"', "null", "true"])
def test_a_playlist_track_body_that_is_not_an_object(api_as, ada, mix, track, body):
    response = post_json(api_as(ada), f"/api/playlists/{mix.id}/tracks", body)
    assert error(response)["code"] == "validation_failed"
    assert mix.entries.count() == 0


@pytest.mark.parametrize("path", ["/api/playlists", "/api/playlists/{mix}/order", "/api/tracks/{track}/comments"])
def test_other_bodies_read_field_by_field_must_be_objects_too(api_as, ada, mix, track, path):
    api = api_as(ada)
    path = path.format(mix=mix.id, track=track.id)
    response = api.put(path, data="[]", content_type="application/json") if path.endswith("order") \
        else post_json(api, path, "[]")
    assert error(response)["code"] == "validation_failed"


@pytest.mark.parametrize("value", ["12", "1.5", "true", '["odd"]', '{"t": "odd"}'])
def test_a_text_field_takes_only_a_string(api, api_as, guild, owner, value):
    """Not the number 12 read as "12": the schema says a string (apps.core.fields.StrictCharField)."""
    response = post_json(api_as(owner), f"/api/guilds/{guild.id}/channels", f'{{"name": {value}}}')
    assert error(response)["fields"] == {"name": ["Not a valid string."]}
    response = post_json(api_as(owner), f"/api/guilds/{guild.id}/channels", f'{{"name": "odd", "topic": {value}}}')
    assert error(response)["fields"] == {"topic": ["Not a valid string."]}
    assert not Channel.objects.filter(name="odd").exists()
    api.force_authenticate(None)
    response = post_json(api, "/api/auth/token", f'{{"username": {value}, "password": "x"}}')
    assert error(response)["fields"] == {"username": ["Not a valid string."]}


@pytest.mark.parametrize("space", ["\u0085", " ", "\t", "\u3000"])
def test_a_length_limit_counts_what_was_sent_not_what_is_left_after_trimming(api_as, ada, space):
    """The schema's maxLength is on the string sent: 101 characters are refused even when trimming
    would leave 100 (a fuzzer found "\u0085" + 100 characters accepted as a guild name)."""
    name = space + "\U0001F600" + "z" * 99
    response = api_as(ada).post("/api/guilds", {"name": name}, format="json")
    assert error(response)["fields"] == {"name": ["Ensure this field has no more than 100 characters."]}
    assert not ada.owned_guilds.exists()
    response = api_as(ada).post("/api/guilds", {"name": " " + "z" * 98 + " "}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "z" * 98


def test_the_api_takes_json_bodies_not_forms(api_as, ada):
    response = api_as(ada).post("/api/playlists", "title=Mix", content_type="application/x-www-form-urlencoded")
    assert error(response, 415)["code"] == "unsupported_media_type"
    assert not Playlist.objects.exists()


# --- text the database cannot store --------------------------------------------------------------

@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
def test_a_guild_name_gets_the_message_of_any_invalid_field(api_as, ada, bad):
    api = api_as(ada)
    field_error(post_json(api, "/api/guilds", f'{{"name": "a{bad}b"}}'), "name")
    # the same shape a serializer's refusal of the same field has
    assert error(post_json(api, "/api/guilds", '{"name": ""}'))["message"] == "Some fields are invalid."
    assert not ada.owned_guilds.exists()


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
def test_a_playlist_title(api_as, ada, mix, bad):
    api = api_as(ada)
    field_error(post_json(api, "/api/playlists", f'{{"title": "a{bad}b"}}'), "title")
    response = api.patch(f"/api/playlists/{mix.id}", data=f'{{"title": "x{bad}"}}', content_type="application/json")
    assert "title" in error(response)["fields"]
    assert list(Playlist.objects.values_list("title", flat=True)) == ["Mix"]


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
def test_a_track_comment_body(api_as, ada, track, bad):
    response = post_json(api_as(ada), f"/api/tracks/{track.id}/comments", f'{{"body": "nice{bad}", "position_ms": 0}}')
    assert "body" in error(response)["fields"]
    assert not TrackComment.objects.exists()


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
def test_deep_in_a_body_and_in_keys(api_as, guild, owner, bad):
    api = api_as(owner)
    response = post_json(api, f"/api/guilds/{guild.id}/roles", f'{{"name": "ok", "x": {{"y": ["{bad}"]}}}}')
    assert list(error(response)["fields"]) == ["x.y.0"]
    response = post_json(api, f"/api/guilds/{guild.id}/roles", f'{{"name": "ok", "k{bad}": 1}}')
    assert list(error(response)["fields"]) == ["non_field_errors"]
    assert guild.roles.count() == 1


def test_a_track_title_in_an_upload(api_as, guild, ada):
    upload = SimpleUploadedFile("song.mp3", b"not really audio", content_type="audio/mpeg")
    response = api_as(ada).post(f"/api/guilds/{guild.id}/tracks", {"file": upload, "title": "a\x00b"},
                                format="multipart")
    field_error(response, "title")
    assert not Track.objects.exists()


@pytest.mark.parametrize("path", ["/api/explore", "/api/tracks/search", "/api/guilds/{guild}/messages/search"])
def test_search_words(api_as, guild, ada, path):
    path = path.format(guild=guild.id)
    for query in ("a%00b", "%00", "ok&limit=%00"):
        response = api_as(ada).get(f"{path}?q={query}")
        field_error(response, "limit" if "limit" in query else "q")


def test_a_path(api, guild):
    field_error(api.get("/api/invites/abc%00def"), "path")


@pytest.fixture
def hook_url(guild, owner):
    from apps.chat import webhooks

    hook, token = webhooks.create_webhook(actor=owner, channel_id=guild.channels.filter(type="text").first().id,
                                          name="CI")
    return f"/api/webhooks/{hook.id}/{token}?wait=true"


@pytest.mark.parametrize("body, kind, field", [
    ("content=a%00b", "application/x-www-form-urlencoded", "content"),
    ("con%00tent=ab", "application/x-www-form-urlencoded", "non_field_errors"),
    ({"payload_json": '{"content": "a\\u0000b"}'}, "multipart", "content"),
    ({"payload_json": '{"content": "ok", "embeds": [{"title": "\\ud800"}]}'}, "multipart", "embeds.0.title"),
], ids=["form-value", "form-name", "payload_json", "payload_json-deep"])
def test_a_webhook_posted_as_a_form_or_with_payload_json(api, guild, hook_url, body, kind, field):
    """Discord's other ways to post through a webhook: a form body, and JSON inside a multipart
    field, where an escape decodes to NUL only once the view reads it."""
    if kind == "multipart":
        response = api.post(hook_url, body, format="multipart")
    else:
        response = api.post(hook_url, body, content_type=kind)
    field_error(response, field)
    assert not guild.channels.filter(messages__isnull=False).exists()


@pytest.mark.parametrize("path", ["/explore?q=a%00b", "/tracks/search?q=%00"])
def test_pages_refuse_it_with_a_400(client, ada, path):
    client.force_login(ada)
    assert client.get(path).status_code == 400


def test_a_page_form_read_field_by_field(client, guild, owner, ada):
    client.force_login(owner)
    response = client.post(f"/guilds/{guild.id}/settings/members/{ada.id}/kick", {"reason": "rude\x00"})
    assert response.status_code == 400
    assert guild.members.filter(user=ada).exists()


def test_the_message_is_in_french_for_a_french_reader(api_as, ada, mix):
    response = api_as(ada).post("/api/playlists", data='{"title": "a\\u0000"}', content_type="application/json",
                                HTTP_ACCEPT_LANGUAGE="fr")
    assert error(response)["message"] == "Certains champs ne sont pas valides."
    assert error(response)["fields"] == {"title": ["Le texte ne peut contenir ni caractère NUL ni demi-paire de "
                                                   "substitution isolée."]}
    response = api_as(ada).post("/api/guilds", data='{"name": ""}', content_type="application/json",
                                HTTP_ACCEPT_LANGUAGE="fr")
    assert error(response)["message"] == "Certains champs ne sont pas valides."


# --- JSON nested past any need -------------------------------------------------------------------

@pytest.mark.parametrize("depth", [33, 5000, 100_000])
def test_deeply_nested_json_is_a_parse_error(api_as, ada, depth):
    response = post_json(api_as(ada), "/api/playlists", '{"title": ' + "[" * depth + "]" * depth + "}")
    assert error(response)["code"] == "parse_error"
    assert not Playlist.objects.exists()


def test_json_nested_within_the_limit_reaches_the_view(api_as, ada):
    nested = json.dumps({"title": "Mix", "extra": [[[[["deep but fine"]]]]]})
    assert post_json(api_as(ada), "/api/playlists", nested).status_code == 201


# --- explicit nulls where the schema allows none --------------------------------------------------

@pytest.mark.parametrize("field", ["title", "description", "is_public"])
def test_a_null_playlist_field_is_refused_not_read_as_missing(api_as, ada, mix, field):
    made = api_as(ada).post("/api/playlists", {"title": "Other", field: None}, format="json")
    assert made.status_code == 400 and field in made.json()["error"]["fields"]
    changed = api_as(ada).patch(f"/api/playlists/{mix.id}", {field: None}, format="json")
    assert changed.status_code == 400 and field in changed.json()["error"]["fields"]
    mix.refresh_from_db()
    assert (mix.title, mix.is_public) == ("Mix", True)
    assert Playlist.objects.filter(owner=ada).count() == 1


# --- ids past what an id column holds ------------------------------------------------------------

def test_an_id_past_the_id_columns_is_the_fields_400_on_postgresql_too(api, api_as, guild, owner, ada, track, mix):
    """The make-run sweep of tests/big_ids.py, here on PostgreSQL (which would find nothing rather
    than fail): each id field of the schema and of /api/v10/ refuses a number past 2**63-1 as the
    field's error, so a client learns the same thing on either database."""
    app, token = bots.create_application(owner=owner, name="Sweeper")
    bots.authorize_bot(actor=owner, application=app, guild_id=guild.id,
                       permissions=Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.READ_MESSAGE_HISTORY)
    Application.objects.filter(pk=app.pk).update(members_intent=True)
    channel = guild.channels.get(name="general").id
    known = {"guild_id": guild.id, "channel_id": channel, "user_id": ada.id, "track_id": track.id,
             "playlist_id": mix.id, "role_id": make_role(guild, name="Sweep").id}
    doc = Client().get("/api/schema/?format=json").json()

    def send(client, prefix):
        def call(method, path, params, body):
            if params:
                path = f"{path}?{urlencode(params)}"
            r = client.generic(method, prefix + path, json.dumps(body) if body is not None else "",
                               content_type="application/json")
            return r.status_code, r.headers.get("Content-Type", ""), r.json() if r.headers.get(
                "Content-Type", "").startswith("application/json") else None
        return call

    assert big_ids.api_failures(send(api_as(owner), "/api"), big_ids.api_cases(doc, known)) == []
    as_bot = APIClient()
    as_bot.credentials(HTTP_AUTHORIZATION=f"Bot {token}")
    assert big_ids.discord_failures(send(as_bot, "/api/v10"), big_ids.discord_cases(guild.id, channel)) == []

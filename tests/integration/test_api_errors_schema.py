"""Every error leaves the API in one shape, {"error": {"code", "message", "fields"}}; the OpenAPI
schema and its Swagger UI are served, the UI from local static files."""
import re

import pytest

from apps.guilds.models import Channel
from tests.factories import UserFactory, add_member, make_guild

pytestmark = pytest.mark.django_db


def error(response):
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# --- 401 ---

@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/guilds"),
    ("post", "/api/guilds"),
    ("get", "/api/users/@me"),
    ("get", "/api/guilds/1/members"),
])
def test_anonymous_gets_401_not_authenticated(api, method, path):
    response = getattr(api, method)(path)
    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
    assert error(response)["fields"] == {}
    assert response["WWW-Authenticate"] == "Token"


# --- 404: a guild you are not in does not exist for you ---

def test_guild_of_others_is_not_found_just_like_a_missing_one(api_as, guild, user):
    api = api_as(user)
    hidden = api.get(f"/api/guilds/{guild.id}")
    missing = api.get(f"/api/guilds/{guild.id + 1000}")
    assert hidden.status_code == missing.status_code == 404
    assert error(hidden) == error(missing)
    assert error(hidden)["code"] == "not_found"
    general = guild.channels.get(name="general")
    for path in (f"/api/guilds/{guild.id}/channels", f"/api/guilds/{guild.id}/members",
                 f"/api/guilds/{guild.id}/roles", f"/api/channels/{general.id}"):
        assert api.get(path).status_code == 404, path
    response = api.patch(f"/api/guilds/{guild.id}", {"name": "Mine now"}, format="json")
    assert response.status_code == 404


# --- 403 names the missing permission ---

def test_forbidden_names_the_missing_permission(api_as, guild):
    member = add_member(guild)
    response = api_as(member.user).post(f"/api/guilds/{guild.id}/channels", {"name": "mine"}, format="json")
    assert response.status_code == 403
    err = error(response)
    assert (err["code"], err["permission"]) == ("missing_permission", "MANAGE_CHANNELS")
    assert "MANAGE_CHANNELS" in err["message"]


# --- 400 names the field ---

def test_empty_guild_name(api_as, user):
    api = api_as(user)
    response = api.post("/api/guilds", {"name": ""}, format="json")
    assert response.status_code == 400
    err = error(response)
    assert err["code"] == "validation_failed"
    assert "name" in err["fields"]
    assert api.get("/api/guilds").json()["results"] == []


def test_missing_guild_name(api_as, user):
    response = api_as(user).post("/api/guilds", {}, format="json")
    assert response.status_code == 400
    assert "name" in error(response)["fields"]


def test_one_letter_guild_name_is_refused_by_the_service_in_the_same_shape(api_as, user):
    response = api_as(user).post("/api/guilds", {"name": " x "}, format="json")
    assert response.status_code == 400
    assert (error(response)["code"], list(error(response)["fields"])) == ("validation_failed", ["name"])


def test_slowmode_out_of_range(api_as, guild, owner):
    api = api_as(owner)
    response = api.post(f"/api/guilds/{guild.id}/channels", {"name": "slow", "slowmode_seconds": 999999},
                        format="json")
    assert response.status_code == 400
    assert "slowmode_seconds" in error(response)["fields"]
    general = guild.channels.get(name="general")
    response = api.patch(f"/api/channels/{general.id}", {"slowmode_seconds": 999999}, format="json")
    assert response.status_code == 400
    assert "slowmode_seconds" in error(response)["fields"]
    assert api.get(f"/api/channels/{general.id}").json()["slowmode_seconds"] == 0
    assert "slow" not in [c["name"] for c in api.get(f"/api/guilds/{guild.id}/channels").json()]


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "0x10", "", "²", "9" * 5000, str(1 << 62)],
                         ids=["letters", "negative", "decimal", "hex", "empty", "superscript", "huge", "unknown-bit"])
def test_bad_permission_bitfields_name_the_field(api_as, guild, owner, value):
    api = api_as(owner)
    response = api.post(f"/api/guilds/{guild.id}/roles", {"name": "Bits", "permissions": value}, format="json")
    assert response.status_code == 400
    assert "permissions" in error(response)["fields"]
    assert [r["name"] for r in api.get(f"/api/guilds/{guild.id}/roles").json()] == ["@everyone"]


def test_bad_overwrite_bitfield_names_the_field(api_as, guild, owner):
    general = guild.channels.get(name="general")
    everyone = guild.roles.get(is_default=True)
    response = api_as(owner).put(f"/api/channels/{general.id}/overwrites/role/{everyone.id}", {"deny": "abc"},
                                 format="json")
    assert response.status_code == 400
    assert "deny" in error(response)["fields"]


def test_unknown_channel_type(api_as, guild, owner):
    response = api_as(owner).post(f"/api/guilds/{guild.id}/channels", {"name": "fax", "type": "fax"}, format="json")
    assert response.status_code == 400
    assert "type" in error(response)["fields"]
    assert not Channel.objects.filter(name="fax").exists()


def test_reorder_with_a_non_list_body(api_as, guild, owner):
    response = api_as(owner).patch(f"/api/guilds/{guild.id}/channels", {"id": 1}, format="json")
    assert response.status_code == 400
    assert error(response)["code"] == "validation_failed"


def test_malformed_json(api_as, user):
    api = api_as(user)
    response = api.post("/api/guilds", data='{"name": "Broken', content_type="application/json")
    assert response.status_code == 400
    err = error(response)
    assert (err["code"], err["fields"]) == ("parse_error", {})
    assert api.get("/api/guilds").json()["results"] == []


def test_method_not_allowed(api_as, guild, owner):
    response = api_as(owner).put(f"/api/guilds/{guild.id}", {"name": "x"}, format="json")
    assert response.status_code == 405
    assert error(response)["code"] == "method_not_allowed"


def test_unknown_object_in_a_guild_is_not_found_in_the_same_shape(api_as, guild, owner):
    other_role = make_guild(UserFactory(), name="Other").roles.get(is_default=True)
    response = api_as(owner).patch(f"/api/guilds/{guild.id}/roles/{other_role.id}", {"name": "x"}, format="json")
    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


# --- OpenAPI schema and docs ---

MAIN_PATHS = [
    "/api/guilds", "/api/guilds/{guild_id}", "/api/guilds/{guild_id}/channels", "/api/guilds/{guild_id}/roles",
    "/api/guilds/{guild_id}/members", "/api/guilds/{guild_id}/members/{user_id}/timeout",
    "/api/guilds/{guild_id}/bans/{user_id}", "/api/guilds/{guild_id}/invites", "/api/channels/{channel_id}",
    "/api/channels/{channel_id}/overwrites/{target_type}/{target_id}", "/api/invites/{code}",
    "/api/invites/{code}/accept", "/api/explore", "/api/auth/token", "/api/users/@me",
]


def test_schema_is_yaml_by_default(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert "openapi" in response["Content-Type"]
    text = response.content.decode()
    assert text.startswith("openapi: 3.")
    assert "/api/invites/{code}/accept:" in text


def test_schema_as_json_lists_the_main_paths(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "SmaRTC API"
    missing = [p for p in MAIN_PATHS if p not in schema["paths"]]
    assert missing == []
    assert {"get", "patch", "delete"} <= set(schema["paths"]["/api/channels/{channel_id}"])
    assert "post" in schema["paths"]["/api/invites/{code}/accept"]


def test_schema_operation_ids_are_unique_and_meaningful(api):
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]
    ids = [op["operationId"] for item in paths.values() for op in item.values() if "operationId" in op]
    assert len(ids) == len(set(ids))
    # A numeral suffix is how the generator papers over a collision; clients would see it.
    assert [i for i in ids if re.search(r"_\d+$", i)] == []


def test_schema_says_bitfields_are_strings(api):
    components = api.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    assert components["RoleOut"]["properties"]["permissions"]["type"] == "string"
    assert components["PermissionsOut"]["properties"]["permissions"]["type"] == "string"


def test_docs_page_uses_local_swagger_assets(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    # Swagger UI's start-up script is a file of its own (no inline script under the CSP).
    assert all(a.startswith(("/static/", "/api/docs/?script")) for a in assets), assets
    assert "<script>" not in html and "<style>" not in html
    assert "cdn" not in html.lower()
    script = api.get("/api/docs/", {"script": ""})
    assert script.status_code == 200 and "javascript" in script["Content-Type"]
    assert "/api/schema/" in script.content.decode()


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/docs/?script="])
def test_schema_and_docs_can_be_kept_for_staff(api, settings, user, path):
    settings.API_DOCS_PUBLIC = False
    assert api.get(path).status_code == 404
    api.force_login(user)
    assert api.get(path).status_code == 404
    user.is_staff = True
    user.save()
    assert api.get(path).status_code == 200


# --- the schema matches what the API answers --------------------------------------------------------

def schema_of(api):
    return api.get("/api/schema/", {"format": "json"}).json()


def test_paginated_lists_are_described_as_pages(api):
    schema = schema_of(api)
    components = schema["components"]["schemas"]
    for path in ("/api/guilds", "/api/explore", "/api/guilds/{guild_id}/members", "/api/guilds/{guild_id}/bans",
                 "/api/guilds/{guild_id}/invites", "/api/guilds/{guild_id}/audit-log"):
        operation = schema["paths"][path]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = components[ref.rsplit("/", 1)[1]]
        assert set(page["properties"]) == {"next", "previous", "results"}, path
        assert page["properties"]["results"]["type"] == "array"
        limit = next(p for p in operation["parameters"] if p["name"] == "limit")
        assert (limit["schema"]["type"], limit["schema"]["minimum"]) == ("integer", 1)
        assert any(p["name"] == "cursor" for p in operation["parameters"])


def test_a_page_looks_as_described(api_as, guild, owner):
    body = api_as(owner).get("/api/guilds", {"limit": 1}).json()
    assert set(body) == {"next", "previous", "results"} and len(body["results"]) == 1


@pytest.mark.parametrize("limit", ["abc", "0", "-1", "1.5", ""])
def test_a_limit_that_is_not_a_whole_number_from_1_is_refused(api_as, guild, owner, limit):
    response = api_as(owner).get("/api/guilds", {"limit": limit})
    assert response.status_code == 400
    assert list(error(response)["fields"]) == ["limit"]


def test_a_limit_above_the_maximum_gives_the_maximum(api_as, guild, owner):
    assert api_as(owner).get("/api/guilds", {"limit": "9" * 50}).status_code == 200


def test_every_operation_documents_its_errors_in_the_error_shape(api):
    schema = schema_of(api)
    error_shape = schema["components"]["schemas"]["ErrorOut"]
    assert error_shape["required"] == ["error"]
    detail = schema["components"]["schemas"]["ErrorDetailOut"]
    assert {"code", "message", "fields"} <= set(detail["required"])
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"400", "401", "429", "503"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method != "get":
                assert "409" in codes, (method, path)
            if "requestBody" in operation:
                assert "415" in codes, (method, path)
            for code in {c for c in codes if not c.startswith("2")}:
                content = operation["responses"][code]["content"]["application/json"]
                assert content["schema"]["$ref"] == "#/components/schemas/ErrorOut", (method, path, code)
    uploads = [("/api/guilds/{guild_id}/tracks", "post"), ("/api/channels/{channel_id}/attachments", "post"),
               ("/api/tracks/{track_id}/audio", "post")]
    for path, method in uploads:
        assert "413" in schema["paths"][path][method]["responses"]
    assert "413" not in schema["paths"]["/api/guilds/{guild_id}/tracks"]["get"]["responses"]


@pytest.mark.parametrize("path", ["/api/tracks/{track_id}/like", "/api/tracks/{track_id}/repost",
                                  "/api/users/{user_id}/follow", "/api/playlists/{playlist_id}/tracks/{track_id}"])
def test_deletes_that_answer_a_body_say_200(api, path):
    responses = schema_of(api)["paths"][path]["delete"]["responses"]
    assert "200" in responses and "204" not in responses


def test_request_bodies_are_json_and_patch_bodies_keep_their_required_fields(api):
    schema = schema_of(api)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            # Uploads, and Discord's execute-webhook (JSON, or multipart with `payload_json`).
            if "requestBody" in operation and path not in ("/api/guilds/{guild_id}/tracks",
                                                           "/api/channels/{channel_id}/attachments",
                                                           "/api/tracks/{track_id}/audio",
                                                           "/api/webhooks/{webhook_id}/{token}"):
                assert list(operation["requestBody"]["content"]) == ["application/json"], (method, path)
    edit = schema["paths"]["/api/channels/{channel_id}/messages/{message_id}"]["patch"]["requestBody"]
    ref = edit["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "content" in schema["components"]["schemas"][ref]["required"]


def test_an_unknown_api_url_answers_in_the_error_shape(api_as, user):
    response = api_as(user).get("/api/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error(response)["code"] == "not_found"
    response = api_as(user).get("/api/guilds/not-a-number")
    assert (response.status_code, error(response)["code"]) == (404, "not_found")


def test_optional_filters_say_an_empty_value_means_not_given(api_as, guild, owner):
    operation = schema_of(api_as(owner))["paths"]["/api/guilds/{guild_id}/audit-log"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["actor_id"]["allowEmptyValue"] is True and params["until"]["allowEmptyValue"] is True
    assert "allowEmptyValue" not in params["limit"]  # ?limit= is a 400
    response = api_as(owner).get(f"/api/guilds/{guild.id}/audit-log", {"actor_id": "", "until": ""})
    assert response.status_code == 200 and response.json()["results"]

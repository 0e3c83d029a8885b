"""A member reading in French meets the domain's refusals in French, from the guild services and
the sign-in flow as from every other app."""
import pytest

from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db

FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}


def error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_a_guild_refusal_is_in_french(api_as, guild, owner):
    api = api_as(owner)
    assert error(api.put(f"/api/guilds/{guild.id}/bans/{owner.id}", {}, format="json", **FR), 400)["message"] == \
        "Tu ne peux pas te bannir toi-même."
    assert error(api.patch(f"/api/guilds/{guild.id}/roles/999999", {"name": "x"}, format="json", **FR), 404) == {
        "code": "not_found", "message": "Rôle inconnu.", "fields": {}}
    member = add_member(guild, UserFactory(username="ada"))
    response = api.patch(f"/api/guilds/{guild.id}/members/{member.user_id}", {"roles": [999999]}, format="json", **FR)
    assert error(response, 400)["fields"] == {"roles": ["Rôle inconnu dans cette guilde (@everyone est implicite)."]}


def test_a_sign_in_refusal_is_in_french(api, user):
    response = api.post("/api/auth/token", {"username": user.username, "password": "wrong"}, format="json", **FR)
    assert error(response, 401) == {"code": "invalid_credentials", "fields": {},
                                    "message": "Nom d'utilisateur, e-mail ou mot de passe incorrect."}

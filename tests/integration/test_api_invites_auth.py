"""Invites (create, list, revoke, preview, join) and API tokens (password, throttling, two-factor)."""
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from apps.accounts import services as account_services
from apps.guilds.models import PermissionOverwrite
from apps.guilds.permissions import Permission
from tests.factories import PASSWORD, UserFactory, add_member, add_member_with, make_invite

pytestmark = pytest.mark.django_db
P = Permission


def error(response):
    return response.json()["error"]


def invite_codes(api, guild_id):
    response = api.get(f"/api/guilds/{guild_id}/invites")
    assert response.status_code == 200
    return [i["code"] for i in response.json()["results"]]


# --- invites ---

def test_create_invite(api_as, guild, owner):
    member = add_member(guild)  # CREATE_INVITE comes with @everyone
    response = api_as(member.user).post(f"/api/guilds/{guild.id}/invites", {"max_uses": 5, "max_age_seconds": 3600},
                                        format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["url"] == f"http://testserver/invite/{body['code']}"
    assert (body["guild"]["id"], body["creator_id"], body["max_uses"], body["uses"], body["channel_id"]) == (
        guild.id, member.user_id, 5, 0, None)
    assert body["expires_at"] is not None
    assert body["code"] in invite_codes(api_as(owner), guild.id)


def test_create_invite_to_a_channel_that_never_expires(api_as, guild, owner):
    general = guild.channels.get(name="general")
    response = api_as(owner).post(f"/api/guilds/{guild.id}/invites", {"channel_id": general.id, "max_age_seconds": 0},
                                  format="json")
    assert response.status_code == 201
    assert (response.json()["channel_id"], response.json()["expires_at"]) == (general.id, None)


def test_invite_to_a_hidden_channel_looks_like_an_unknown_channel(api_as, guild):
    secret = guild.channels.create(name="staff-only", position=5)
    PermissionOverwrite.objects.create(channel=secret, role=guild.roles.get(is_default=True), deny=int(P.VIEW_CHANNEL))
    api = api_as(add_member(guild).user)
    hidden = api.post(f"/api/guilds/{guild.id}/invites", {"channel_id": secret.id}, format="json")
    missing = api.post(f"/api/guilds/{guild.id}/invites", {"channel_id": secret.id + 1000}, format="json")
    assert hidden.status_code == missing.status_code == 404
    assert error(hidden)["code"] == error(missing)["code"] == "not_found"


def test_create_invite_validates(api_as, guild, owner):
    response = api_as(owner).post(f"/api/guilds/{guild.id}/invites", {"max_uses": 1000}, format="json")
    assert response.status_code == 400
    assert "max_uses" in error(response)["fields"]
    assert invite_codes(api_as(owner), guild.id) == []


def test_listing_invites_needs_manage_guild(api_as, guild):
    member = add_member(guild)
    response = api_as(member.user).get(f"/api/guilds/{guild.id}/invites")
    assert response.status_code == 403
    assert error(response)["permission"] == "MANAGE_GUILD"


def test_revoke_invite(api_as, guild, owner):
    creator = add_member(guild)
    other = add_member(guild)
    code = api_as(creator.user).post(f"/api/guilds/{guild.id}/invites", {}, format="json").json()["code"]
    kept = make_invite(guild).code

    response = api_as(other.user).delete(f"/api/invites/{code}")
    assert response.status_code == 403
    assert error(response)["permission"] == "MANAGE_GUILD"
    assert api_as(UserFactory()).delete(f"/api/invites/{code}").status_code == 404

    assert api_as(creator.user).delete(f"/api/invites/{code}").status_code == 204
    assert invite_codes(api_as(owner), guild.id) == [kept]
    assert APIClient().get(f"/api/invites/{code}").status_code == 404
    # The guild's managers revoke anyone's invites.
    assert api_as(owner).delete(f"/api/invites/{kept}").status_code == 204
    assert invite_codes(api_as(owner), guild.id) == []


def test_revoking_needs_a_login(api, guild):
    code = make_invite(guild).code
    response = api.delete(f"/api/invites/{code}")
    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
    assert api.get(f"/api/invites/{code}").status_code == 200


def test_preview_without_login(api, guild):
    invite = make_invite(guild, max_uses=3)
    response = api.get(f"/api/invites/{invite.code}")
    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["guild"]["name"], body["max_uses"], body["uses"]) == (invite.code, "Test Guild", 3, 0)


@pytest.mark.parametrize("state", [
    {"expires_at": timezone.now() - timedelta(minutes=1)},
    {"max_uses": 1, "uses": 1},
    {"revoked_at": timezone.now()},
], ids=["expired", "exhausted", "revoked"])
def test_preview_of_an_unusable_invite_is_not_found(api, guild, state):
    invite = make_invite(guild, **state)
    response = api.get(f"/api/invites/{invite.code}")
    assert response.status_code == 404
    assert error(response)["code"] == "unknown_invite"


def test_accept_joins_the_guild(api_as, guild, owner, user):
    invite = make_invite(guild, max_uses=2)
    api = api_as(user)
    assert api.get(f"/api/guilds/{guild.id}").status_code == 404
    response = api.post(f"/api/invites/{invite.code}/accept")
    assert response.status_code == 200
    assert (response.json()["guild_id"], response.json()["user"]["id"]) == (guild.id, user.id)
    assert api.get(f"/api/guilds/{guild.id}").status_code == 200
    assert [g["id"] for g in api.get("/api/guilds").json()["results"]] == [guild.id]
    assert "general" in [c["name"] for c in api.get(f"/api/guilds/{guild.id}/channels").json()]

    # Accepting again changes nothing and uses nothing up.
    assert api.post(f"/api/invites/{invite.code}/accept").status_code == 200
    assert api_as(owner).get(f"/api/invites/{invite.code}").json()["uses"] == 1


def test_accept_needs_a_login(api, guild):
    response = api.post(f"/api/invites/{make_invite(guild).code}/accept")
    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"


def test_expired_invite_is_gone(api_as, guild, user):
    invite = make_invite(guild, expires_at=timezone.now() - timedelta(seconds=1))
    api = api_as(user)
    response = api.post(f"/api/invites/{invite.code}/accept")
    assert response.status_code == 410
    assert error(response)["code"] == "invite_expired"
    assert api.get(f"/api/guilds/{guild.id}").status_code == 404


def test_exhausted_invite_is_gone(api_as, guild):
    invite = make_invite(guild, max_uses=1)
    first, second = UserFactory(), UserFactory()
    assert api_as(first).post(f"/api/invites/{invite.code}/accept").status_code == 200
    api = api_as(second)
    response = api.post(f"/api/invites/{invite.code}/accept")
    assert response.status_code == 410
    assert error(response)["code"] == "invite_exhausted"
    assert api.get(f"/api/guilds/{guild.id}").status_code == 404


def test_banned_user_cannot_join(api_as, guild, owner, user):
    invite = make_invite(guild)
    assert api_as(owner).put(f"/api/guilds/{guild.id}/bans/{user.id}", {}, format="json").status_code == 201
    api = api_as(user)
    response = api.post(f"/api/invites/{invite.code}/accept")
    assert response.status_code == 403
    assert error(response)["code"] == "banned"
    assert api.get(f"/api/guilds/{guild.id}").status_code == 404


def test_unknown_invite(api_as, user):
    response = api_as(user).post("/api/invites/nope1234/accept")
    assert response.status_code == 404
    assert error(response)["code"] == "unknown_invite"


def test_invite_list_shows_uses(api_as, guild, owner):
    manager = add_member_with(guild, P.MANAGE_GUILD)
    invite = make_invite(guild)
    for _ in range(2):
        api_as(UserFactory()).post(f"/api/invites/{invite.code}/accept")
    rows = api_as(manager.user).get(f"/api/guilds/{guild.id}/invites").json()["results"]
    assert [(r["code"], r["uses"]) for r in rows] == [(invite.code, 2)]


# --- API tokens ---

def token_for(username, password=PASSWORD, **extra):
    return APIClient().post("/api/auth/token", {"username": username, "password": password, **extra}, format="json")


def with_token(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_token_from_username_and_password_works_as_authorization_header(user):
    response = token_for(user.username)
    assert response.status_code == 201
    key = response.json()["token"]
    me = with_token(key).get("/api/users/@me")
    assert me.status_code == 200
    assert me.json() == {"id": user.id, "username": user.username, "display_name": user.display_name,
                         "email": user.email, "bio": "", "two_factor": False}
    # Each sign-in gets a token of its own (only a hash is stored: an earlier secret cannot be shown again).
    other = token_for(user.username).json()["token"]
    assert other != key and with_token(other).get("/api/users/@me").status_code == 200


def test_a_bad_token_is_refused(user):
    response = with_token("0" * 40).get("/api/users/@me")
    assert response.status_code == 401
    assert error(response)["code"] == "authentication_failed"


@pytest.mark.parametrize("username", ["owner", "nobody"])
def test_wrong_credentials(owner, username):
    response = token_for(username, "wrong-password")
    assert response.status_code == 401
    assert error(response)["code"] == "invalid_credentials"
    assert "token" not in response.json()


def test_too_many_failures_are_throttled(user):
    limit = settings.LOGIN_RATE_LIMIT
    assert limit == 5
    for _ in range(limit):
        assert token_for(user.username, "wrong-password").status_code == 401
    # Even the right password waits now.
    response = token_for(user.username)
    assert response.status_code == 429
    assert error(response)["code"] == "rate_limited"
    assert int(response["Retry-After"]) == settings.LOGIN_RATE_WINDOW > 0


def test_a_success_clears_the_failures_of_that_username(user):
    for _ in range(settings.LOGIN_RATE_LIMIT - 1):
        token_for(user.username, "wrong-password")
    assert token_for(user.username).status_code == 201
    assert token_for(user.username, "wrong-password").status_code == 401


@pytest.fixture
def totp_device(user):
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def current_code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift):06d}"


def wrong_code(device):
    valid = {totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=d)
             for d in range(-device.tolerance, device.tolerance + 1)}
    return f"{next(c for c in range(10**6) if c not in valid):06d}"


def test_two_factor_account_needs_a_code(user, totp_device):
    response = token_for(user.username)
    assert response.status_code == 400
    assert "otp" in error(response)["fields"]
    assert "token" not in response.json()


def test_two_factor_account_with_a_valid_code_gets_a_token(user, totp_device):
    response = token_for(user.username, otp=current_code(totp_device))
    assert response.status_code == 201
    me = with_token(response.json()["token"]).get("/api/users/@me").json()
    assert (me["username"], me["two_factor"]) == (user.username, True)


def test_two_factor_account_with_a_recovery_code_gets_a_token(user):
    device = account_services.start_totp_enrolment(user)
    codes = account_services.confirm_totp(user, token=current_code(device))
    assert token_for(user.username, otp=codes[0]).status_code == 201
    # A recovery code is good once.
    assert token_for(user.username, otp=codes[0]).status_code == 400


def test_two_factor_wrong_code_is_refused_and_names_the_otp_field(user, totp_device):
    response = token_for(user.username, otp=wrong_code(totp_device))
    assert response.status_code == 400
    assert "otp" in error(response)["fields"]
    assert "token" not in response.json()


def test_wrong_codes_count_towards_the_login_limit(user, totp_device):
    for _ in range(settings.LOGIN_RATE_LIMIT):
        token_for(user.username, otp=wrong_code(totp_device))
    response = token_for(user.username, otp=current_code(totp_device))
    assert response.status_code == 429
    assert "Retry-After" in response


def test_me_needs_a_login(api):
    response = api.get("/api/users/@me")
    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"


def test_me_with_a_session(api_as, user):
    body = api_as(user).get("/api/users/@me").json()
    assert (body["id"], body["username"], body["email"], body["two_factor"]) == (
        user.id, user.username, user.email, False)

"""/api/v10/ as a Discord library sees it: bot tokens, Discord's shapes and error JSON, rate-limit
headers and 429s, and the same permission engine and services as everyone."""
from __future__ import annotations

import hashlib

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.bots import services as bots
from apps.bots.models import Application, BotInstall
from apps.chat import services as chat
from apps.chat.models import Message
from apps.guilds.models import Channel, Member, PermissionOverwrite, Role
from apps.guilds.permissions import Permission
from tests.factories import UserFactory, add_member, add_member_with, make_guild

pytestmark = pytest.mark.django_db

READ_AND_SEND = int(Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.READ_MESSAGE_HISTORY
                    | Permission.ADD_REACTIONS)


@pytest.fixture
def bot(guild, owner):
    app, token = bots.create_application(owner=owner, name="Helper")
    bots.authorize_bot(actor=owner, application=app, guild_id=guild.id, permissions=READ_AND_SEND)
    app.token = token
    return app


@pytest.fixture
def as_bot(bot):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bot {bot.token}")
    return client


@pytest.fixture
def general(guild):
    return Channel.objects.get(guild=guild, name="general")


def test_the_token_is_stored_hashed_and_authenticates_what_discord_py_calls_at_login(bot, as_bot):
    stored = Application.objects.get(pk=bot.pk).token_hash
    assert stored == hashlib.sha256(bot.token.encode()).hexdigest() and bot.token not in stored
    me = as_bot.get("/api/v10/users/@me")
    assert me.status_code == 200
    assert me.json()["id"] == str(bot.bot_id) and me.json()["bot"] is True
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Reset-After",
                 "X-RateLimit-Bucket"):
        assert me[name]
    app = as_bot.get("/api/v10/oauth2/applications/@me").json()
    assert (app["id"], app["name"], app["owner"]["id"]) == (str(bot.id), "Helper", str(bot.owner_id))
    gateway = as_bot.get("/api/v10/gateway/bot").json()
    assert gateway["url"].endswith("/gateway/discord") and gateway["shards"] == 1


def test_wrong_or_reset_tokens_are_401_with_discords_error_body(bot, as_bot, owner):
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bot nope")
    answer = wrong.get("/api/v10/users/@me")
    assert answer.status_code == 401 and answer.json() == {"code": 0, "message": "401: Unauthorized"}
    assert APIClient().get("/api/v10/users/@me").status_code == 401
    new = bots.reset_token(actor=owner, application=bot)
    assert as_bot.get("/api/v10/users/@me").status_code == 401
    as_bot.credentials(HTTP_AUTHORIZATION=f"Bot {new}")
    assert as_bot.get("/api/v10/users/@me").status_code == 200


def test_send_reply_edit_history_react_and_delete_through_the_chat_services(bot, as_bot, general, alice, api_as):
    first = chat.send_message(author=alice, channel_id=general.id, content="hello bot")
    sent = as_bot.post(f"/api/v10/channels/{general.id}/messages",
                       {"content": "hi!", "message_reference": {"message_id": str(first.id)}}, format="json")
    assert sent.status_code == 200
    body = sent.json()
    assert body["type"] == 19 and body["message_reference"]["message_id"] == str(first.id)
    assert body["author"]["bot"] is True
    stored = Message.objects.get(pk=int(body["id"]))
    assert stored.reply_to_id == first.id and stored.author_id == bot.bot_id
    # People see it in SmaRTC's own API as a bot's message (the page shows a BOT tag from it).
    seen = api_as(alice).get(f"/api/channels/{general.id}/messages").json()
    assert [(m["author"]["username"], m["author"]["bot"]) for m in seen] == [(alice.username, False),
                                                                             (bot.bot.username, True)]

    page = as_bot.get(f"/api/v10/channels/{general.id}/messages?limit=2").json()
    assert [m["id"] for m in page] == [body["id"], str(first.id)]  # newest first
    assert [m["id"] for m in as_bot.get(f"/api/v10/channels/{general.id}/messages?before={body['id']}").json()] \
        == [str(first.id)]
    assert as_bot.get(f"/api/v10/channels/{general.id}/messages?after={body['id']}").json() == []

    url = f"/api/v10/channels/{general.id}/messages/{body['id']}"
    assert as_bot.patch(url, {"content": "hi, edited"}, format="json").json()["content"] == "hi, edited"
    assert as_bot.put(f"{url}/reactions/%F0%9F%91%8D/@me").status_code == 204
    reactions = as_bot.get(url).json()["reactions"]
    assert reactions[0]["emoji"] == {"id": None, "name": "👍"} and reactions[0]["me"] is True
    assert as_bot.delete(f"{url}/reactions/%F0%9F%91%8D/@me").status_code == 204
    assert as_bot.delete(url).status_code == 204
    missing = as_bot.get(url)
    assert missing.status_code == 404 and missing.json()["code"] == 10008

    empty = as_bot.post(f"/api/v10/channels/{general.id}/messages", {"content": "  "}, format="json")
    assert empty.status_code == 400 and empty.json()["code"] == 50006


def test_the_bot_obeys_the_permission_engine(bot, as_bot, guild, general):
    managed = BotInstall.objects.get(application=bot, guild=guild).role
    ow = PermissionOverwrite.objects.create(channel=general, role=managed, deny=int(Permission.SEND_MESSAGES))
    refused = as_bot.post(f"/api/v10/channels/{general.id}/messages", {"content": "hi"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == 50013
    # Saved as the services and the admin write it: the guild's cached layout follows (a bulk update()
    # sends no signal, and the code that makes one bumps the layout itself: apps/guilds/layout.py).
    ow.deny = int(Permission.VIEW_CHANNEL)
    ow.save()
    hidden = as_bot.get(f"/api/v10/channels/{general.id}")
    assert hidden.status_code == 404 and hidden.json()["code"] == 10003
    assert "general" not in [c["name"] for c in as_bot.get(f"/api/v10/guilds/{guild.id}/channels").json()]
    other = make_guild(UserFactory(), name="Elsewhere")
    assert as_bot.get(f"/api/v10/guilds/{other.id}").json()["code"] == 10004
    # Pins need MANAGE_MESSAGES, which the bot was not given.
    PermissionOverwrite.objects.filter(channel=general).delete()
    msg = chat.send_message(author=guild.owner, channel_id=general.id, content="pin me")
    pin = as_bot.put(f"/api/v10/channels/{general.id}/pins/{msg.id}")
    assert pin.status_code == 403 and pin.json()["code"] == 50013


def test_past_the_limit_a_429_with_retry_after_and_discords_headers(bot, as_bot, general, settings):
    settings.BOT_API_RATE_LIMIT, settings.BOT_API_RATE_WINDOW = 2, 60
    url = f"/api/v10/channels/{general.id}/messages"
    answers = [as_bot.get(url) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[1]["X-RateLimit-Remaining"] == "0"
    body = answers[2].json()
    assert body["global"] is False and 0 < body["retry_after"] <= 60 and body["message"]
    assert answers[2]["X-RateLimit-Bucket"] == answers[0]["X-RateLimit-Bucket"]
    # Another channel is another bucket.
    assert as_bot.get("/api/v10/users/@me").status_code == 200


def test_slow_mode_applies_to_bots_as_a_429(bot, as_bot, general):
    Channel.objects.filter(pk=general.pk).update(slowmode_seconds=30)
    url = f"/api/v10/channels/{general.id}/messages"
    assert as_bot.post(url, {"content": "one"}, format="json").status_code == 200
    second = as_bot.post(url, {"content": "two"}, format="json")
    assert second.status_code == 429 and second.json()["retry_after"] > 0


def test_members_need_the_members_intent(bot, as_bot, guild, owner):
    assert as_bot.get(f"/api/v10/guilds/{guild.id}/members?limit=10").json()["code"] == 50001
    bots.set_intents(actor=owner, application=bot, members=True, presence=False, message_content=False)
    members = as_bot.get(f"/api/v10/guilds/{guild.id}/members?limit=10").json()
    assert str(bot.bot_id) in [m["user"]["id"] for m in members]
    roles = as_bot.get(f"/api/v10/guilds/{guild.id}/roles").json()
    assert {"id": str(guild.id), "name": "@everyone"}.items() <= next(r for r in roles if r["position"] == 0).items()


def test_the_authorize_page_adds_the_bot_with_a_managed_role_at_the_bottom(owner, guild):
    app, _token = bots.create_application(owner=owner, name="Newbot")
    manager = add_member_with(guild, Permission.MANAGE_GUILD, Permission.VIEW_CHANNEL, Permission.SEND_MESSAGES).user
    plain = add_member(guild).user
    page = Client()
    page.force_login(plain)
    url = f"/oauth2/authorize?client_id={app.id}&scope=bot&permissions=3072"
    assert "Manage guild" in page.get(url).content.decode()  # nowhere to add it
    page.force_login(manager)
    shown = page.get(url).content.decode()
    assert guild.name in shown and "Newbot" in shown
    # Permissions the manager does not hold are refused.
    too_much = page.post("/oauth2/authorize", {"client_id": app.id, "scope": "bot", "guild": guild.id,
                                               "permissions": [int(Permission.BAN_MEMBERS)]})
    assert too_much.status_code == 400 and not Member.objects.filter(guild=guild, user=app.bot).exists()
    chosen = [int(Permission.VIEW_CHANNEL), int(Permission.SEND_MESSAGES)]
    done = page.post("/oauth2/authorize", {"client_id": app.id, "scope": "bot", "guild": guild.id,
                                           "permissions": chosen})
    assert done.status_code == 200 and "Newbot" in done.content.decode()
    member = Member.objects.get(guild=guild, user=app.bot)
    role = member.roles.get()
    assert role.permissions == int(Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES)
    assert role.position == 1 == min(r.position for r in Role.objects.filter(guild=guild, is_default=False))
    assert BotInstall.objects.get(application=app, guild=guild).role == role
    assert Client().get(url).status_code == 302  # log in first
    page.force_login(owner)
    assert page.get("/oauth2/authorize?client_id=999999&scope=bot").status_code == 404
    assert page.get(f"/oauth2/authorize?client_id={app.id}&scope=identify").status_code == 400
    guild_page = page.get(f"/guilds/{guild.id}", follow=True).content.decode()
    assert 'class="bot-tag"' in guild_page


def test_the_developers_page_shows_a_token_once(user):
    page = Client()
    page.force_login(user)
    created = page.post("/developers/", {"name": "My bot"})
    assert created.status_code == 200
    app = Application.objects.get(owner=user)
    token = created.content.decode().split('<code class="token">')[1].split("<")[0]
    assert hashlib.sha256(token.encode()).hexdigest() == app.token_hash
    assert app.bot.is_bot and not app.bot.has_usable_password()
    assert token not in page.get("/developers/").content.decode()
    reset = page.post(f"/developers/{app.id}/token")
    new = reset.content.decode().split('<code class="token">')[1].split("<")[0]
    assert new != token
    page.post(f"/developers/{app.id}/intents", {"message_content": "on"})
    app.refresh_from_db()
    assert app.message_content_intent and not app.members_intent


def test_the_bots_role_is_managed_kept_by_it_alone_and_leaves_with_it(bot, guild, owner, alice, as_bot):
    from apps.core.errors import Conflict
    from apps.guilds import sanctions
    from apps.guilds import services as guild_services

    role = BotInstall.objects.get(application=bot, guild=guild).role
    assert role.managed
    with pytest.raises(Conflict):
        guild_services.assign_role(actor=owner, member=Member.objects.get(guild=guild, user=alice), role=role)
    with pytest.raises(Conflict):
        guild_services.remove_role(actor=owner, member=Member.objects.get(guild=guild, user=bot.bot), role=role)
    with pytest.raises(Conflict):
        guild_services.delete_role(actor=owner, role=role)
    roles = as_bot.get(f"/api/v10/guilds/{guild.id}/roles").json()
    assert next(r for r in roles if r["id"] == str(role.id))["managed"] is True

    sanctions.kick_member(actor=owner, member=Member.objects.get(guild=guild, user=bot.bot))
    assert not Role.objects.filter(pk=role.pk).exists() and not BotInstall.objects.filter(application=bot).exists()
    assert as_bot.get(f"/api/v10/guilds/{guild.id}").json()["code"] == 10004
    bots.authorize_bot(actor=owner, application=bot, guild_id=guild.id, permissions=READ_AND_SEND)  # can come back
    assert as_bot.get(f"/api/v10/guilds/{guild.id}").status_code == 200


@pytest.mark.usefixtures("moderators_group")
def test_automod_refuses_a_bots_message_as_anyones(bot, as_bot, guild, owner, general):
    from apps.moderation import services as moderation

    moderation.create_automod_rule(actor=owner, guild=guild, kind="links", name="links", action="block",
                                   allowed_domains=["smartc.example"], reason="No links.")
    refused = as_bot.post(f"/api/v10/channels/{general.id}/messages", {"content": "win at https://evil.example"},
                          format="json")
    assert refused.status_code == 400
    assert (refused.json()["code"], refused.json()["message"]) == (200000, "No links.")
    assert not Message.objects.filter(author=bot.bot).exists()


def test_pins_guilds_and_typing_as_discord_py_asks_for_them(guild, owner, general):
    app, token = bots.create_application(owner=owner, name="Pinner")
    bots.authorize_bot(actor=owner, application=app, guild_id=guild.id,
                       permissions=READ_AND_SEND | int(Permission.MANAGE_MESSAGES))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bot {token}")
    assert [g["id"] for g in client.get("/api/v10/users/@me/guilds").json()] == [str(guild.id)]
    msg = chat.send_message(author=owner, channel_id=general.id, content="pin me")
    assert client.put(f"/api/v10/channels/{general.id}/messages/pins/{msg.id}").status_code == 204
    pins = client.get(f"/api/v10/channels/{general.id}/messages/pins").json()
    assert [p["message"]["id"] for p in pins["items"]] == [str(msg.id)] and pins["has_more"] is False
    assert [m["id"] for m in client.get(f"/api/v10/channels/{general.id}/pins").json()] == [str(msg.id)]
    assert client.delete(f"/api/v10/channels/{general.id}/pins/{msg.id}").status_code == 204
    assert client.get(f"/api/v10/channels/{general.id}/pins").json() == []
    assert client.post(f"/api/v10/channels/{general.id}/typing").status_code == 204


def test_role_pickers_and_moderation_bots_change_members_through_the_services(bot, as_bot, guild, owner, alice, bob):
    from apps.dms.selectors import direct_channel
    from apps.guilds import services as guild_services
    from apps.guilds.models import AuditLogEntry, Ban
    from tests.factories import make_role

    listener = make_role(guild, name="Listener")
    member_url = f"/api/v10/guilds/{guild.id}/members/{alice.id}"
    refused = as_bot.put(f"{member_url}/roles/{listener.id}")
    assert (refused.status_code, refused.json()["code"]) == (403, 50013)  # no MANAGE_ROLES yet

    bot_role = BotInstall.objects.get(application=bot, guild=guild).role
    powers = READ_AND_SEND | int(Permission.MANAGE_ROLES | Permission.KICK_MEMBERS | Permission.BAN_MEMBERS)
    guild_services.update_role(actor=owner, role=bot_role, permissions=powers)
    guild_services.reorder_roles(actor=owner, guild=guild, order=[bot_role.id, listener.id])

    assert as_bot.put(f"{member_url}/roles/{listener.id}").status_code == 204
    assert Member.objects.get(guild=guild, user=alice).roles.filter(pk=listener.pk).exists()
    assert as_bot.delete(f"{member_url}/roles/{listener.id}").status_code == 204
    assert not Member.objects.get(guild=guild, user=alice).roles.filter(pk=listener.pk).exists()
    assert as_bot.put(f"{member_url}/roles/999999").json()["code"] == 10011

    fetched = as_bot.get(f"/api/v10/users/{bob.id}").json()  # bot.fetch_user
    assert (fetched["id"], fetched["username"], fetched["bot"]) == (str(bob.id), bob.username, False)
    assert as_bot.get("/api/v10/users/99999999").json()["code"] == 10013
    dm = as_bot.post("/api/v10/users/@me/channels", {"recipient_id": str(bob.id)}, format="json").json()
    assert (dm["type"], [u["id"] for u in dm["recipients"]]) == (1, [str(bob.id)])
    sent = as_bot.post(f"/api/v10/channels/{dm['id']}/messages", {"content": "welcome!"}, format="json")
    assert sent.status_code == 200
    assert direct_channel(bot.bot_id, bob.id).messages.get().content == "welcome!"

    assert as_bot.delete(member_url, HTTP_X_AUDIT_LOG_REASON="spam%20links").status_code == 204
    assert not Member.objects.filter(guild=guild, user=alice).exists()
    assert AuditLogEntry.objects.get(guild=guild, action="member_kick").reason == "spam links"

    ban_url = f"/api/v10/guilds/{guild.id}/bans"
    assert as_bot.put(f"{ban_url}/{alice.id}", {"delete_message_seconds": 3600}, format="json").status_code == 204
    assert Ban.objects.filter(guild=guild, user=alice).exists()
    owner_ban = as_bot.put(f"{ban_url}/{owner.id}", {}, format="json")
    assert (owner_ban.status_code, owner_ban.json()["code"]) == (403, 50013)
    assert as_bot.put(f"{ban_url}/{alice.id}", {"delete_message_seconds": -1}, format="json").json()["code"] == 50035
    assert as_bot.put(f"{ban_url}/99999999", {}, format="json").json()["code"] == 10013
    assert as_bot.delete(f"{ban_url}/{alice.id}").status_code == 204
    assert as_bot.delete(f"{ban_url}/{alice.id}").json()["code"] == 10026
    assert not Ban.objects.filter(guild=guild, user=alice).exists()

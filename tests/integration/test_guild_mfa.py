"""A guild whose moderators need two-factor authentication (Discord's "2FA requirement"): a
moderator without a confirmed authenticator may not kick, ban, time out, delete others' messages or
manage roles and channels, on the pages, the API or the gateway, and is told why; with one, they may."""
from datetime import timedelta

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.chat import services as chat
from apps.chat.models import Message
from apps.core.errors import Forbidden, TwoFactorRequired
from apps.guilds import sanctions, selectors, services
from apps.guilds.models import AuditLogEntry, Channel, Guild, Member
from apps.guilds.permissions import MFA_GATED, MemberContext, Permission, compute_permissions
from tests.factories import PASSWORD, UserFactory, add_member, add_member_with
from tests.integration.admin_forms import submit
from tests.integration.test_gateway import db, gateway, run_async
from tests.integration.test_moderation import admin_client

pytestmark = pytest.mark.django_db(transaction=True)
P = Permission


def with_authenticator(user):
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


@pytest.fixture
def strict_guild(guild, owner):
    with_authenticator(owner)
    return services.update_guild(actor=owner, guild=guild, mfa_required=True)


@pytest.fixture
def moderator(strict_guild):
    return add_member_with(strict_guild, P.KICK_MEMBERS, P.BAN_MEMBERS, P.MODERATE_MEMBERS, P.MANAGE_MESSAGES,
                           P.MANAGE_ROLES, P.MANAGE_CHANNELS, user=UserFactory(username="mod")).user


def general(guild):
    return Channel.objects.get(guild=guild, name="general")


def test_the_engine_takes_the_gated_permissions_from_a_member_without_two_factor():
    ctx = MemberContext(is_owner=True, everyone=0, mfa_missing=True)
    perms = compute_permissions(ctx)
    assert not perms & MFA_GATED
    assert perms & P.MANAGE_GUILD and perms & P.VIEW_CHANNEL
    assert compute_permissions(MemberContext(is_owner=True, everyone=0)) & MFA_GATED == MFA_GATED


def test_only_the_owner_with_two_factor_turns_the_requirement_on(guild, owner):
    admin = add_member_with(guild, P.ADMINISTRATOR).user
    with pytest.raises(Forbidden) as exc:
        services.update_guild(actor=owner, guild=guild, mfa_required=True)
    assert exc.value.code == "mfa_required"
    with pytest.raises(Forbidden) as exc:
        services.update_guild(actor=with_authenticator(admin), guild=guild, mfa_required=True)
    assert exc.value.code == "not_owner"
    assert not Guild.objects.get(pk=guild.pk).mfa_required
    with_authenticator(owner)
    services.update_guild(actor=owner, guild=guild, mfa_required=True)
    assert Guild.objects.get(pk=guild.pk).mfa_required


def test_every_gated_service_refuses_a_moderator_without_two_factor(strict_guild, owner, moderator):
    target = add_member(strict_guild)
    message = chat.send_message(author=target.user, channel_id=general(strict_guild).id, content="spam")
    attempts = {
        "KICK_MEMBERS": lambda: sanctions.kick_member(actor=moderator, member=target),
        "BAN_MEMBERS": lambda: sanctions.ban_member(actor=moderator, guild=strict_guild, user=target.user),
        "MODERATE_MEMBERS": lambda: sanctions.timeout_member(actor=moderator, member=target,
                                                             duration=timedelta(minutes=5)),
        "MANAGE_MESSAGES": lambda: chat.delete_message(actor=moderator, message=message),
        "MANAGE_ROLES": lambda: services.create_role(actor=moderator, guild=strict_guild, name="New"),
        "MANAGE_CHANNELS": lambda: services.update_channel(actor=moderator, channel=general(strict_guild),
                                                           topic="mine"),
    }
    for permission, attempt in attempts.items():
        with pytest.raises(TwoFactorRequired) as exc:
            attempt()
        assert exc.value.permission == permission
        assert "two-factor authentication" in exc.value.message
    assert Member.objects.filter(pk=target.pk, timed_out_until__isnull=True).exists()
    assert Message.objects.filter(pk=message.pk).exists()
    assert general(strict_guild).topic == ""

    # Their own messages stay theirs to delete, and turning 2FA on gives everything back.
    own = chat.send_message(author=moderator, channel_id=general(strict_guild).id, content="mine")
    chat.delete_message(actor=moderator, message=own)
    with_authenticator(moderator)
    chat.delete_message(actor=moderator, message=message)
    sanctions.kick_member(actor=moderator, member=target)
    assert not Member.objects.filter(pk=target.pk).exists()


def test_the_owner_is_held_to_it_too_and_a_guild_without_it_is_not(strict_guild, owner):
    target = add_member(strict_guild)
    TOTPDevice.objects.filter(user=owner).delete()
    with pytest.raises(TwoFactorRequired):
        sanctions.kick_member(actor=owner, member=target)
    Guild.objects.filter(pk=strict_guild.pk).update(mfa_required=False)
    sanctions.kick_member(actor=owner, member=target)


def test_the_api_answers_403_mfa_required_in_the_readers_language(api_as, strict_guild, moderator):
    target = add_member(strict_guild)
    api = api_as(moderator)
    response = api.delete(f"/api/guilds/{strict_guild.id}/members/{target.user_id}", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 403
    error = response.json()["error"]
    assert (error["code"], error["permission"]) == ("mfa_required", "KICK_MEMBERS")
    assert "authentification à deux facteurs" in error["message"]
    assert Member.objects.filter(pk=target.pk).exists()
    # The guild shows the setting; the owner turns it off through the API.
    guild = api_as(strict_guild.owner).patch(f"/api/guilds/{strict_guild.id}", {"mfa_required": False},
                                             format="json").json()
    assert guild["mfa_required"] is False
    response = api_as(moderator).delete(f"/api/guilds/{strict_guild.id}/members/{target.user_id}")
    assert response.status_code == 204


def test_the_pages_set_it_and_tell_a_moderator_without_two_factor(strict_guild, owner, moderator):
    page = Client()
    page.login(username=owner.username, password=PASSWORD)
    settings_url = f"/guilds/{strict_guild.id}/settings"
    html = page.get(settings_url).content.decode()
    assert 'name="mfa_required"' in html and "checked" in html.split('name="mfa_required"')[1].split(">")[0]
    target = add_member(strict_guild)

    mod_page = Client()
    mod_page.login(username=moderator.username, password=PASSWORD)
    response = mod_page.post(f"/guilds/{strict_guild.id}/settings/members/{target.user_id}/kick", follow=True,
                             HTTP_ACCEPT_LANGUAGE="fr")
    assert "authentification à deux facteurs" in response.content.decode()
    assert Member.objects.filter(pk=target.pk).exists()

    # The owner (with 2FA) turns it off from the settings form.
    response = page.post(settings_url, {"name": strict_guild.name, "description": "", "mfa_required": ""})
    assert response.status_code == 302
    assert not Guild.objects.get(pk=strict_guild.pk).mfa_required
    mod_page.post(f"/guilds/{strict_guild.id}/settings/members/{target.user_id}/kick")
    assert not Member.objects.filter(pk=target.pk).exists()


def test_selectors_say_what_the_member_would_have(strict_guild, moderator):
    member = selectors.member_of(moderator, strict_guild.id)
    assert not selectors.guild_permissions(member) & P.KICK_MEMBERS
    assert selectors.guild_permissions(member, ignore_mfa=True) & P.KICK_MEMBERS


@run_async
async def test_the_gateway_holds_a_moderator_without_two_factor_to_slow_mode(strict_guild, owner, moderator):
    """MANAGE_MESSAGES lets a moderator past slow mode; without 2FA in this guild they do not have it."""
    channel = await db(general)(strict_guild)
    await db(services.update_channel)(actor=owner, channel=channel, slowmode_seconds=60)
    async with gateway(moderator) as gw:
        await gw.send(6, {"channel_id": channel.id, "content": "one", "nonce": "a"})
        assert (await gw.event("MESSAGE_CREATE"))["nonce"] == "a"
        await gw.send(6, {"channel_id": channel.id, "content": "two", "nonce": "b"})
        assert (await gw.error())["code"] == "rate_limited"
        # Turned on while the socket is open: the next frame is checked with it.
        await db(with_authenticator)(moderator)
        await gw.send(6, {"channel_id": channel.id, "content": "three", "nonce": "c"})
        assert (await gw.event("MESSAGE_CREATE"))["nonce"] == "c"
    assert await db(Message.objects.filter(channel=channel).count)() == 2


def test_staff_set_it_in_the_admin_and_see_privacy_requests(guild, owner):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = admin_client(root)
    page = submit(client, f"/admin/guilds/guild/{guild.id}/change/", mfa_required="on")
    assert "was changed successfully" in page
    assert Guild.objects.get(pk=guild.pk).mfa_required
    assert AuditLogEntry.objects.filter(guild=guild, action="guild_update", changes__mfa_required=True).exists()
    assert client.get("/admin/privacy/deletionrequest/").status_code == 200
    assert client.get("/admin/privacy/dataexport/").status_code == 200


def test_who_can_view_a_channel_is_decided_without_looking_up_devices(strict_guild):
    """@everyone reaches thousands: the requirement never takes VIEW_CHANNEL, so no device is read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    users = [add_member(strict_guild).user_id for _ in range(5)]
    with CaptureQueriesContext(connection) as queries:
        assert selectors.channel_viewers(general(strict_guild), users) == set(users)
    assert not [q for q in queries.captured_queries if "otp_totp" in q["sql"]]

"""Every write the 2FA admin offers goes through the services, as the pages and the API do: what a
staff member does there reaches the members' open sockets at once (a ban closes the banned
member's sockets), is checked in the guild's permission engine (staff act with the permissions
they hold in the guild; a superuser with the owner's rank) and is in the guild's audit log."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission as DjangoPermission

from apps.chat import thread_services
from apps.chat.models import Message
from apps.guilds import services as guilds
from apps.guilds.models import AuditLogEntry, Ban, Category, Channel, Guild, Invite, Member, PermissionOverwrite, Role
from apps.guilds.permissions import Permission
from tests.factories import UserFactory, add_member_with, make_invite, make_role
from tests.integration.admin_forms import submit
from tests.integration.test_gateway import db, everyone, gateway, member, run_async, send, text_channel
from tests.integration.test_moderation import admin_client

pytestmark = pytest.mark.django_db(transaction=True)
P = Permission


def superuser():
    """Platform staff, not a member of the guild: acts in it with the owner's rank."""
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def staff_member(guild, *permissions, django_perms=()):
    """A staff user who is a member of the guild with `permissions`, and may open the admin pages
    named by `django_perms` ("guilds.change_member", ...)."""
    user = add_member_with(guild, *permissions, user=UserFactory(username="staff", is_staff=True)).user
    for perm in django_perms:
        app, codename = perm.split(".")
        user.user_permissions.add(DjangoPermission.objects.get(content_type__app_label=app, codename=codename))
    return user


def act(client, model: str, action: str, *objects, **data) -> str:
    r = client.post(f"/admin/{model}/", {"action": action, "_selected_action": [o.pk for o in objects], **data},
                    follow=True)
    assert r.status_code == 200
    return r.content.decode()


def entry(action: str, **filters) -> AuditLogEntry:
    return AuditLogEntry.objects.get(action=action, **filters)


def entries(**filters) -> list[str]:
    return list(AuditLogEntry.objects.filter(**filters).order_by("id").values_list("action", flat=True))


# --- members: sanctions -----------------------------------------------------------------------------

@run_async
async def test_a_ban_from_the_member_admin_closes_the_members_sockets(guild, owner, alice, bob):
    root = await db(superuser)()
    client = await db(admin_client)(root)
    target = await db(member)(guild, alice)
    async with gateway(alice) as a, gateway(bob) as b:
        # The action asks for the reason and the days of messages first; nothing happens before.
        page = await db(act)(client, "guilds/member", "ban", target)
        assert 'name="delete_message_days"' in page and 'name="reason"' in page
        assert not await db(Ban.objects.exists)()
        page = await db(act)(client, "guilds/member", "ban", target, apply="yes", reason="raid", delete_message_days=0)
        assert "1 member(s) banned." in page
        assert await a.event("GUILD_BAN_ADD") == {"guild_id": guild.id, "user_id": alice.id}
        assert await a.closed() == 4010
        assert (await b.event("GUILD_BAN_ADD"))["user_id"] == alice.id
        assert (await b.event("GUILD_MEMBER_REMOVE"))["user_id"] == alice.id
    e = await db(entry)("member_ban")
    assert (e.actor_id, e.guild_id, e.reason, e.changes["user_id"]) == (root.id, guild.id, "raid", alice.id)


@run_async
async def test_a_ban_added_then_lifted_in_the_ban_admin(guild, owner, alice, bob):
    root = await db(superuser)()
    client = await db(admin_client)(root)
    async with gateway(alice) as a, gateway(bob) as b:
        page = await db(submit)(client, "/admin/guilds/ban/add/", guild=str(guild.id), user=str(alice.id),
                                reason="spam", delete_message_days="0")
        assert "was added successfully" in page
        assert await a.event("GUILD_BAN_ADD") == {"guild_id": guild.id, "user_id": alice.id}
        assert await a.closed() == 4010
        assert (await b.event("GUILD_BAN_ADD"))["user_id"] == alice.id
        assert (await b.event("GUILD_MEMBER_REMOVE"))["user_id"] == alice.id
        ban = await db(Ban.objects.get)(guild=guild, user=alice)
        assert (ban.banned_by_id, ban.reason) == (root.id, "spam")

        # Deleting a ban lifts it, after Django's confirmation page.
        page = await db(act)(client, "guilds/ban", "delete_selected", ban)
        assert "Are you sure" in page and "Lift the selected bans" in await db(
            lambda: client.get("/admin/guilds/ban/").content.decode())()
        await db(act)(client, "guilds/ban", "delete_selected", ban, post="yes")
        assert await b.event("GUILD_BAN_REMOVE") == {"guild_id": guild.id, "user_id": alice.id}
    assert not await db(Ban.objects.exists)()
    assert await db(entries)(actor=root) == ["member_ban", "member_unban"]


@run_async
async def test_a_refused_ban_changes_nothing_and_says_why(guild, owner, alice, bob):
    root = await db(superuser)()
    client = await db(admin_client)(root)
    page = await db(submit)(client, "/admin/guilds/ban/add/", guild=str(guild.id), user=str(owner.id),
                            delete_message_days="0")
    assert "You cannot ban the guild owner." in page and "errornote" in page
    # A staff member acts with their own permissions in the guild: kicking, not banning.
    mod = await db(staff_member)(guild, P.KICK_MEMBERS, django_perms=["guilds.change_member", "guilds.view_member"])
    client = await db(admin_client)(mod)
    async with gateway(alice) as a:
        page = await db(act)(client, "guilds/member", "ban", await db(member)(guild, alice), apply="yes",
                             reason="", delete_message_days=0)
        assert "You need the BAN_MEMBERS permission." in page
        await a.still_open()
    assert not await db(Ban.objects.exists)()
    assert not await db(AuditLogEntry.objects.filter(action="member_ban").exists)()


@run_async
async def test_timeouts_and_kicks_from_the_member_admin(guild, owner, alice, bob):
    mod = await db(staff_member)(guild, P.MODERATE_MEMBERS, P.KICK_MEMBERS,
                                 django_perms=["guilds.change_member", "guilds.view_member"])
    client = await db(admin_client)(mod)
    target = await db(member)(guild, alice)
    async with gateway(alice) as a:
        page = await db(act)(client, "guilds/member", "timeout", target, apply="yes", seconds=3600, reason="calm")
        assert "1 member(s) timed out." in page
        assert (await a.event("GUILD_MEMBER_UPDATE"))["timed_out_until"] is not None
        assert (await a.event("PERMISSIONS_CHANGED"))["guild_id"] == guild.id
        await db(act)(client, "guilds/member", "lift_timeout", target)
        assert (await a.event("GUILD_MEMBER_UPDATE"))["timed_out_until"] is None
        assert (await a.event("PERMISSIONS_CHANGED"))["guild_id"] == guild.id
        await db(act)(client, "guilds/member", "kick", target, apply="yes", reason="bye")
        assert (await a.event("GUILD_MEMBER_REMOVE"))["user_id"] == alice.id
        assert await a.event("GUILD_DELETE") == {"id": guild.id}
    assert await db(entries)(actor=mod) == ["member_timeout", "member_timeout_lift", "member_kick"]
    assert (await db(entry)("member_timeout")).reason == "calm"


@run_async
async def test_a_members_nickname_and_roles_change_through_the_services(guild, owner, alice, bob):
    root = await db(superuser)()
    client = await db(admin_client)(root)
    target = await db(member)(guild, alice)
    staff_role = await db(make_role)(guild, name="Staff", permissions=int(P.MANAGE_MESSAGES))
    url = f"/admin/guilds/member/{target.pk}/change/"
    async with gateway(bob) as b:
        await db(submit)(client, url, nickname="Ali")
        assert (await b.event("GUILD_MEMBER_UPDATE"))["nickname"] == "Ali"
        await db(submit)(client, url, roles=[str(staff_role.id)])
        assert (await b.event("GUILD_MEMBER_UPDATE"))["roles"] == [staff_role.id]
    assert await db(entries)(actor=root) == ["member_nickname", "member_role_add"]
    assert (await db(entry)("member_role_add")).changes == {"role_id": staff_role.id, "user_id": alice.id}


# --- guilds, channels, categories ---------------------------------------------------------------------

@run_async
async def test_a_guild_renamed_handed_over_and_deleted_in_the_admin(guild, owner, alice, bob):
    root = await db(superuser)()
    client = await db(admin_client)(root)
    url = f"/admin/guilds/guild/{guild.pk}/change/"
    async with gateway(alice) as a:
        await db(submit)(client, url, name="Renamed", description="From the admin")
        assert (await a.event("GUILD_UPDATE"))["name"] == "Renamed"
        await db(submit)(client, url, owner=str(alice.id))
        assert (await a.event("GUILD_UPDATE"))["owner_id"] == alice.id
        assert await db(entries)(actor=root) == ["guild_update", "guild_transfer"]
        assert (await db(entry)("guild_update")).changes == {"name": "Renamed", "description": "From the admin"}
        # Deleted through delete_guild: members' pages drop it (its audit log goes with it).
        r = await db(client.post)(f"/admin/guilds/guild/{guild.pk}/delete/", {"post": "yes"}, follow=True)
        assert r.status_code == 200
        assert await a.event("GUILD_DELETE") == {"id": guild.id}
    assert not await db(Guild.objects.filter(pk=guild.pk).exists)()


@run_async
async def test_a_channel_changed_and_deleted_in_the_admin(guild, owner, alice, bob):
    news = await db(guilds.create_channel)(actor=owner, guild=guild, name="news")
    url = f"/admin/guilds/channel/{news.pk}/change/"
    # A staff member without MANAGE_CHANNELS in the guild is refused on the form; nothing changes.
    clerk = await db(staff_member)(guild, P.VIEW_CHANNEL, django_perms=[
        "guilds.change_channel", "guilds.view_channel", "guilds.delete_channel"])
    clerk_client = await db(admin_client)(clerk)
    page = await db(submit)(clerk_client, url, topic="hijacked")
    assert "You need the MANAGE_CHANNELS permission." in page
    assert (await db(Channel.objects.get)(pk=news.pk)).topic == ""
    r = await db(clerk_client.post)(f"/admin/guilds/channel/{news.pk}/delete/", {"post": "yes"}, follow=True)
    assert "You need the MANAGE_CHANNELS permission." in r.content.decode()
    assert await db(Channel.objects.filter(pk=news.pk).exists)()
    root = await db(superuser)()
    client = await db(admin_client)(root)
    async with gateway(alice) as a:
        await db(submit)(client, url, name="Announcements Here", topic="Read me", slowmode_seconds="30")
        d = await a.event("CHANNEL_UPDATE")
        assert (d["name"], d["topic"], d["slowmode_seconds"]) == ("announcements-here", "Read me", 30)
        # The service's own checks show on the form.
        page = await db(submit)(client, url, slowmode_seconds="99999")
        assert "Between 0 and 21600 seconds." in page
        await db(client.post)(f"/admin/guilds/channel/{news.pk}/delete/", {"post": "yes"})
        assert (await a.event("CHANNEL_DELETE"))["id"] == news.id
    assert await db(entries)(actor=root) == ["channel_update", "channel_delete"]
    assert not await db(AuditLogEntry.objects.filter(actor=clerk).exists)()


def test_deleting_several_channels_is_all_or_nothing(guild, owner, alice):
    """A staff member may manage one channel (an overwrite) but not the other: neither goes."""
    news, memes = (guilds.create_channel(actor=owner, guild=guild, name=n) for n in ("news", "memes"))
    editor = staff_member(guild, django_perms=["guilds.view_channel", "guilds.delete_channel"])
    guilds.set_overwrite(actor=owner, channel=news, allow=int(P.MANAGE_CHANNELS), deny=0, member=member(guild, editor))
    page = act(admin_client(editor), "guilds/channel", "delete_selected", news, memes, post="yes")
    assert "Nothing was changed: #memes: You need the MANAGE_CHANNELS permission." in page
    assert Channel.objects.filter(pk__in=[news.pk, memes.pk]).count() == 2
    assert not AuditLogEntry.objects.filter(action="channel_delete").exists()


@run_async
async def test_deleting_a_category_in_the_admin_moves_its_channels_out_live(guild, owner, alice):
    root = await db(superuser)()
    client = await db(admin_client)(root)
    category = await db(Category.objects.get)(guild=guild, name="Text channels")
    general = await db(text_channel)(guild)
    async with gateway(alice) as a:
        await db(act)(client, "guilds/category", "delete_selected", category, post="yes")
        d = await a.event("CHANNEL_UPDATE")
        assert (d["id"], d["category_id"]) == (general.id, None)
    e = await db(entry)("category_delete")
    assert (e.actor_id, e.changes) == (root.id, {"name": "Text channels"})


# --- roles and overwrites -----------------------------------------------------------------------------

@run_async
async def test_roles_added_changed_and_deleted_in_the_admin(guild, owner, alice):
    root = await db(superuser)()
    client = await db(admin_client)(root)
    async with gateway(alice) as a:
        await db(submit)(client, "/admin/guilds/role/add/", guild=str(guild.id), name="Helpers",
                         permissions=["MANAGE_MESSAGES", "KICK_MEMBERS"], color="#5865f2")
        d = await a.event("GUILD_ROLE_CREATE")
        assert (d["name"], int(d["permissions"]), d["color"]) == (
            "Helpers", int(P.MANAGE_MESSAGES | P.KICK_MEMBERS), 0x5865F2)
        # @everyone loses VIEW_CHANNEL: alice's page loses every channel at once.
        role = await db(everyone)(guild)
        kept = [n for n in await db(lambda: [p.name for p in P if role.permissions & p])() if n != "VIEW_CHANNEL"]
        await db(submit)(client, f"/admin/guilds/role/{role.pk}/change/", permissions=kept)
        assert (await a.event("GUILD_ROLE_UPDATE"))["id"] == role.id
        assert (await a.event("PERMISSIONS_CHANGED"))["channels"] == []
        helpers = await db(Role.objects.get)(guild=guild, name="Helpers")
        await db(client.post)(f"/admin/guilds/role/{helpers.pk}/delete/", {"post": "yes"})
        assert (await a.event("GUILD_ROLE_DELETE"))["id"] == helpers.id
    assert await db(entries)(actor=root) == ["role_create", "role_update", "role_delete"]


@run_async
async def test_channel_overwrites_changed_and_deleted_in_the_admin(guild, owner, alice):
    general = await db(text_channel)(guild)
    ow = await db(guilds.set_overwrite)(actor=owner, channel=general, allow=0, deny=int(P.ADD_REACTIONS),
                                        role=await db(everyone)(guild))
    root = await db(superuser)()
    client = await db(admin_client)(root)
    async with gateway(alice) as a:
        await db(submit)(client, f"/admin/guilds/permissionoverwrite/{ow.pk}/change/", deny=["VIEW_CHANNEL"])
        assert "general" not in [c["name"] for c in (await a.event("PERMISSIONS_CHANGED"))["channels"]]
        await db(act)(client, "guilds/permissionoverwrite", "delete_selected", ow, post="yes")
        assert "general" in [c["name"] for c in (await a.event("PERMISSIONS_CHANGED"))["channels"]]
    assert await db(entries)(actor=root) == ["overwrite_set", "overwrite_delete"]
    assert (await db(entry)("overwrite_set", actor=root)).changes["deny"] == str(int(P.VIEW_CHANNEL))
    assert not await db(PermissionOverwrite.objects.exists)()


@run_async
async def test_invites_are_revoked_in_the_admin(guild, owner, alice):
    invite = await db(make_invite)(guild, code="admin123")
    root = await db(superuser)()
    client = await db(admin_client)(root)
    async with gateway(owner) as o:
        page = await db(act)(client, "guilds/invite", "revoke", invite)
        assert "1 invite(s) revoked." in page
        assert (await o.event("INVITE_DELETE"))["code"] == "admin123"
    assert (await db(Invite.objects.get)(pk=invite.pk)).revoked_at is not None
    assert (await db(entry)("invite_revoke")).actor_id == root.id


# --- messages and threads -----------------------------------------------------------------------------

@run_async
async def test_messages_deleted_and_pinned_in_the_admin(guild, owner, alice, bob):
    general = await db(text_channel)(guild)
    msg = await db(send)(alice, general, "pin me")
    spam = await db(send)(alice, general, "spam")
    root = await db(superuser)()
    client = await db(admin_client)(root)
    async with gateway(bob) as b:
        await db(act)(client, "chat/message", "pin", msg)
        assert await b.event("CHANNEL_PINS_UPDATE") == {"channel_id": general.id, "guild_id": guild.id,
                                                        "message_id": msg.id, "pinned": True}
        await db(act)(client, "chat/message", "unpin", msg)
        assert (await b.event("CHANNEL_PINS_UPDATE"))["pinned"] is False
        await db(act)(client, "chat/message", "delete_selected", spam, post="yes")
        assert (await b.event("MESSAGE_DELETE"))["id"] == spam.id
    assert not await db(Message.objects.filter(pk=spam.pk).exists)()
    assert await db(entries)(actor=root) == ["message_pin", "message_unpin", "message_delete"]
    e = await db(entry)("message_delete")
    assert (e.target_type, e.target_id, e.changes["author_id"], e.changes["message_id"]) == (
        "channel", general.id, alice.id, spam.id)


@run_async
async def test_threads_locked_and_deleted_in_the_admin(guild, owner, alice, bob):
    general = await db(text_channel)(guild)
    start = await db(send)(alice, general, "let us talk about it")
    thread = await db(thread_services.create_thread)(actor=alice, channel_id=general.id, message_id=start.id,
                                                     name="Side talk")
    root = await db(superuser)()
    client = await db(admin_client)(root)
    async with gateway(bob) as b:
        await db(act)(client, "chat/thread", "lock", thread)
        d = await b.event("THREAD_UPDATE")
        assert (d["id"], d["locked"]) == (thread.pk, True)
        assert (await b.event("MESSAGE_UPDATE"))["thread"]["locked"] is True  # the starter's chip
        await db(act)(client, "chat/thread", "delete_selected", thread, post="yes")
        assert (await b.event("THREAD_DELETE"))["id"] == thread.pk
    assert await db(entries)(actor=root) == ["thread_update", "thread_delete"]
    assert (await db(entry)("thread_update")).changes["locked"] is True


def test_every_admin_page_opens_and_nothing_writes_a_model_directly(guild, owner, alice):
    """Each list and change page renders for a superuser; the forms offer only what a service
    changes, and what no service writes (messages, read states, uploads, the log) is read-only."""
    general = text_channel(guild)
    msg = send(alice, general, "hello")
    ban_user = UserFactory()
    from apps.guilds import sanctions

    sanctions.ban_member(actor=owner, guild=guild, user=ban_user)
    client = admin_client(superuser())
    for path in ("guilds/guild", "guilds/category", "guilds/channel", "guilds/role", "guilds/member", "guilds/ban",
                 "guilds/permissionoverwrite", "guilds/invite", "guilds/auditlogentry", "chat/message",
                 "chat/thread", "chat/readstate", "chat/attachment"):
        assert client.get(f"/admin/{path}/").status_code == 200, path
    pages = {
        f"guilds/guild/{guild.pk}": True, f"guilds/channel/{general.pk}": True,
        f"guilds/member/{member(guild, alice).pk}": True, f"guilds/role/{everyone(guild).pk}": True,
        f"guilds/ban/{Ban.objects.get().pk}": False, f"chat/message/{msg.pk}": False,
    }
    for path, editable in pages.items():
        page = client.get(f"/admin/{path}/change/").content.decode()
        assert ('name="_save"' in page) == editable, path
    page = client.get(f"/admin/chat/message/{msg.pk}/change/").content.decode()
    assert 'name="content"' not in page  # only its author edits a message (markdown, automod, scoring)
    assert client.get("/admin/chat/message/add/").status_code == 403
    assert client.get("/admin/guilds/member/add/").status_code == 403
    assert Member.objects.filter(guild=guild, user=alice).exists()

"""Every guild service: the allowed path changes what members see; the forbidden path raises a
clear domain error and changes nothing."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import Conflict, Forbidden, MissingPermission, NotFound, ValidationFailed
from apps.guilds import invites, sanctions, selectors, services
from apps.guilds.invites import InviteUnusable
from apps.guilds.models import AuditLogEntry, Ban, Channel, Guild, Invite, Member, PermissionOverwrite, Role
from apps.guilds.permissions import DEFAULT_EVERYONE, Permission
from tests.factories import UserFactory, add_member, make_guild, make_role

pytestmark = pytest.mark.django_db
P = Permission


def perms(user, guild, channel=None):
    member = selectors.member_of(user, guild.id)
    return selectors.channel_permissions(member, channel) if channel else selectors.guild_permissions(member)


# --- guilds ---

def test_create_guild_gives_everyone_role_owner_and_default_channels(owner):
    guild = services.create_guild(owner=owner, name="Night Owls")
    everyone = Role.objects.get(guild=guild, is_default=True)
    assert everyone.permissions == int(DEFAULT_EVERYONE)
    assert Member.objects.filter(guild=guild, user=owner).exists()
    assert {(c.name, c.type) for c in guild.channels.all()} == {("general", "text"), ("General", "voice")}
    assert AuditLogEntry.objects.filter(guild=guild, action="guild_create").exists()


@pytest.mark.parametrize("name", ["", "x", "y" * 101])
def test_create_guild_rejects_bad_names_and_leaves_nothing(owner, name):
    with pytest.raises(ValidationFailed) as exc:
        services.create_guild(owner=owner, name=name)
    assert "name" in exc.value.fields
    assert not Guild.objects.exists()


def test_update_guild_needs_manage_guild(guild, owner):
    m = add_member(guild)
    with pytest.raises(MissingPermission) as exc:
        services.update_guild(actor=m.user, guild=guild, name="Hijacked")
    assert exc.value.permission == "MANAGE_GUILD"
    services.update_guild(actor=owner, guild=guild, name="Renamed", discoverable=True)
    guild.refresh_from_db()
    assert (guild.name, guild.discoverable) == ("Renamed", True)


def test_non_member_gets_not_found(guild):
    with pytest.raises(NotFound):
        services.update_guild(actor=UserFactory(), guild=guild, name="x" * 5)


def test_only_owner_deletes_or_transfers(guild, owner):
    admin = add_member(guild, roles=[make_role(guild, permissions=P.ADMINISTRATOR)])
    with pytest.raises(Forbidden):
        services.delete_guild(actor=admin.user, guild=guild)
    with pytest.raises(Forbidden):
        services.transfer_ownership(actor=admin.user, guild=guild, new_owner=admin.user)
    services.transfer_ownership(actor=owner, guild=guild, new_owner=admin.user)
    guild.refresh_from_db()
    assert guild.owner == admin.user
    with pytest.raises(ValidationFailed):
        services.transfer_ownership(actor=admin.user, guild=guild, new_owner=UserFactory())
    services.delete_guild(actor=admin.user, guild=guild)
    assert not Guild.objects.filter(pk=guild.pk).exists()


# --- channels ---

def test_create_channel_normalises_text_names_and_checks_permission(guild, owner):
    m = add_member(guild)
    with pytest.raises(MissingPermission):
        services.create_channel(actor=m.user, guild=guild, name="nope")
    ch = services.create_channel(actor=owner, guild=guild, name="Off Topic Chat")
    assert ch.name == "off-topic-chat"
    voice = services.create_channel(actor=owner, guild=guild, name="Chill Room", type="voice", user_limit=5)
    assert voice.name == "Chill Room"
    assert ch.position > 0


@pytest.mark.parametrize(("field", "kwargs"), [
    ("type", {"type": "fax"}),
    ("slowmode_seconds", {"slowmode_seconds": 21601}),
    ("user_limit", {"user_limit": 100}),
    ("topic", {"topic": "t" * 1025}),
])
def test_create_channel_validates(guild, owner, field, kwargs):
    before = Channel.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.create_channel(actor=owner, guild=guild, name="bad", **kwargs)
    assert field in exc.value.fields
    assert Channel.objects.count() == before


def test_category_of_another_guild_is_refused(guild, owner):
    other = make_guild(owner, name="Other")
    with pytest.raises(ValidationFailed):
        services.create_channel(actor=owner, guild=guild, name="x", category=other.categories.first())


def test_update_and_delete_channel_respect_channel_overwrites(guild, owner):
    mgr_role = make_role(guild, permissions=P.MANAGE_CHANNELS)
    mgr = add_member(guild, roles=[mgr_role])
    ch = guild.channels.get(name="general")
    services.update_channel(actor=mgr.user, channel=ch, topic="Say hi")
    ch.refresh_from_db()
    assert ch.topic == "Say hi"
    PermissionOverwrite.objects.create(channel=ch, role=mgr_role, deny=int(P.MANAGE_CHANNELS))
    with pytest.raises(MissingPermission):
        services.update_channel(actor=mgr.user, channel=ch, topic="nope")
    with pytest.raises(MissingPermission):
        services.delete_channel(actor=mgr.user, channel=ch)
    services.delete_channel(actor=owner, channel=ch)
    assert not Channel.objects.filter(pk=ch.pk).exists()


def test_reorder_channels(guild, owner):
    ids = list(guild.channels.order_by("position").values_list("id", flat=True))
    services.reorder_channels(actor=owner, guild=guild, order=[(i, None) for i in reversed(ids)])
    assert list(guild.channels.order_by("position").values_list("id", flat=True)) == list(reversed(ids))
    with pytest.raises(ValidationFailed):
        services.reorder_channels(actor=owner, guild=guild, order=[(ids[0], None), (ids[0], None)])
    with pytest.raises(MissingPermission):
        services.reorder_channels(actor=add_member(guild).user, guild=guild, order=[])


def test_categories(guild, owner):
    cat = services.create_category(actor=owner, guild=guild, name="Games")
    ch = services.create_channel(actor=owner, guild=guild, name="chess", category=cat)
    services.delete_category(actor=owner, category=cat)
    ch.refresh_from_db()
    assert ch.category is None  # the channel survives its category
    with pytest.raises(MissingPermission):
        services.create_category(actor=add_member(guild).user, guild=guild, name="x")


# --- roles and hierarchy ---

def test_create_role_goes_above_everyone_and_cannot_grant_missing_bits(guild, owner):
    manager = add_member(guild, roles=[make_role(guild, permissions=P.MANAGE_ROLES, position=5)])
    role = services.create_role(actor=manager.user, guild=guild, name="Helpers", color="#ff8800")
    assert role.position == 1 and role.color == 0xFF8800
    with pytest.raises(MissingPermission):
        services.create_role(actor=manager.user, guild=guild, name="Bad", permissions=int(P.BAN_MEMBERS))
    assert not Role.objects.filter(name="Bad").exists()
    with pytest.raises(ValidationFailed):
        services.create_role(actor=owner, guild=guild, name="Bits", permissions=1 << 62)
    with pytest.raises(ValidationFailed):
        services.create_role(actor=owner, guild=guild, name="Colour", color="not-a-colour")


def test_role_hierarchy_is_enforced(guild, owner):
    top = make_role(guild, permissions=P.MANAGE_ROLES, position=3, name="top")
    mid = make_role(guild, position=2, name="mid")
    high = make_role(guild, position=4, name="high")
    actor = add_member(guild, roles=[top]).user
    services.update_role(actor=actor, role=mid, name="middle")
    with pytest.raises(Forbidden) as exc:
        services.update_role(actor=actor, role=high, name="mine now")
    assert exc.value.code == "role_hierarchy"
    with pytest.raises(Forbidden):
        services.update_role(actor=actor, role=top, name="equal is not below")
    with pytest.raises(Forbidden):
        services.delete_role(actor=actor, role=high)
    with pytest.raises(Forbidden):
        services.assign_role(actor=actor, member=add_member(guild), role=high)
    services.update_role(actor=owner, role=high, name="owner can")


def test_everyone_role_cannot_be_renamed_or_deleted_but_its_permissions_change(guild, owner):
    everyone = Role.objects.get(guild=guild, is_default=True)
    with pytest.raises(ValidationFailed):
        services.update_role(actor=owner, role=everyone, name="all")
    with pytest.raises(ValidationFailed):
        services.delete_role(actor=owner, role=everyone)
    m = add_member(guild)
    services.update_role(actor=owner, role=everyone, permissions=int(P.VIEW_CHANNEL))
    assert not perms(m.user, guild) & P.SEND_MESSAGES


def test_reorder_roles_within_own_range(guild, owner):
    a, b, c = (make_role(guild, position=i, name=n) for i, n in [(1, "a"), (2, "b"), (3, "c")])
    services.reorder_roles(actor=owner, guild=guild, order=[a.id, b.id, c.id])
    assert [r.name for r in Role.objects.filter(guild=guild, is_default=False).order_by("-position")] == ["a", "b", "c"]
    actor = add_member(guild, roles=[make_role(guild, permissions=P.MANAGE_ROLES, position=2, name="mgr")]).user
    with pytest.raises(Forbidden):
        services.reorder_roles(actor=actor, guild=guild, order=[a.id, c.id])


def test_assign_and_remove_role_change_permissions(guild, owner):
    kicker = make_role(guild, permissions=P.KICK_MEMBERS)
    m = add_member(guild)
    services.assign_role(actor=owner, member=m, role=kicker)
    assert perms(m.user, guild) & P.KICK_MEMBERS
    services.remove_role(actor=owner, member=m, role=kicker)
    assert not perms(m.user, guild) & P.KICK_MEMBERS
    other = make_guild(owner, name="Other")
    with pytest.raises(ValidationFailed):
        services.assign_role(actor=owner, member=m, role=make_role(other))


# --- overwrites ---

def test_private_channel_with_overwrites(guild, owner):
    staff = make_role(guild, name="staff")
    ch = services.create_channel(actor=owner, guild=guild, name="staff-room")
    everyone = Role.objects.get(guild=guild, is_default=True)
    services.set_overwrite(actor=owner, channel=ch, role=everyone, allow=0, deny=int(P.VIEW_CHANNEL))
    services.set_overwrite(actor=owner, channel=ch, role=staff, allow=int(P.VIEW_CHANNEL), deny=0)
    plain, crew = add_member(guild), add_member(guild, roles=[staff])
    assert ch not in [c for c, _ in selectors.visible_channels(plain)]
    assert ch in [c for c, _ in selectors.visible_channels(crew)]
    with pytest.raises(NotFound):
        selectors.access_channel(plain.user, ch.id)
    # one member let in personally
    services.set_overwrite(actor=owner, channel=ch, member=plain, allow=int(P.VIEW_CHANNEL), deny=0)
    assert selectors.access_channel(plain.user, ch.id).channel == ch
    services.delete_overwrite(actor=owner, overwrite=PermissionOverwrite.objects.get(channel=ch, member=plain))
    with pytest.raises(NotFound):
        selectors.access_channel(plain.user, ch.id)


def test_set_overwrite_validation(guild, owner):
    ch = guild.channels.first()
    role = make_role(guild)
    with pytest.raises(ValidationFailed):
        services.set_overwrite(actor=owner, channel=ch, role=role, allow=int(P.SEND_MESSAGES),
                               deny=int(P.SEND_MESSAGES))
    with pytest.raises(ValidationFailed):  # guild-wide bits cannot be overwritten per channel
        services.set_overwrite(actor=owner, channel=ch, role=role, allow=int(P.BAN_MEMBERS), deny=0)
    with pytest.raises(ValidationFailed):
        services.set_overwrite(actor=owner, channel=ch, allow=0, deny=0)
    with pytest.raises(MissingPermission):
        services.set_overwrite(actor=add_member(guild).user, channel=ch, role=role, allow=0, deny=0)
    assert not PermissionOverwrite.objects.exists()


# --- members: nickname, timeout, kick, ban, leave ---

def test_nicknames(guild, owner):
    m = add_member(guild)
    services.set_nickname(actor=m.user, member=m, nickname="Mo")
    assert Member.objects.get(pk=m.pk).nickname == "Mo"
    other = add_member(guild)
    with pytest.raises(MissingPermission):
        services.set_nickname(actor=m.user, member=other, nickname="x")
    with pytest.raises(ValidationFailed):
        services.set_nickname(actor=owner, member=other, nickname="n" * 33)


def test_timeout_strips_permissions_until_lifted(guild, owner):
    mod = add_member(guild, roles=[make_role(guild, permissions=P.MODERATE_MEMBERS, position=5)])
    m = add_member(guild)
    sanctions.timeout_member(actor=mod.user, member=m, duration=timedelta(hours=1), reason="cool down")
    p = perms(m.user, guild)
    assert p & P.VIEW_CHANNEL and p & P.READ_MESSAGE_HISTORY and not p & P.SEND_MESSAGES
    sanctions.timeout_member(actor=mod.user, member=m, duration=None)
    assert perms(m.user, guild) & P.SEND_MESSAGES
    with pytest.raises(ValidationFailed):
        sanctions.timeout_member(actor=mod.user, member=m, duration=timedelta(days=29))
    with pytest.raises(Forbidden):
        sanctions.timeout_member(actor=mod.user, member=Member.objects.get(guild=guild, user=owner),
                                 duration=timedelta(hours=1))
    admin = add_member(guild, roles=[make_role(guild, permissions=P.ADMINISTRATOR, position=1)])
    with pytest.raises(Forbidden):
        sanctions.timeout_member(actor=owner, member=admin, duration=timedelta(hours=1))


def test_kick(guild, owner):
    mod_role = make_role(guild, permissions=P.KICK_MEMBERS, position=3)
    mod = add_member(guild, roles=[mod_role])
    peer = add_member(guild, roles=[make_role(guild, position=3)])
    victim = add_member(guild)
    with pytest.raises(Forbidden):
        sanctions.kick_member(actor=mod.user, member=peer)
    with pytest.raises(ValidationFailed):
        sanctions.kick_member(actor=mod.user, member=mod)
    sanctions.kick_member(actor=mod.user, member=victim, reason="spam")
    assert not Member.objects.filter(pk=victim.pk).exists()
    assert AuditLogEntry.objects.get(action="member_kick").reason == "spam"
    with pytest.raises(MissingPermission):
        sanctions.kick_member(actor=peer.user, member=mod)


def test_ban_removes_member_and_blocks_rejoin_until_unban(guild, owner):
    victim = add_member(guild)
    invite = invites.create_invite(actor=owner, guild=guild)
    sanctions.ban_member(actor=owner, guild=guild, user=victim.user, reason="raid")
    assert not Member.objects.filter(guild=guild, user=victim.user).exists()
    with pytest.raises(Forbidden) as exc:
        invites.join_by_invite(user=victim.user, code=invite.code)
    assert exc.value.code == "banned"
    with pytest.raises(Conflict):
        sanctions.ban_member(actor=owner, guild=guild, user=victim.user)
    sanctions.unban_member(actor=owner, guild=guild, user=victim.user)
    invites.join_by_invite(user=victim.user, code=invite.code)
    with pytest.raises(NotFound):
        sanctions.unban_member(actor=owner, guild=guild, user=victim.user)


def test_ban_non_member_and_owner(guild, owner):
    stranger = UserFactory()
    sanctions.ban_member(actor=owner, guild=guild, user=stranger)  # pre-emptive ban, like Discord
    assert Ban.objects.filter(guild=guild, user=stranger).exists()
    banner = add_member(guild, roles=[make_role(guild, permissions=P.BAN_MEMBERS, position=9)])
    with pytest.raises(Forbidden):
        sanctions.ban_member(actor=banner.user, guild=guild, user=owner)
    with pytest.raises(ValidationFailed):
        sanctions.ban_member(actor=owner, guild=guild, user=UserFactory(), delete_message_days=8)


def test_leave(guild, owner):
    m = add_member(guild)
    services.leave_guild(user=m.user, guild=guild)
    assert not Member.objects.filter(pk=m.pk).exists()
    with pytest.raises(Conflict):
        services.leave_guild(user=owner, guild=guild)


# --- invites ---

def test_invite_lifecycle(guild, owner):
    inv = invites.create_invite(actor=owner, guild=guild, max_uses=2, max_age_seconds=3600)
    assert len(inv.code) == 8
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    invites.join_by_invite(user=a, code=inv.code)
    invites.join_by_invite(user=a, code=inv.code)  # already a member: no second use
    invites.join_by_invite(user=b, code=inv.code)
    assert Invite.objects.get(pk=inv.pk).uses == 2
    with pytest.raises(InviteUnusable) as exc:
        invites.join_by_invite(user=c, code=inv.code)
    assert exc.value.code == "invite_exhausted"


def test_expired_revoked_and_unknown_invites(guild, owner):
    inv = invites.create_invite(actor=owner, guild=guild)
    Invite.objects.filter(pk=inv.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InviteUnusable) as exc:
        invites.join_by_invite(user=UserFactory(), code=inv.code)
    assert exc.value.code == "invite_expired"
    inv2 = invites.create_invite(actor=owner, guild=guild, max_age_seconds=0)
    invites.revoke_invite(actor=owner, invite=inv2)
    with pytest.raises(InviteUnusable):
        invites.join_by_invite(user=UserFactory(), code=inv2.code)
    with pytest.raises(NotFound):
        invites.join_by_invite(user=UserFactory(), code="nope")


def test_invite_permissions(guild, owner):
    everyone = Role.objects.get(guild=guild, is_default=True)
    services.update_role(actor=owner, role=everyone, permissions=int(P.VIEW_CHANNEL))
    m = add_member(guild)
    with pytest.raises(MissingPermission):
        invites.create_invite(actor=m.user, guild=guild)
    with pytest.raises(ValidationFailed):
        invites.create_invite(actor=owner, guild=guild, max_uses=101)
    with pytest.raises(ValidationFailed):
        invites.create_invite(actor=owner, guild=guild, max_age_seconds=8 * 86400)
    inv = invites.create_invite(actor=owner, guild=guild)
    with pytest.raises(MissingPermission):
        invites.revoke_invite(actor=m.user, invite=inv)


def test_active_invites_leave_out_revoked_expired_and_used_up(guild, owner):
    live = invites.create_invite(actor=owner, guild=guild)
    used = invites.create_invite(actor=owner, guild=guild, max_uses=1)
    invites.join_by_invite(user=UserFactory(), code=used.code)
    old = invites.create_invite(actor=owner, guild=guild)
    Invite.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    invites.revoke_invite(actor=owner, invite=invites.create_invite(actor=owner, guild=guild))
    assert list(selectors.active_invites(guild)) == [live]

"""Every change to a guild. Each function checks permission through the engine, writes in one
transaction, records the audit log where moderators would look, and publishes after commit."""
from __future__ import annotations

import re

from django.db import transaction
from django.db.models import F, Max
from django.utils.translation import gettext, gettext_noop

from apps.core.errors import Conflict, Forbidden, MissingPermission, ValidationFailed
from apps.core.images import validate_image

from . import events, layout, payloads
from .models import AuditLogEntry, Category, Channel, Guild, Member, PermissionOverwrite, Role
from .permissions import (
    ALL,
    CHANNEL_OVERWRITABLE,
    DEFAULT_EVERYONE,
    Permission,
    can_act_on,
)
from .selectors import (
    GuildAccess,
    access_guild,
    channel_access_of,
    has_authenticator,
    moderator_access,
    top_position,
    visible_channels,
)

MAX_CHANNELS = 500
MAX_ROLES = 250


# --- helpers -------------------------------------------------------------------------------

def record_audit(guild: Guild, actor, action: str, *, target=None, reason: str = "",
                 changes: dict | None = None) -> None:
    """Write one audit log entry. Every service that changes a guild, in any app, records here
    (inside its transaction), so the log is the one place moderators look."""
    AuditLogEntry.objects.create(
        guild=guild, actor=actor, action=action, reason=reason[:512], changes=changes or {},
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=getattr(target, "pk", None),
    )


def _name(value: str, *, field: str = "name", min_len: int = 1, max_len: int = 100) -> str:
    value = (value or "").strip()
    if not min_len <= len(value) <= max_len:
        raise ValidationFailed.field(field, gettext("Must be between %(min)s and %(max)s characters.")
                                     % {"min": min_len, "max": max_len})
    return value


def _is_owner(access: GuildAccess) -> bool:
    return access.guild.owner_id == access.member.user_id


# What check_outranks says, per act: (about the owner, about a member at or above the actor).
_OUTRANKED = {
    "rename": (gettext_noop("You cannot rename the guild owner."),
               gettext_noop("You cannot rename a member whose highest role is at or above yours.")),
    "time out": (gettext_noop("You cannot time out the guild owner."),
                 gettext_noop("You cannot time out a member whose highest role is at or above yours.")),
    "kick": (gettext_noop("You cannot kick the guild owner."),
             gettext_noop("You cannot kick a member whose highest role is at or above yours.")),
    "ban": (gettext_noop("You cannot ban the guild owner."),
            gettext_noop("You cannot ban a member whose highest role is at or above yours.")),
}


def check_outranks(access: GuildAccess, target: Member, *, verb: str) -> None:
    """Refuses acting on the owner, or on a member whose highest role is at or above the actor's.
    `verb` is one of _OUTRANKED's acts."""
    owner, higher = _OUTRANKED[verb]
    if target.user_id == access.guild.owner_id:
        raise Forbidden(gettext(owner), code="role_hierarchy")
    if not can_act_on(top_position(access.member), top_position(target), actor_is_owner=_is_owner(access)):
        raise Forbidden(gettext(higher), code="role_hierarchy")


def _check_role_below(access: GuildAccess, role: Role) -> None:
    if not can_act_on(top_position(access.member), role.position, actor_is_owner=_is_owner(access)):
        raise Forbidden(gettext("You cannot manage a role at or above your highest role."), code="role_hierarchy")


def _check_grantable(access: GuildAccess, bits: int) -> None:
    """Nobody hands out a permission they do not hold themselves (owner and admins aside)."""
    missing = bits & ~int(access.permissions)
    if missing:
        raise MissingPermission(Permission(missing & ALL).name or "ADMINISTRATOR",
                                gettext("You cannot grant permissions you do not have."))


def _permission_bits(value: int, *, field: str, allowed: int = int(ALL)) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed.field(field, gettext("Must be an integer bitfield.")) from None
    if value < 0 or value & ~allowed:
        raise ValidationFailed.field(field, gettext("Contains unknown or unsupported permission bits."))
    return value


# --- guilds --------------------------------------------------------------------------------

@transaction.atomic
def create_guild(*, owner, name: str, description: str = "", discoverable: bool = False) -> Guild:
    name = _name(name, min_len=2)
    if len(description) > 1000:
        raise ValidationFailed.field("description", gettext("At most 1000 characters."))
    guild = Guild.objects.create(owner=owner, name=name, description=description, discoverable=discoverable)
    Role.objects.create(guild=guild, name="@everyone", position=0, is_default=True, permissions=int(DEFAULT_EVERYONE))
    Member.objects.create(guild=guild, user=owner)
    text = Category.objects.create(guild=guild, name="Text channels", position=0)
    voice = Category.objects.create(guild=guild, name="Voice channels", position=1)
    Channel.objects.create(guild=guild, category=text, name="general", type=Channel.Type.TEXT, position=0)
    Channel.objects.create(guild=guild, category=voice, name="General", type=Channel.Type.VOICE, position=1)
    record_audit(guild, owner, "guild_create", target=guild)
    events.to_user(owner.id, events.GUILD_CREATE, payloads.guild_payload(guild))
    return guild


@transaction.atomic
def update_guild(*, actor, guild: Guild, name: str | None = None, description: str | None = None,
                 discoverable: bool | None = None, icon=None, mfa_required: bool | None = None) -> Guild:
    access = moderator_access(actor, guild.id)
    access.require(Permission.MANAGE_GUILD)
    guild = access.guild
    changes = {}
    if mfa_required is not None and bool(mfa_required) != guild.mfa_required:
        _check_mfa_change(actor, access)
        guild.mfa_required = changes["mfa_required"] = bool(mfa_required)
    if name is not None:
        guild.name = changes["name"] = _name(name, min_len=2)
    if description is not None:
        if len(description) > 1000:
            raise ValidationFailed.field("description", gettext("At most 1000 characters."))
        guild.description = changes["description"] = description
    if discoverable is not None:
        guild.discoverable = changes["discoverable"] = bool(discoverable)
    if icon is not None:
        validate_image(icon, field="icon")
        guild.icon = icon
        changes["icon"] = True
    guild.save()
    record_audit(guild, actor, "guild_update", target=guild, changes=changes)
    events.to_guild(guild.id, events.GUILD_UPDATE, payloads.guild_payload(guild))
    return guild


def _check_mfa_change(actor, access: GuildAccess) -> None:
    """As on Discord, only the owner sets the guild's two-factor requirement, and only with
    two-factor authentication on (a platform superuser acts from the 2FA admin)."""
    if getattr(actor, "is_superuser", False):
        return
    if not _is_owner(access):
        raise Forbidden(gettext("Only the owner can change the two-factor requirement."), code="not_owner")
    if not has_authenticator(access.member):
        raise Forbidden(gettext("Turn on two-factor authentication for your own account first."),
                        code="mfa_required")


@transaction.atomic
def delete_guild(*, actor, guild: Guild) -> None:
    access = moderator_access(actor, guild.id)
    if not _is_owner(access):
        raise Forbidden(gettext("Only the owner can delete the guild."), code="not_owner")
    guild_id = guild.id
    guild.delete()
    events.to_guild(guild_id, events.GUILD_DELETE, payloads.guild_deleted(guild_id))


@transaction.atomic
def transfer_ownership(*, actor, guild: Guild, new_owner) -> Guild:
    access = moderator_access(actor, guild.id)
    if not _is_owner(access):
        raise Forbidden(gettext("Only the owner can transfer the guild."), code="not_owner")
    if not Member.objects.filter(guild=guild, user=new_owner).exists():
        raise ValidationFailed.field("owner_id", gettext("The new owner must be a member of the guild."))
    guild = Guild.objects.select_for_update().get(pk=guild.pk)
    guild.owner = new_owner
    guild.save(update_fields=["owner"])
    record_audit(guild, actor, "guild_transfer", target=guild, changes={"owner_id": new_owner.id})
    events.to_guild(guild.id, events.GUILD_UPDATE, payloads.guild_payload(guild))
    return guild


# --- categories and channels ---------------------------------------------------------------

def _channel_name(name: str, type_: str) -> str:
    name = _name(name)
    if type_ != Channel.Type.VOICE:
        # Text channels read like Discord's: lower case, dashes instead of spaces.
        name = re.sub(r"\s+", "-", name.lower())
    return name


@transaction.atomic
def create_category(*, actor, guild: Guild, name: str) -> Category:
    moderator_access(actor, guild.id).require(Permission.MANAGE_CHANNELS)
    position = (Category.objects.filter(guild=guild).aggregate(m=Max("position"))["m"] or 0) + 1
    cat = Category.objects.create(guild=guild, name=_name(name), position=position)
    record_audit(guild, actor, "category_create", target=cat, changes={"name": cat.name})
    return cat


@transaction.atomic
def delete_category(*, actor, category: Category) -> None:
    moderator_access(actor, category.guild_id).require(Permission.MANAGE_CHANNELS)
    record_audit(category.guild, actor, "category_delete", target=category, changes={"name": category.name})
    orphans = list(category.channels.filter(parent__isnull=True))
    category.delete()  # its channels keep living, uncategorised: open pages move them
    for channel in orphans:
        channel.category_id = None
        events.to_guild(channel.guild_id, events.CHANNEL_UPDATE, payloads.channel_payload(channel))


def _validate_channel_fields(guild: Guild, *, type_: str, category, topic: str, slowmode_seconds: int,
                             user_limit: int) -> None:
    if type_ not in Channel.GUILD_TYPES:
        raise ValidationFailed.field("type", gettext("Must be one of %(types)s.")
                                     % {"types": ", ".join(Channel.GUILD_TYPES)})
    if category is not None and category.guild_id != guild.id:
        raise ValidationFailed.field("category_id", gettext("That category belongs to another guild."))
    if len(topic) > 1024:
        raise ValidationFailed.field("topic", gettext("At most 1024 characters."))
    if not 0 <= int(slowmode_seconds) <= 21600:
        raise ValidationFailed.field("slowmode_seconds", gettext("Between 0 and 21600 seconds."))
    if not 0 <= int(user_limit) <= 99:
        raise ValidationFailed.field("user_limit", gettext("Between 0 (no limit) and 99."))


@transaction.atomic
def create_channel(*, actor, guild: Guild, name: str, type: str = Channel.Type.TEXT, category: Category | None = None,
                   topic: str = "", nsfw: bool = False, slowmode_seconds: int = 0, user_limit: int = 0) -> Channel:
    moderator_access(actor, guild.id).require(Permission.MANAGE_CHANNELS)
    _validate_channel_fields(guild, type_=type, category=category, topic=topic,
                             slowmode_seconds=slowmode_seconds, user_limit=user_limit)
    if Channel.objects.filter(guild=guild, parent__isnull=True).count() >= MAX_CHANNELS:
        raise Conflict(gettext("A guild has at most %(n)s channels.") % {"n": MAX_CHANNELS}, code="too_many_channels")
    position = (Channel.objects.filter(guild=guild).aggregate(m=Max("position"))["m"] or 0) + 1
    channel = Channel.objects.create(
        guild=guild, category=category, name=_channel_name(name, type), type=type, topic=topic, nsfw=nsfw,
        slowmode_seconds=slowmode_seconds, user_limit=user_limit, position=position,
    )
    record_audit(guild, actor, "channel_create", target=channel, changes={"name": channel.name, "type": type})
    events.to_guild(guild.id, events.CHANNEL_CREATE, payloads.channel_payload(channel))
    return channel


_CHANNEL_FIELDS = ("name", "topic", "nsfw", "slowmode_seconds", "user_limit", "category")


@transaction.atomic
def update_channel(*, actor, channel: Channel, **changes) -> Channel:
    unknown = set(changes) - set(_CHANNEL_FIELDS)
    if unknown:
        raise ValidationFailed(gettext("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    _not_a_thread(channel)
    member = moderator_access(actor, channel.guild_id).member
    channel_access_of(member, channel).require(Permission.MANAGE_CHANNELS)
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    merged = {f: getattr(channel, f) for f in _CHANNEL_FIELDS} | changes
    _validate_channel_fields(channel.guild, type_=channel.type, category=merged["category"], topic=merged["topic"],
                             slowmode_seconds=merged["slowmode_seconds"], user_limit=merged["user_limit"])
    if "name" in changes:
        changes["name"] = _channel_name(changes["name"], channel.type)
    for f, v in changes.items():
        setattr(channel, f, v)
    channel.save()
    record_audit(channel.guild, actor, "channel_update", target=channel,
           changes={k: (v.id if isinstance(v, Category) else v) for k, v in changes.items()})
    events.to_guild(channel.guild_id, events.CHANNEL_UPDATE, payloads.channel_payload(channel))
    return channel


@transaction.atomic
def reorder_channels(*, actor, guild: Guild, order: list[tuple[int, int | None]]) -> list[Channel]:
    """Set every listed channel's position (its index) and category, in one go. A channel the actor
    cannot view is refused like an unknown one."""
    access = moderator_access(actor, guild.id)
    access.require(Permission.MANAGE_CHANNELS)
    channels = {c.id: c for c in Channel.objects.select_for_update().filter(guild=guild)}
    visible = {c.id for c, _ in visible_channels(access.member)}
    categories = set(Category.objects.filter(guild=guild).values_list("id", flat=True))
    ids = [cid for cid, _ in order]
    if len(set(ids)) != len(ids) or not set(ids) <= visible:
        raise ValidationFailed.field("order", gettext("List each channel of this guild at most once."))
    for index, (cid, cat_id) in enumerate(order):
        if cat_id is not None and cat_id not in categories:
            raise ValidationFailed.field("order", gettext("Unknown category %(id)s.") % {"id": cat_id})
        ch = channels[cid]
        ch.position, ch.category_id = index, cat_id
    Channel.objects.bulk_update([channels[i] for i in ids], ["position", "category"])
    layout.bump(guild.id)  # bulk_update sends no signal
    record_audit(guild, actor, "channel_reorder", changes={"order": ids})
    for cid in ids:
        events.to_guild(guild.id, events.CHANNEL_UPDATE, payloads.channel_payload(channels[cid]))
    return sorted(channels.values(), key=lambda c: (c.position, c.id))


@transaction.atomic
def delete_channel(*, actor, channel: Channel) -> None:
    _not_a_thread(channel)
    member = moderator_access(actor, channel.guild_id).member
    channel_access_of(member, channel).require(Permission.MANAGE_CHANNELS)
    payload = payloads.channel_payload(channel)
    record_audit(channel.guild, actor, "channel_delete", target=channel, changes={"name": channel.name})
    channel.delete()
    events.to_guild(payload["guild_id"], events.CHANNEL_DELETE, payload)


# --- roles ---------------------------------------------------------------------------------

def _color(value) -> int:
    if isinstance(value, str):
        value = value.strip().lstrip("#") or "0"
        try:
            value = int(value, 16)
        except ValueError:
            raise ValidationFailed.field("color", gettext("Use a colour like #5865f2.")) from None
    if not 0 <= int(value) <= 0xFFFFFF:
        raise ValidationFailed.field("color", gettext("Use an RGB colour between 0 and 0xFFFFFF."))
    return int(value)


@transaction.atomic
def create_role(*, actor, guild: Guild, name: str, permissions: int = 0, color=0, hoist: bool = False,
                mentionable: bool = False) -> Role:
    access = moderator_access(actor, guild.id)
    access.require(Permission.MANAGE_ROLES)
    permissions = _permission_bits(permissions, field="permissions")
    _check_grantable(access, permissions)
    if Role.objects.filter(guild=guild).count() >= MAX_ROLES:
        raise Conflict(gettext("A guild has at most %(n)s roles.") % {"n": MAX_ROLES}, code="too_many_roles")
    # A new role goes just above @everyone, as in Discord; the others move up one.
    Role.objects.filter(guild=guild, is_default=False).update(position=F("position") + 1)
    role = Role.objects.create(guild=guild, name=_name(name), permissions=permissions, color=_color(color),
                               hoist=hoist, mentionable=mentionable, position=1)
    record_audit(guild, actor, "role_create", target=role, changes={"name": role.name, "permissions": str(permissions)})
    events.to_guild(guild.id, events.ROLE_CREATE, payloads.role_payload(role))
    return role


@transaction.atomic
def update_role(*, actor, role: Role, name: str | None = None, permissions: int | None = None, color=None,
                hoist: bool | None = None, mentionable: bool | None = None) -> Role:
    access = moderator_access(actor, role.guild_id)
    access.require(Permission.MANAGE_ROLES)
    role = Role.objects.select_for_update().get(pk=role.pk)
    if not role.is_default:
        _check_role_below(access, role)
    changes = {}
    if name is not None:
        if role.is_default:
            raise ValidationFailed.field("name", gettext("The @everyone role cannot be renamed."))
        role.name = changes["name"] = _name(name)
    if permissions is not None:
        permissions = _permission_bits(permissions, field="permissions")
        _check_grantable(access, permissions & ~role.permissions)
        role.permissions = permissions
        changes["permissions"] = str(permissions)
    if color is not None:
        role.color = changes["color"] = _color(color)
    if hoist is not None:
        role.hoist = changes["hoist"] = bool(hoist)
    if mentionable is not None:
        role.mentionable = changes["mentionable"] = bool(mentionable)
    role.save()
    record_audit(role.guild, actor, "role_update", target=role, changes=changes)
    events.to_guild(role.guild_id, events.ROLE_UPDATE, payloads.role_payload(role))
    if "permissions" in changes:
        events.to_guild(role.guild_id, events.PERMISSIONS_CHANGED,
                        payloads.permissions_changed(role.guild_id, role_id=role.id))
    return role


@transaction.atomic
def reorder_roles(*, actor, guild: Guild, order: list[int]) -> list[Role]:
    """`order` lists role ids from highest to lowest; they take the positions they held between them.
    Only roles below the actor's highest role can be moved, and only among themselves."""
    access = moderator_access(actor, guild.id)
    access.require(Permission.MANAGE_ROLES)
    roles = {r.id: r for r in Role.objects.select_for_update().filter(guild=guild, is_default=False)}
    if len(set(order)) != len(order) or not set(order) <= set(roles):
        raise ValidationFailed.field("order", gettext("List each role of this guild at most once (not @everyone)."))
    for rid in order:
        _check_role_below(access, roles[rid])
    slots = sorted((roles[rid].position for rid in order), reverse=True)
    for rid, position in zip(order, slots, strict=True):
        roles[rid].position = position
    Role.objects.bulk_update([roles[r] for r in order], ["position"])
    record_audit(guild, actor, "role_reorder", changes={"order": order})
    for rid in order:
        events.to_guild(guild.id, events.ROLE_UPDATE, payloads.role_payload(roles[rid]))
    return sorted(roles.values(), key=lambda r: -r.position)


@transaction.atomic
def delete_role(*, actor, role: Role) -> None:
    access = moderator_access(actor, role.guild_id)
    access.require(Permission.MANAGE_ROLES)
    if role.is_default:
        raise ValidationFailed(gettext("The @everyone role cannot be deleted."), code="default_role")
    if role.managed and role.members.exists():
        raise Conflict(gettext("This role belongs to a bot of the guild: remove the bot first."), code="managed_role")
    _check_role_below(access, role)
    payload = payloads.role_payload(role)
    record_audit(role.guild, actor, "role_delete", target=role, changes={"name": role.name})
    role.delete()
    events.to_guild(payload["guild_id"], events.ROLE_DELETE, payload)
    events.to_guild(payload["guild_id"], events.PERMISSIONS_CHANGED, payloads.permissions_changed(payload["guild_id"]))


# --- members -------------------------------------------------------------------------------

def _member_roles_changed(actor, member: Member, action: str, role: Role) -> None:
    record_audit(member.guild, actor, action, target=member, changes={"role_id": role.id, "user_id": member.user_id})
    events.to_guild(member.guild_id, events.MEMBER_UPDATE, payloads.member_payload(member))
    events.to_user(member.user_id, events.PERMISSIONS_CHANGED, payloads.permissions_changed(member.guild_id))


def _check_role_change(actor, member: Member, role: Role) -> None:
    access = moderator_access(actor, member.guild_id)
    access.require(Permission.MANAGE_ROLES)
    if role.guild_id != member.guild_id or role.is_default:
        raise ValidationFailed.field("role_id", gettext("Pick a role of this guild other than @everyone."))
    if role.managed:
        raise Conflict(gettext("This role is managed by a bot: it cannot be given or taken away."),
                       code="managed_role")
    _check_role_below(access, role)


@transaction.atomic
def assign_role(*, actor, member: Member, role: Role) -> Member:
    _check_role_change(actor, member, role)
    member.roles.add(role)
    _member_roles_changed(actor, member, "member_role_add", role)
    return member


@transaction.atomic
def remove_role(*, actor, member: Member, role: Role) -> Member:
    _check_role_change(actor, member, role)
    member.roles.remove(role)
    _member_roles_changed(actor, member, "member_role_remove", role)
    return member


@transaction.atomic
def set_member_roles(*, actor, member: Member, roles: list[Role]) -> Member:
    current = set(member.roles.all())
    wanted = set(roles)
    for role in wanted - current:
        assign_role(actor=actor, member=member, role=role)
    for role in current - wanted:
        remove_role(actor=actor, member=member, role=role)
    return member


@transaction.atomic
def set_nickname(*, actor, member: Member, nickname: str) -> Member:
    access = moderator_access(actor, member.guild_id)
    nickname = (nickname or "").strip()
    if len(nickname) > 32:
        raise ValidationFailed.field("nickname", gettext("At most 32 characters."))
    if member.user_id == actor.id:
        access.require(Permission.CHANGE_NICKNAME)
    else:
        access.require(Permission.MANAGE_NICKNAMES)
        check_outranks(access, member, verb="rename")
        record_audit(member.guild, actor, "member_nickname", target=member,
                     changes={"user_id": member.user_id, "nickname": nickname})
    member.nickname = nickname
    member.save(update_fields=["nickname"])
    events.to_guild(member.guild_id, events.MEMBER_UPDATE, payloads.member_payload(member))
    return member


def remove_member(member: Member) -> None:
    """Take a member out of the guild and tell the sockets. Precondition: the caller checked the
    right to (leaving oneself, or a kick or ban in sanctions.py), inside its transaction."""
    guild_id, user_id = member.guild_id, member.user_id
    managed = list(member.roles.filter(managed=True))  # a bot's own role leaves with it
    member.delete()
    events.to_guild(guild_id, events.MEMBER_REMOVE, payloads.guild_user(guild_id, user_id))
    for role in managed:
        payload = payloads.role_payload(role)
        role.delete()
        events.to_guild(guild_id, events.ROLE_DELETE, payload)
    events.to_user(user_id, events.GUILD_DELETE, payloads.guild_deleted(guild_id))


@transaction.atomic
def leave_guild(*, user, guild: Guild) -> None:
    access = access_guild(user, guild.id)
    if _is_owner(access):
        raise Conflict(gettext("The owner cannot leave: transfer ownership or delete the guild."),
                       code="owner_cannot_leave")
    remove_member(access.member)


@transaction.atomic
def add_bot_member(*, actor, guild: Guild, bot, permissions: int, role_name: str) -> tuple[Member, Role]:
    """Add a bot user to a guild on behalf of someone with MANAGE_GUILD, with a role of its own
    holding `permissions` (no more than the actor holds), placed just above @everyone, at the
    bottom of the hierarchy. A bot already in the guild keeps its membership and role."""
    access = moderator_access(actor, guild.id)
    access.require(Permission.MANAGE_GUILD)
    permissions = _permission_bits(permissions, field="permissions")
    _check_grantable(access, permissions)
    if guild.bans.filter(user=bot).exists():
        raise Forbidden(gettext("This bot is banned from this guild."), code="banned")
    existing = Member.objects.filter(guild=guild, user=bot).first()
    if existing is not None:
        raise Conflict(gettext("This bot is already in this guild."), code="already_member")
    if Role.objects.filter(guild=guild).count() >= MAX_ROLES:
        raise Conflict(gettext("A guild has at most %(n)s roles.") % {"n": MAX_ROLES}, code="too_many_roles")
    Role.objects.filter(guild=guild, is_default=False).update(position=F("position") + 1)
    role = Role.objects.create(guild=guild, name=_name(role_name), permissions=permissions, position=1, managed=True)
    member = Member.objects.create(guild=guild, user=bot)
    member.roles.add(role)
    record_audit(guild, actor, "member_join", target=member, changes={"bot": bot.username,
                                                                       "permissions": str(permissions)})
    events.to_guild(guild.id, events.ROLE_CREATE, payloads.role_payload(role))
    events.to_guild(guild.id, events.MEMBER_ADD, payloads.member_payload(member))
    events.to_user(bot.id, events.GUILD_CREATE, payloads.guild_payload(guild))
    return member, role


# --- channel permission overwrites ----------------------------------------------------------

@transaction.atomic
def set_overwrite(*, actor, channel: Channel, allow: int, deny: int, role: Role | None = None,
                  member: Member | None = None) -> PermissionOverwrite:
    access = moderator_access(actor, channel.guild_id)
    channel_access_of(access.member, channel).require(Permission.MANAGE_ROLES)
    if (role is None) == (member is None):
        raise ValidationFailed.field("target", gettext("Name exactly one role or one member."))
    target_guild = (role or member).guild_id
    if target_guild != channel.guild_id:
        raise ValidationFailed.field("target", gettext("The role or member belongs to another guild."))
    allow = _permission_bits(allow, field="allow", allowed=int(CHANNEL_OVERWRITABLE))
    deny = _permission_bits(deny, field="deny", allowed=int(CHANNEL_OVERWRITABLE))
    if allow & deny:
        raise ValidationFailed.field("deny", gettext("A permission cannot be both allowed and denied."))
    _check_grantable(access, allow | deny)
    if role is not None and not role.is_default:
        _check_role_below(access, role)
    lookup = {"role": role} if role is not None else {"member": member}
    ow, _ = PermissionOverwrite.objects.update_or_create(channel=channel, **lookup,
                                                        defaults={"allow": allow, "deny": deny})
    record_audit(channel.guild, actor, "overwrite_set", target=channel,
           changes={"target_type": ow.target_type, "target_id": ow.target_id, "allow": str(allow), "deny": str(deny)})
    events.to_guild(channel.guild_id, events.PERMISSIONS_CHANGED,
                    payloads.permissions_changed(channel.guild_id, channel_id=channel.id))
    return ow


@transaction.atomic
def delete_overwrite(*, actor, overwrite: PermissionOverwrite) -> None:
    channel = overwrite.channel
    access = moderator_access(actor, channel.guild_id)
    channel_access_of(access.member, channel).require(Permission.MANAGE_ROLES)
    if overwrite.role_id and not overwrite.role.is_default:
        _check_role_below(access, overwrite.role)
    record_audit(channel.guild, actor, "overwrite_delete", target=channel,
           changes={"target_type": overwrite.target_type, "target_id": overwrite.target_id})
    overwrite.delete()
    events.to_guild(channel.guild_id, events.PERMISSIONS_CHANGED,
                    payloads.permissions_changed(channel.guild_id, channel_id=channel.id))


def _not_a_thread(channel: Channel) -> None:
    """Threads change through chat's thread services (their own rules and events), not as channels."""
    if channel.type == Channel.Type.THREAD:
        raise ValidationFailed(gettext("A thread is changed through /api/threads/{id}."), code="is_thread")

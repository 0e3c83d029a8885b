"""Reads that more than one caller needs: membership, permissions, visible channels, lists."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import Block
from apps.core.converters import is_id
from apps.core.errors import (
    Forbidden,
    MemberTimedOut,
    MissingPermission,
    NotFound,
    TwoFactorRequired,
    ValidationFailed,
)

from .layout import GuildLayout, guild_layout
from .models import (
    AuditLogEntry,
    Ban,
    Category,
    Channel,
    DMRecipient,
    Guild,
    Invite,
    Member,
    PermissionOverwrite,
    Role,
)
from .permissions import (
    ALL,
    DM_BLOCKED,
    DM_RECIPIENT,
    MFA_GATED,
    NONE,
    ChannelOverwrites,
    MemberContext,
    Overwrite,
    Permission,
    compute_permissions,
)


def member_of(user, guild_id: int) -> Member | None:
    # An id no column can hold is never sent (SQLite refuses it); 0 is: a missing object's lookup
    # costs what a refused one does (a guessed id tells nothing by its timing).
    if not user or not user.is_authenticated or _id(guild_id) is None:
        return None
    return (
        Member.objects.select_related("guild", "user")
        .prefetch_related("roles")
        .filter(guild_id=guild_id, user=user)
        .first()
    )


def member_context(member: Member, *, everyone: int | None = None, check_mfa: bool = True) -> MemberContext:
    """`everyone`: the @everyone role's permissions, when the caller has them (a layout).
    `check_mfa=False`: the caller reads only bits the two-factor requirement never takes (who can
    view a channel), so no device is looked up per member."""
    guild = member.guild
    if everyone is None:
        everyone = (Role.objects.filter(guild_id=member.guild_id, is_default=True)
                    .values_list("permissions", flat=True).first()) or 0
    return MemberContext(
        is_owner=guild.owner_id == member.user_id,
        everyone=everyone,
        roles=tuple(r.permissions for r in member.roles.all()),
        timed_out=member.is_timed_out,
        mfa_missing=check_mfa and guild.mfa_required and not has_authenticator(member),
    )


def has_authenticator(member: Member) -> bool:
    """The member's user has a confirmed TOTP device (asked once per loaded member)."""
    if not hasattr(member, "_has_authenticator"):
        member._has_authenticator = TOTPDevice.objects.filter(user_id=member.user_id, confirmed=True).exists()
    return member._has_authenticator


def _channel_overwrites(channel: Channel, member: Member, overwrites) -> ChannelOverwrites:
    role_ids = {r.id for r in member.roles.all()}
    everyone = roles = member_ow = None
    roles = []
    for ow in overwrites:
        if ow.role_id is not None:
            if ow.role.is_default:
                everyone = Overwrite(ow.allow, ow.deny)
            elif ow.role_id in role_ids:
                roles.append(Overwrite(ow.allow, ow.deny))
        elif ow.member_id == member.id:
            member_ow = Overwrite(ow.allow, ow.deny)
    return ChannelOverwrites(
        everyone=everyone, roles=tuple(roles), member=member_ow, is_voice=channel.type == Channel.Type.VOICE,
        is_thread=channel.type == Channel.Type.THREAD,
    )


def _context(member: Member, ignore_timeout: bool, ignore_mfa: bool = False) -> MemberContext:
    ctx = member_context(member)
    if ignore_timeout:
        ctx = replace(ctx, timed_out=False)
    if ignore_mfa:
        ctx = replace(ctx, mfa_missing=False)
    return ctx


def guild_permissions(member: Member | None, *, ignore_timeout: bool = False, ignore_mfa: bool = False) -> Permission:
    """`ignore_timeout`: what the member would have were they not timed out; `ignore_mfa`: had they
    two-factor authentication where the guild requires it."""
    return compute_permissions(_context(member, ignore_timeout, ignore_mfa)) if member else NONE


def channel_permissions(member: Member | None, channel: Channel, *, ignore_timeout: bool = False,
                        ignore_mfa: bool = False) -> Permission:
    if member is None:
        return NONE
    # A thread has no overwrites of its own: its parent's apply.
    overwrites = PermissionOverwrite.objects.filter(channel_id=channel.parent_id or channel.id).select_related("role")
    return compute_permissions(_context(member, ignore_timeout, ignore_mfa),
                               _channel_overwrites(channel, member, overwrites))


@dataclass
class _Access:
    member: Member
    permissions: Permission

    def require(self, *needed: Permission) -> None:
        for perm in needed:
            if not self.permissions & perm:
                # Told of the timeout only when it is what stands in the way.
                if getattr(self.member, "is_timed_out", False) and self._without_timeout() & perm:
                    raise MemberTimedOut(perm.name, self.member.timed_out_until)
                if perm & MFA_GATED and self._mfa_missing() and self._without_mfa() & perm:
                    raise TwoFactorRequired(perm.name)
                raise MissingPermission(perm.name)

    def require_any(self, *choices: Permission) -> None:
        """At least one of `choices` (a settings page several permissions administer)."""
        if any(self.permissions & perm for perm in choices):
            return
        if self._mfa_missing() and any(perm & MFA_GATED and self._without_mfa() & perm for perm in choices):
            raise TwoFactorRequired(next(p.name for p in choices if p & MFA_GATED))
        if len(choices) == 1:
            raise MissingPermission(choices[0].name)
        listed = ", ".join(p.name for p in choices[:-1])
        raise MissingPermission(choices[0].name, gettext("You need the %(permissions)s or %(last)s permission.")
                                % {"permissions": listed, "last": choices[-1].name})

    def _without_timeout(self) -> Permission:
        return guild_permissions(self.member, ignore_timeout=True)

    def _mfa_missing(self) -> bool:
        guild = getattr(self.member, "guild", None)
        return bool(getattr(guild, "mfa_required", False)) and not has_authenticator(self.member)

    def _without_mfa(self) -> Permission:
        return guild_permissions(self.member, ignore_mfa=True)


@dataclass
class GuildAccess(_Access):
    guild: Guild


def access_guild(user, guild_id: int) -> GuildAccess:
    """The guild and the user's membership; 404 for anyone who is not a member."""
    member = member_of(user, guild_id)
    if member is None:
        raise NotFound(gettext("Unknown guild."))
    return GuildAccess(member=member, permissions=guild_permissions(member), guild=member.guild)


def moderator_access(user, guild_id: int) -> GuildAccess:
    """access_guild for every service that administers or moderates a guild (settings, channels,
    roles, invites, sanctions, moderation decisions). A platform superuser (in the admin, behind
    2FA) acts in any guild with the owner's rank: every permission, and above every member but the
    owner. Everyone else is a member checked by the engine as usual."""
    if getattr(user, "is_superuser", False):
        guild = Guild.objects.filter(pk=guild_id).first()
        owner = member_of(guild.owner, guild_id) if guild else None
        if owner is None:
            raise NotFound(gettext("Unknown guild."))
        return GuildAccess(member=owner, permissions=ALL, guild=guild)
    return access_guild(user, guild_id)


@dataclass
class ChannelAccess(_Access):
    channel: Channel

    def _without_timeout(self) -> Permission:
        return channel_permissions(self.member, self.channel, ignore_timeout=True)

    def _without_mfa(self) -> Permission:
        return channel_permissions(self.member, self.channel, ignore_mfa=True)


def channel_access_of(member: Member, channel: Channel) -> ChannelAccess:
    """A member's access to one channel of their guild, for services that checked the guild first."""
    return ChannelAccess(member=member, permissions=channel_permissions(member, channel), channel=channel)


def access_channel(user, channel_id: int) -> ChannelAccess:
    """The channel and the user's permissions in it; 404 unless the user can view it. The @everyone
    permissions and the channel's overwrites come from the guild's layout (layout.py), read at most
    once per layout version and process: every message sent asks this first, and waits for it."""
    channel = Channel.objects.select_related("guild").filter(pk=channel_id).first()
    if channel is not None and channel.is_private:
        return _private_channel_access(user, channel)
    member = member_of(user, channel.guild_id) if channel else None
    perms = _laid_out_permissions(member, channel) if member else NONE
    if not perms & Permission.VIEW_CHANNEL:
        raise NotFound(gettext("Unknown channel."))
    return ChannelAccess(member=member, permissions=perms, channel=channel)


def _laid_out_permissions(member: Member, channel: Channel) -> Permission:
    """channel_permissions, from the layout of the guild as `channel.guild` was just read (a thread:
    its parent's overwrites)."""
    layout = guild_layout(channel.guild)
    overwrites = layout.overwrites.get(channel.parent_id or channel.id, ())
    return compute_permissions(member_context(member, everyone=layout.everyone),
                               _channel_overwrites(channel, member, overwrites))


def moderator_channel_access(user, channel_id: int) -> ChannelAccess:
    """access_channel for moderating a channel's messages and threads: a platform superuser acts
    in any guild channel with the owner's rank (moderator_access). A DM has no moderators: in one,
    a superuser is a recipient like any other, or nobody."""
    if getattr(user, "is_superuser", False):
        channel = Channel.objects.select_related("guild").filter(pk=channel_id, guild__isnull=False).first()
        if channel is not None:
            access = moderator_access(user, channel.guild_id)
            return ChannelAccess(member=access.member, permissions=access.permissions, channel=channel)
    return access_channel(user, channel_id)


def channel_settings_access(user, channel_id: int) -> ChannelAccess:
    """A guild channel's settings (its fields and its overwrites): 404 unless the user can view it
    (a thread or a DM has none), 403 without MANAGE_CHANNELS or MANAGE_ROLES in it."""
    access = access_channel(user, channel_id)
    if access.channel.guild_id is None or access.channel.parent_id is not None:
        raise NotFound(gettext("Unknown channel."))
    access.require_any(Permission.MANAGE_CHANNELS, Permission.MANAGE_ROLES)
    return access


def hidden_channel_ids(member: Member) -> set[int]:
    """Every channel and thread of the member's guild the member cannot view."""
    visible = {ch.id for ch, _ in visible_channels(member)}
    rows = Channel.objects.filter(guild_id=member.guild_id).values_list("id", "parent_id")
    return {cid for cid, parent in rows if (parent or cid) not in visible}


def visible_channels(member: Member, *, layout: GuildLayout | None = None) -> list[tuple[Channel, Permission]]:
    """Every channel of the member's guild the member can view, with its permissions, in order.
    With the guild's cached `layout` (the gateway's READY) the channels are the layout's shared,
    read-only instances, whose last_message_id may be behind; without, they are read now."""
    if layout is not None:
        ctx = member_context(member, everyone=layout.everyone)
        channels, by_channel = layout.channels, defaultdict(tuple, layout.overwrites)
    else:
        ctx = member_context(member)
        channels = list(Channel.objects.filter(guild_id=member.guild_id, parent__isnull=True)
                        .select_related("category"))
        by_channel = defaultdict(list)
        for ow in PermissionOverwrite.objects.filter(channel__guild_id=member.guild_id).select_related("role"):
            by_channel[ow.channel_id].append(ow)
    out = []
    for ch in channels:
        perms = compute_permissions(ctx, _channel_overwrites(ch, member, by_channel[ch.id]))
        if perms & Permission.VIEW_CHANNEL:
            out.append((ch, perms))
    return out


def channel_viewers(channel: Channel, user_ids) -> set[int]:
    """Those of `user_ids` who can view a guild channel or thread (a thread: its parent's
    overwrites), from the guild's cached layout: a few reads whatever their number (everyone
    pinged by @everyone, in a Celery worker)."""
    layout = guild_layout(channel.guild)
    overwrites = layout.overwrites.get(channel.parent_id or channel.id, ())
    members = (Member.objects.filter(guild_id=channel.guild_id, user_id__in=list(user_ids))
               .select_related("guild").prefetch_related("roles"))
    return {m.user_id for m in members
            if compute_permissions(member_context(m, everyone=layout.everyone, check_mfa=False),
                                   _channel_overwrites(channel, m, overwrites)) & Permission.VIEW_CHANNEL}


@dataclass
class SidebarSection:
    category: Category | None
    channels: list[Channel]


def sidebar(member: Member) -> list[SidebarSection]:
    """Visible channels grouped by category, uncategorised first, as Discord shows them."""
    visible = [ch for ch, _ in visible_channels(member)]
    sections = [SidebarSection(None, [c for c in visible if c.category_id is None])]
    for cat in Category.objects.filter(guild_id=member.guild_id):
        chans = [c for c in visible if c.category_id == cat.id]
        sections.append(SidebarSection(cat, chans))
    return [s for s in sections if s.channels or s.category is not None]


def top_position(member: Member) -> int:
    return max((r.position for r in member.roles.all()), default=0)


def member_color(member: Member) -> str:
    coloured = [r for r in member.roles.all() if r.color]
    return max(coloured, key=lambda r: r.position).color_hex if coloured else ""


def guilds_of(user) -> QuerySet[Guild]:
    return Guild.objects.filter(members__user=user).order_by("members__joined_at", "id")


def discoverable_guilds(query: str = "") -> QuerySet[Guild]:
    qs = (Guild.objects.filter(discoverable=True).annotate(member_count=Count("members"))
          .order_by("-member_count", "-id"))
    if query:
        qs = qs.filter(name__icontains=query)
    return qs


def active_invites(guild: Guild) -> QuerySet[Invite]:
    """Invites that still let people in: not revoked, not expired, not used up."""
    return Invite.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
        Q(max_uses=0) | Q(uses__lt=F("max_uses")),
        guild=guild, revoked_at__isnull=True,
    )


def roles_of(guild: Guild) -> QuerySet[Role]:
    return Role.objects.filter(guild=guild).order_by("-position", "id")


def members_of(guild: Guild) -> QuerySet[Member]:
    return Member.objects.filter(guild=guild).select_related("user").prefetch_related(
        Prefetch("roles", queryset=Role.objects.order_by("-position"))
    )


# --- lookups inside a guild: the object, or NotFound (the doors answer 404) ---

def _id(value) -> int | None:
    """An id from a URL, a form or a JSON body; None if it cannot be one."""
    if is_id(value):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 19 else None


def _get(queryset: QuerySet, message: str, **ids):
    """The object of `queryset` with these ids (parsed as _id does), or NotFound(message)."""
    parsed = {field: _id(value) for field, value in ids.items()}
    found = None if None in parsed.values() else queryset.filter(**parsed).first()
    if found is None:
        raise NotFound(message)
    return found


def member_in(guild: Guild, user_id) -> Member:
    """The member of `guild` who is user `user_id` (with user and roles, as members_of)."""
    return _get(members_of(guild), gettext("Unknown member."), user_id=user_id)


def role_in(guild: Guild, role_id) -> Role:
    return _get(Role.objects.filter(guild=guild), gettext("Unknown role."), pk=role_id)


def assignable_roles(guild: Guild, role_ids) -> list[Role]:
    """The guild's roles among `role_ids` a member can be given (@everyone is implicit); raises
    ValidationFailed if one of them is not such a role."""
    wanted = {_id(r) for r in role_ids}
    roles = list(Role.objects.filter(guild=guild, is_default=False, pk__in=wanted - {None}))
    if len(roles) != len(wanted):
        raise ValidationFailed.field("roles", gettext("Unknown role in this guild (@everyone is implicit)."))
    return roles


def ordered_role_ids(guild: Guild) -> list[int]:
    """The guild's roles but @everyone, highest first (the roles page's order)."""
    return list(Role.objects.filter(guild=guild, is_default=False).order_by("-position", "id")
                .values_list("id", flat=True))


def category_in(guild: Guild, category_id) -> Category:
    return _get(Category.objects.filter(guild=guild), gettext("Unknown category."), pk=category_id)


def bans_of(guild: Guild) -> QuerySet[Ban]:
    return Ban.objects.filter(guild=guild).select_related("user")


def overwrites_of(channel: Channel) -> QuerySet[PermissionOverwrite]:
    return PermissionOverwrite.objects.filter(channel=channel).select_related("role", "member__user")


def overwrite_target(guild: Guild, kind: str, target_id) -> dict:
    """What an overwrite applies to, as the services take it: {"role": …} or {"member": …}."""
    if kind == "role":
        return {"role": role_in(guild, target_id)}
    if kind == "member":
        return {"member": member_in(guild, target_id)}
    raise NotFound(gettext("Overwrite targets are 'role' or 'member'."))


def overwrite_for(channel: Channel, target: dict) -> PermissionOverwrite:
    overwrite = PermissionOverwrite.objects.filter(channel=channel, **target).first()
    if overwrite is None:
        raise NotFound(gettext("No overwrite for that target."))
    return overwrite


def invite_by_code(code: str) -> Invite | None:
    """An invite (with its guild) by its code, whatever its state."""
    return Invite.objects.select_related("guild").filter(code=code).first()


def known_invite(code: str, *, usable: bool = False) -> Invite:
    """An invite by its code (`usable`: only one that still lets people in), or NotFound."""
    invite = invite_by_code(code)
    if invite is None or (usable and not invite.is_usable):
        raise NotFound(gettext("This invite is invalid or has expired."), code="unknown_invite")
    return invite


def search_members(guild: Guild, query: str, *, limit: int) -> list[Member]:
    """Members whose username, display name or nickname starts with `query` (any case), by username:
    what the composer's @-autocomplete offers. An empty query gives the first members."""
    found = members_of(guild)
    if query:
        found = found.filter(Q(user__username__istartswith=query) | Q(user__display_name__istartswith=query)
                             | Q(nickname__istartswith=query))
    return list(found.order_by("user__username")[:limit])


@dataclass
class MemberGroup:
    title: str
    color: str
    members: list[Member]


def member_list(guild: Guild) -> list[MemberGroup]:
    """Members grouped under their highest hoisted role, then everyone else, like Discord."""
    hoisted = list(Role.objects.filter(guild=guild, hoist=True, is_default=False).order_by("-position"))
    groups = {r.id: MemberGroup(r.name, r.color_hex, []) for r in hoisted}
    rest = MemberGroup("Members", "", [])
    for m in members_of(guild):
        m.color = member_color(m)
        role = next((r for r in m.roles.all() if r.hoist), None)
        (groups[role.id] if role else rest).members.append(m)
    return [g for g in [*groups.values(), rest] if g.members]


@dataclass
class PrivateChannelAccess(ChannelAccess):
    """Access to a DM or group DM; `member` is the user's DMRecipient row."""

    blocked: bool = False

    def require(self, *needed: Permission) -> None:
        if self.blocked and any(p & DM_RECIPIENT and not self.permissions & p for p in needed):
            raise Forbidden(gettext("You cannot send messages to this user."), code="cannot_message_user")
        super().require(*needed)


def _private_channel_access(user, channel: Channel) -> PrivateChannelAccess:
    """Recipients get the fixed DM permissions (minus sending in a 1:1 DM where either user blocked
    the other); anyone else gets the same 404 as for a guild channel they cannot view."""
    recipient = (DMRecipient.objects.select_related("user").filter(channel=channel, user_id=getattr(user, "id", None))
                 .first() if user and user.is_authenticated else None)
    if recipient is None:
        raise NotFound(gettext("Unknown channel."))
    blocked = channel.type == Channel.Type.DM and Block.objects.filter(
        Q(blocker=user, blocked__dm_recipients__channel=channel)
        | Q(blocked=user, blocker__dm_recipients__channel=channel)
    ).exists()
    return PrivateChannelAccess(member=recipient, permissions=DM_BLOCKED if blocked else DM_RECIPIENT,
                                channel=channel, blocked=blocked)


def visible_thread_ids(channel_ids) -> dict[int, int]:
    """{thread id: parent id} for every thread (active or archived) under the given channels: a
    thread is visible exactly when its parent is."""
    return dict(Channel.objects.filter(parent_id__in=list(channel_ids)).values_list("id", "parent_id"))


# --- the audit log -----------------------------------------------------------------------------

AUDIT_EXPORT_MAX = 10_000


def audit_log(guild: Guild, *, viewer: Member | None = None, action: str = "", actor_id: int | None = None,
              since=None, until=None) -> QuerySet[AuditLogEntry]:
    """A guild's audit log, newest first, filtered by action, actor and a time range (dates or
    datetimes, inclusive). For a `viewer`, without the entries about a channel they cannot view
    or a message in one (a name, a topic, a removed message's text quoted in the reason)."""
    qs = AuditLogEntry.objects.filter(guild=guild).select_related("actor").order_by("-id")
    if viewer is not None:
        hidden = hidden_channel_ids(viewer)
        if hidden:
            # chat sits above guilds: its model is looked up, not imported.
            about_messages = AuditLogEntry.objects.filter(guild=guild, target_type="message").values("target_id")
            messages = (apps.get_model("chat", "Message").objects
                        .filter(id__in=about_messages, channel_id__in=hidden).values("id"))
            # A voice move names the channel it went to as well as the one it is about.
            qs = qs.exclude(target_type="channel", target_id__in=hidden).exclude(
                target_type="message", target_id__in=messages).exclude(
                changes__has_key="to_channel_id", changes__to_channel_id__in=list(hidden))
    if action:
        qs = qs.filter(action=action)
    if actor_id is not None:
        qs = qs.filter(actor_id=actor_id)
    if since is not None:
        qs = qs.filter(created_at__date__gte=since) if _is_date(since) else qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__date__lte=until) if _is_date(until) else qs.filter(created_at__lte=until)
    return qs


def _is_date(value) -> bool:
    return not hasattr(value, "hour")


def audit_filters(guild: Guild) -> dict:
    """The actions and actors a guild's log holds: the choices of its filters."""
    rows = AuditLogEntry.objects.filter(guild=guild)
    actions = sorted(set(rows.values_list("action", flat=True)))
    actor_ids = set(rows.exclude(actor__isnull=True).values_list("actor_id", flat=True))
    actors = list(get_user_model().objects.filter(id__in=actor_ids).order_by("username"))
    return {"actions": actions, "actors": actors}

"""The permission engine: one pure function, Discord's documented algorithm.

    base    = @everyone | every role of the member      (owner, ADMINISTRATOR: everything)
    channel = base, then the channel's overwrites in the order
              @everyone -> the member's roles (allows and denies pooled) -> the member
    a member who cannot VIEW_CHANNEL has nothing in that channel;
    a thread has its parent's overwrites, and SEND_MESSAGES there means SEND_MESSAGES_IN_THREADS;
    a timed-out member keeps only VIEW_CHANNEL and READ_MESSAGE_HISTORY;
    in a guild that requires two-factor authentication of moderators, a member without it loses
    MFA_GATED (kick, ban, time out, manage messages, roles and channels), the owner too.

It knows nothing of the ORM: selectors load the data, this decides. Bits follow Discord's
values where Discord has them; the audio permissions sit in the high bits.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field


class Permission(enum.IntFlag):
    CREATE_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    DEAFEN_MEMBERS = 1 << 23
    MOVE_MEMBERS = 1 << 24
    USE_VOICE_ACTIVITY = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_THREADS = 1 << 34
    CREATE_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40
    # SmaRTC's audio side.
    UPLOAD_TRACKS = 1 << 48
    COMMENT_ON_TRACKS = 1 << 49
    MANAGE_TRACKS = 1 << 50
    START_LISTENING_PARTY = 1 << 51


ALL = 0
for _p in Permission:
    ALL |= _p
ALL = Permission(ALL)
NONE = Permission(0)

# What @everyone gets in a new guild.
DEFAULT_EVERYONE = (
    Permission.CREATE_INVITE | Permission.ADD_REACTIONS | Permission.STREAM
    | Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES | Permission.READ_MESSAGE_HISTORY | Permission.CONNECT
    | Permission.SPEAK | Permission.USE_VOICE_ACTIVITY | Permission.CHANGE_NICKNAME
    | Permission.CREATE_THREADS | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.UPLOAD_TRACKS | Permission.COMMENT_ON_TRACKS | Permission.START_LISTENING_PARTY
)

# What survives a timeout.
TIMEOUT_KEEPS = Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY

# Channel-level permissions that mean nothing without CONNECT in a voice channel.
VOICE_NEEDS_CONNECT = (
    Permission.SPEAK | Permission.STREAM | Permission.MUTE_MEMBERS | Permission.DEAFEN_MEMBERS
    | Permission.MOVE_MEMBERS | Permission.USE_VOICE_ACTIVITY | Permission.PRIORITY_SPEAKER
    | Permission.START_LISTENING_PARTY
)
# Permissions that can be granted on a channel overwrite (guild-wide ones cannot).
GUILD_ONLY = (
    Permission.KICK_MEMBERS | Permission.BAN_MEMBERS | Permission.ADMINISTRATOR
    | Permission.MANAGE_GUILD | Permission.VIEW_AUDIT_LOG | Permission.CHANGE_NICKNAME
    | Permission.MANAGE_NICKNAMES | Permission.MODERATE_MEMBERS
)
CHANNEL_OVERWRITABLE = Permission(ALL & ~GUILD_ONLY)
# What a guild that requires two-factor authentication of its moderators (Guild.mfa_required) takes
# from a member without a confirmed authenticator, whatever their roles, the owner included.
MFA_GATED = (
    Permission.KICK_MEMBERS | Permission.BAN_MEMBERS | Permission.MODERATE_MEMBERS
    | Permission.MANAGE_MESSAGES | Permission.MANAGE_ROLES | Permission.MANAGE_CHANNELS
)


@dataclass(frozen=True)
class Overwrite:
    allow: int = 0
    deny: int = 0


@dataclass(frozen=True)
class ChannelOverwrites:
    """A channel's overwrites as they apply to one member."""

    everyone: Overwrite | None = None
    roles: tuple[Overwrite, ...] = ()
    member: Overwrite | None = None
    is_voice: bool = False
    is_thread: bool = False


@dataclass(frozen=True)
class MemberContext:
    """What the engine needs to know about a member of a guild."""

    is_owner: bool
    everyone: int
    roles: tuple[int, ...] = ()
    timed_out: bool = False
    # The guild requires two-factor authentication of moderators and this member has none.
    mfa_missing: bool = False
    extra: dict = field(default_factory=dict, compare=False)


def compute_permissions(member: MemberContext, channel: ChannelOverwrites | None = None) -> Permission:
    """A member's permissions in the guild (channel=None) or in one channel."""
    perms = _compute(member, channel)
    if member.mfa_missing:
        perms &= ~MFA_GATED
    return Permission(perms)


def _compute(member: MemberContext, channel: ChannelOverwrites | None) -> Permission:
    if member.is_owner:
        return ALL
    base = member.everyone
    for role_perms in member.roles:
        base |= role_perms
    if base & Permission.ADMINISTRATOR:
        return ALL

    perms = base
    if channel is not None:
        if channel.everyone:
            perms = (perms & ~channel.everyone.deny) | channel.everyone.allow
        allow = deny = 0
        for ow in channel.roles:
            allow |= ow.allow
            deny |= ow.deny
        perms = (perms & ~deny) | allow
        if channel.member:
            perms = (perms & ~channel.member.deny) | channel.member.allow
        if not perms & Permission.VIEW_CHANNEL:
            return NONE
        if channel.is_voice and not perms & Permission.CONNECT:
            perms &= ~VOICE_NEEDS_CONNECT
        if channel.is_thread:
            # Services ask for SEND_MESSAGES everywhere; in a thread the parent's SEND_MESSAGES does
            # not count, SEND_MESSAGES_IN_THREADS does.
            perms &= ~Permission.SEND_MESSAGES
            if perms & Permission.SEND_MESSAGES_IN_THREADS:
                perms |= Permission.SEND_MESSAGES

    if member.timed_out:
        perms &= TIMEOUT_KEEPS
    return Permission(perms & ALL)


def has(perms: int, *needed: Permission) -> bool:
    return all(perms & p == p for p in needed)


def names(perms: int) -> list[str]:
    return [p.name for p in Permission if perms & p]


def from_names(values: Iterable[str]) -> Permission:
    out = NONE
    for value in values:
        try:
            out |= Permission[value]
        except KeyError:
            raise ValueError(f"Unknown permission: {value}") from None
    return out


def can_act_on(actor_top: int, target_top: int, *, actor_is_owner: bool) -> bool:
    """Role hierarchy: the owner outranks everyone; otherwise only strictly lower positions."""
    return actor_is_owner or actor_top > target_top


# What every recipient of a DM or group DM may do there: no guild, no roles, no overwrites, so no
# @everyone/@here and no MANAGE_MESSAGES (recipients may still pin: see chat's pin services).
DM_RECIPIENT = (
    Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.READ_MESSAGE_HISTORY
    | Permission.ADD_REACTIONS | Permission.ATTACH_FILES | Permission.EMBED_LINKS
)
# What a blocked 1:1 DM leaves its two users: they can read what was said, not say more.
DM_BLOCKED = Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY

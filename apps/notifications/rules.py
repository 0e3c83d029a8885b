"""Who hears of a message: one pure function over plain facts, tested as a table
(tests/unit/test_notification_rules.py). The selectors gather the facts; nothing here reads the
database, the clock or presence.

The rules follow Discord's:
- Nobody hears of a message they cannot read: held or removed by moderation, in a channel they
  cannot view, their own, or by someone they blocked.
- The level decides: the channel's own (or the DM's), else the guild's (a DM: all messages).
  `all` hears every message, `mentions` only what pings them, `nothing` nothing.
- What pings a member: their name, one of their roles, a reply to their message, @everyone, and
  @here when they are online. "Suppress @everyone and @here" (per guild) makes those two ping
  nobody there.
- A mute (guild, channel or DM, until it ends) silences all but the pings: a muted channel at
  `all` behaves as `mentions` (and shows no unread badge).
"""
from __future__ import annotations

from dataclasses import dataclass

ALL, MENTIONS, NOTHING, INHERIT = "all", "mentions", "nothing", "inherit"

# Why a member hears of a message (the notification says it): strongest first.
DM = "dm"
MENTION = "mention"
ROLE = "role"
REPLY = "reply"
EVERYONE = "everyone"
HERE = "here"
MESSAGE = "message"


@dataclass(frozen=True)
class Message:
    """What the rules need of a message."""

    author_id: int | None
    is_dm: bool = False  # a DM or group DM
    readable: bool = True  # visible: not held or removed by moderation
    everyone: bool = False  # @everyone, written by someone allowed to ping everyone
    here: bool = False  # @here, likewise


@dataclass(frozen=True)
class Recipient:
    """What the rules need of one member who might hear of the message, and their settings.
    `guild_level` and `channel_level` as stored (None: no row); mutes as in force now."""

    user_id: int
    can_view: bool = True
    blocked_author: bool = False
    mentioned: bool = False
    role_mentioned: bool = False
    replied_to: bool = False
    online: bool = False
    guild_level: str | None = None
    suppress_everyone: bool = False
    guild_muted: bool = False
    channel_level: str | None = None
    channel_muted: bool = False


def level_for(msg: Message, r: Recipient) -> str:
    """The level in force for this member in this message's channel (mutes included)."""
    level = r.channel_level if r.channel_level not in (None, INHERIT) else None
    if level is None:
        level = ALL if msg.is_dm else (r.guild_level or MENTIONS)
    if level == ALL and (r.channel_muted or (r.guild_muted and not msg.is_dm)):
        level = MENTIONS
    return level


def ping(msg: Message, r: Recipient) -> str | None:
    """What in the message pings this member, if anything (strongest reason)."""
    if r.mentioned:
        return MENTION
    if r.role_mentioned:
        return ROLE
    if r.replied_to:
        return REPLY
    if not r.suppress_everyone:
        if msg.everyone:
            return EVERYONE
        if msg.here and r.online:
            return HERE
    return None


def reason(msg: Message, r: Recipient) -> str | None:
    """Why `r` hears of `msg`, or None when they do not."""
    if not msg.readable or r.user_id == msg.author_id or not r.can_view or r.blocked_author:
        return None
    level = level_for(msg, r)
    if level == NOTHING:
        return None
    pinged = ping(msg, r)
    if pinged is not None:
        return pinged
    if level == ALL:
        return DM if msg.is_dm else MESSAGE
    return None

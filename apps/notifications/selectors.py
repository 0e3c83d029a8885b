"""Reads of notifications: the facts the rules decide on (rules.py) for a message, a member's
settings as the API, READY and the settings event show them, and the devices to push to."""
from __future__ import annotations

import logging

from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Block
from apps.chat import markdown
from apps.chat.models import Message
from apps.guilds.models import Channel, DMRecipient, Member
from apps.guilds.selectors import channel_viewers

from . import hooks, payloads, rules
from .models import ChannelSettings, GuildSettings, Level, PushSubscription

OFFLINE = "offline"
# A user with no connection in use: no tab open (offline), or none used for a while (idle).
AWAY = (OFFLINE, "idle")

log = logging.getLogger(__name__)


def statuses(user_ids) -> dict[int, str]:
    """The users' presence now (the gateway's, through hooks.statuses). Presence that cannot be read
    (Redis down) counts as offline: @here then pings nobody, and Web Push goes to every device,
    rather than nobody hearing of the message at all."""
    try:
        return hooks.statuses(list(user_ids)) or {}
    except Exception:
        log.exception("presence could not be read for %s users", len(user_ids))
        return {}


def top_channel_id(channel: Channel) -> int:
    """Where a channel's notification settings live: a thread follows its parent."""
    return channel.parent_id or channel.id


def message_facts(msg: Message) -> rules.Message:
    """@everyone and @here count only when the author was allowed to ping everyone (the message's
    mention_everyone, set by chat for either word)."""
    _, _, everyone, here = markdown.mentioned_ids(msg.content) if msg.mention_everyone else (0, 0, False, False)
    return rules.Message(author_id=msg.author_id, is_dm=msg.channel.guild_id is None,
                         readable=msg.visibility == Message.Visibility.VISIBLE, everyone=everyone,
                         here=here and not everyone)


def may_notify(msg: Message) -> bool:
    """Whether anyone at all could hear of `msg`: a DM, a ping, a reply, or someone who hears every
    message of that channel. One indexed read, so the common guild message queues nothing."""
    channel = msg.channel
    if channel.guild_id is None or msg.mention_everyone or msg.reply_to_id is not None:
        return True
    if msg.mentions.exists() or msg.mention_roles.exists():
        return True
    return (GuildSettings.objects.filter(guild_id=channel.guild_id, level=Level.ALL).exists()
            or ChannelSettings.objects.filter(channel_id=top_channel_id(channel), level=Level.ALL).exists())


def _candidates(msg: Message, facts: rules.Message, mentioned: set[int], role_ids: set[int],
                replied: int | None) -> set[int]:
    channel = msg.channel
    if facts.is_dm:
        return set(DMRecipient.objects.filter(channel_id=channel.id).values_list("user_id", flat=True))
    members = Member.objects.filter(guild_id=channel.guild_id)
    if facts.everyone or facts.here:
        return set(members.values_list("user_id", flat=True))
    ids = set(mentioned)
    if replied is not None:
        ids.add(replied)
    if role_ids:
        ids |= set(members.filter(roles__id__in=role_ids).values_list("user_id", flat=True))
    ids |= set(GuildSettings.objects.filter(guild_id=channel.guild_id, level=Level.ALL)
               .values_list("user_id", flat=True))
    ids |= set(ChannelSettings.objects.filter(channel_id=top_channel_id(channel), level=Level.ALL)
               .values_list("user_id", flat=True))
    return ids


def recipients(msg: Message, facts: rules.Message) -> list[rules.Recipient]:
    """Everyone who might hear of `msg`, with what the rules need of each. A member not among them
    cannot hear of it whatever their settings (no ping, no `all` level anywhere)."""
    channel = msg.channel
    mentioned = set(msg.mentions.values_list("id", flat=True))
    role_ids = set(msg.mention_roles.values_list("id", flat=True))
    replied = msg.reply_to.author_id if msg.reply_to_id and msg.reply_to else None
    ids = _candidates(msg, facts, mentioned, role_ids, replied) - {msg.author_id}
    if not ids:
        return []
    viewers = ids if facts.is_dm else channel_viewers(channel, ids)
    blocked = set(Block.objects.filter(blocker_id__in=ids, blocked_id=msg.author_id)
                  .values_list("blocker_id", flat=True)) if msg.author_id else set()
    role_holders = set(Member.objects.filter(guild_id=channel.guild_id, user_id__in=ids, roles__id__in=role_ids)
                       .values_list("user_id", flat=True)) if role_ids else set()
    now = timezone.now()
    guild = {} if facts.is_dm else {s.user_id: s for s in GuildSettings.objects.filter(
        guild_id=channel.guild_id, user_id__in=ids)}
    own = {s.user_id: s for s in ChannelSettings.objects.filter(channel_id=top_channel_id(channel), user_id__in=ids)}
    online = {uid for uid, status in statuses(ids).items() if status != OFFLINE} if facts.here else set()
    out = []
    for uid in ids:
        g, c = guild.get(uid), own.get(uid)
        out.append(rules.Recipient(
            user_id=uid, can_view=uid in viewers, blocked_author=uid in blocked, mentioned=uid in mentioned,
            role_mentioned=uid in role_holders, replied_to=uid == replied, online=uid in online,
            guild_level=g.level if g else None, suppress_everyone=bool(g and g.suppress_everyone),
            guild_muted=bool(g and g.is_muted(now)), channel_level=c.level if c else None,
            channel_muted=bool(c and c.is_muted(now))))
    return out


def still_readable(msg: Message, user_id: int) -> bool:
    """Right before a push leaves: the message is still visible (moderation may have held it since
    it was sent) and the user may still view its channel and has not blocked its author."""
    if msg.visibility != Message.Visibility.VISIBLE:
        return False
    if msg.author_id and Block.objects.filter(blocker_id=user_id, blocked_id=msg.author_id).exists():
        return False
    channel = msg.channel
    if channel.guild_id is None:
        return DMRecipient.objects.filter(channel_id=channel.id, user_id=user_id).exists()
    return user_id in channel_viewers(channel, [user_id])


def away(user_ids) -> set[int]:
    """Those of `user_ids` with no tab in use (offline or idle): Web Push reaches them."""
    user_ids = list(user_ids)
    found = statuses(user_ids)
    return {uid for uid in user_ids if found.get(uid, OFFLINE) in AWAY}


def push_subscriptions(user_ids) -> list[PushSubscription]:
    return list(PushSubscription.objects.filter(user_id__in=list(user_ids)))


# --- settings as clients see them ----------------------------------------------------------------

def default_guild_settings(user, guild_id: int) -> GuildSettings:
    return GuildSettings.objects.filter(user=user, guild_id=guild_id).first() or GuildSettings(user=user,
                                                                                              guild_id=guild_id)


def default_channel_settings(user, channel: Channel) -> ChannelSettings:
    row = ChannelSettings.objects.filter(user=user, channel=channel).first() or ChannelSettings(user=user,
                                                                                               channel=channel)
    row.channel = channel
    return row


def settings_of(user, *, guild_ids: list[int] | None = None, dm_ids: list[int] | None = None) -> dict:
    """The user's settings that differ from the defaults, in every guild they are in and every
    channel and DM they can still reach (READY's `notification_settings`, the REST list).
    `guild_ids` and `dm_ids`: the user's guilds and DMs when the caller has just read them (READY);
    the reads then join nothing."""
    now = timezone.now()
    channels = ChannelSettings.objects.filter(user=user).select_related("channel").order_by("channel_id")
    if guild_ids is None or dm_ids is None:
        guild_ids = Member.objects.filter(user=user).values("guild_id")
        channels = channels.filter(Q(channel__guild_id__in=guild_ids) | Q(channel__recipients__user=user)).distinct()
    else:
        channels = channels.filter(Q(channel__guild_id__in=guild_ids) | Q(channel_id__in=dm_ids))
    guilds = GuildSettings.objects.filter(user=user, guild_id__in=guild_ids).order_by("guild_id")
    return payloads.all_settings(guilds, channels, now)

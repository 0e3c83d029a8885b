"""What a gateway connection reads: the user's guilds and the channels they can view in each.
Visibility comes from the one permission engine (apps.guilds.selectors.visible_channels)."""
from __future__ import annotations

from apps.chat.selectors import unread_counts
from apps.guilds.models import Ban, Channel
from apps.guilds.selectors import guilds_of, member_of, visible_channels


def user_payload(user) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.shown_name}


def guild_ids(user) -> list[int]:
    return list(guilds_of(user).values_list("id", flat=True))


def channel_entry(channel: Channel) -> dict:
    return {"id": channel.id, "name": channel.name, "type": channel.type, "category_id": channel.category_id,
            "position": channel.position}


def guild_entry(user, guild_id: int, *, unread: bool = True) -> dict | None:
    """{"id", "name", "channels"} with only the channels the user can view (and their unread and
    mention counts when `unread`); None when the user is not a member."""
    member = member_of(user, guild_id)
    if member is None:
        return None
    channels = [channel_entry(ch) for ch, _ in visible_channels(member)]
    if unread:
        counts = unread_counts(user, [c["id"] for c in channels])
        for c in channels:
            c.update(counts[c["id"]])
    return {"id": member.guild_id, "name": member.guild.name, "channels": channels,
            "role_ids": [r.id for r in member.roles.all()]}


def ready_guilds(user, ids: list[int]) -> list[dict]:
    """The READY guild list for the given memberships (a guild left meanwhile is skipped)."""
    return [entry for gid in ids if (entry := guild_entry(user, gid)) is not None]


def is_banned(user, guild_id: int) -> bool:
    return Ban.objects.filter(guild_id=guild_id, user=user).exists()

"""What a gateway connection reads: the user's guilds and the channels they can view in each.
Visibility comes from the one permission engine (apps.guilds.selectors.visible_channels)."""
from __future__ import annotations

from apps.chat.selectors import unread_counts
from apps.chat.thread_selectors import active_threads
from apps.chat.thread_services import thread_payload
from apps.guilds.models import Ban, Channel, Member
from apps.guilds.selectors import guilds_of, member_of, visible_channels, visible_thread_ids


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


def member_list(guild_id: int, limit: int) -> tuple[list[dict], int]:
    """Up to `limit` members of a guild by name, and how many there are in all."""
    members = (Member.objects.filter(guild_id=guild_id).select_related("user").prefetch_related("roles")
               .order_by("user__username")[:limit])
    out = [{"user_id": m.user_id, "username": m.user.username, "display_name": m.nickname or m.user.shown_name,
            "roles": [r.id for r in m.roles.all()]} for m in members]
    total = len(out) if len(out) < limit else Member.objects.filter(guild_id=guild_id).count()
    return out, total


def _visible_ids(entry: dict) -> set[int]:
    """The ids a connection relays events of: the entry's channels and every thread under them."""
    ids = {c["id"] for c in entry["channels"]}
    return ids | set(visible_thread_ids(ids))


def _with_threads(entry: dict) -> dict:
    """Add the active threads of the entry's channels (READY, GUILD_CREATE)."""
    entry["threads"] = [thread_payload(t) for t in active_threads(c["id"] for c in entry["channels"])]
    return entry


def guild_state(user, guild_id: int, *, full: bool = True) -> tuple[dict | None, set[int]]:
    """guild_entry (`full`: with unread counts and active threads, as when a guild arrives; else
    the channels only) and the ids the connection may relay in that guild (none for a non-member)."""
    entry = guild_entry(user, guild_id, unread=full)
    if entry is None:
        return None, set()
    return (_with_threads(entry) if full else entry), _visible_ids(entry)


def ready_state(user, ids: list[int]) -> tuple[list[dict], dict[int, set[int]]]:
    """READY's guild list (each with its active threads) and the visible ids per guild."""
    guilds = [_with_threads(g) for g in ready_guilds(user, ids)]
    return guilds, {g["id"]: _visible_ids(g) for g in guilds}

"""The shapes the gateway builds itself: READY and its guild entries, GUILD_MEMBERS_CHUNK,
PRESENCE_UPDATE, and what a connection adds to GUILD_CREATE and PERMISSIONS_CHANGED before relaying
them. Documented by serializers.py; a test checks what these functions build against /api/schema/."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.guilds.models import Channel, Member


def user_payload(user) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.shown_name}


def ready(user, *, guilds: list[dict], private_channels: list[dict], notification_settings: dict,
          session_id: str) -> dict:
    """READY: who the connection is, its guilds (guild_entry with threads), its DMs, its notification
    settings that differ from the defaults, and its session."""
    return {"user": user_payload(user), "guilds": guilds, "private_channels": private_channels,
            "notification_settings": notification_settings, "session_id": session_id}


def channel_entry(channel: Channel) -> dict:
    """A channel as READY and PERMISSIONS_CHANGED list it (READY adds its unread counts)."""
    return {"id": channel.id, "name": channel.name, "type": channel.type, "category_id": channel.category_id,
            "position": channel.position}


def guild_entry(member: Member, channels: list[dict], *, role_ids: list[int] | None = None) -> dict:
    """A guild in READY: its channels the member can view, and the member's roles (READY adds the
    active threads); `role_ids` when the caller has them (else read from the member)."""
    if role_ids is None:
        role_ids = [r.id for r in member.roles.all()]
    return {"id": member.guild_id, "name": member.guild.name, "channels": channels, "role_ids": role_ids}


def guild_create(d: dict, entry: dict) -> dict:
    """GUILD_CREATE as a connection relays it: the published guild plus the channels it can view and
    their active threads (as in READY)."""
    return {**d, "channels": entry["channels"], "threads": entry["threads"]}


def permissions_changed(d: dict, channels: list[dict]) -> dict:
    """PERMISSIONS_CHANGED as a connection relays it: the published change plus the fresh list of
    channels its user can view in that guild."""
    return {**d, "channels": channels}


def member_list_entry(member: Member) -> dict:
    """A member of GUILD_MEMBERS_CHUNK (the gateway adds the status)."""
    return {"user_id": member.user_id, "username": member.user.username,
            "display_name": member.nickname or member.user.shown_name, "roles": [r.id for r in member.roles.all()],
            "bot": member.user.is_bot}


def members_chunk(guild_id: int, members: list[dict], total: int) -> dict:
    return {"guild_id": guild_id, "members": members, "total": total}


def presence_update(guild_id: int, changes: dict[int, str]) -> dict:
    """PRESENCE_UPDATE: the users of the guild whose status changed ({user id: status})."""
    return {"guild_id": guild_id, "presences": [{"user_id": uid, "status": status} for uid, status in changes.items()]}

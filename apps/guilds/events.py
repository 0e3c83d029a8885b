"""Every real-time event the guilds domain publishes, with its payload shape."""
from apps.core.events import guild_group, publish, user_group

from .models import Channel, Guild, Invite, Member, Role

# To a user's group: they joined a guild (the gateway subscribes their sockets to it).
GUILD_CREATE = "GUILD_CREATE"
GUILD_UPDATE = "GUILD_UPDATE"
GUILD_DELETE = "GUILD_DELETE"
CHANNEL_CREATE = "CHANNEL_CREATE"
CHANNEL_UPDATE = "CHANNEL_UPDATE"
CHANNEL_DELETE = "CHANNEL_DELETE"
ROLE_CREATE = "GUILD_ROLE_CREATE"
ROLE_UPDATE = "GUILD_ROLE_UPDATE"
ROLE_DELETE = "GUILD_ROLE_DELETE"
MEMBER_ADD = "GUILD_MEMBER_ADD"
MEMBER_UPDATE = "GUILD_MEMBER_UPDATE"
MEMBER_REMOVE = "GUILD_MEMBER_REMOVE"
BAN_ADD = "GUILD_BAN_ADD"
BAN_REMOVE = "GUILD_BAN_REMOVE"
INVITE_CREATE = "INVITE_CREATE"
INVITE_DELETE = "INVITE_DELETE"
# Tells a gateway to recompute what the listed users (or all members) may see.
PERMISSIONS_CHANGED = "PERMISSIONS_CHANGED"


def guild_payload(guild: Guild) -> dict:
    return {"id": guild.id, "name": guild.name, "description": guild.description,
            "owner_id": guild.owner_id, "discoverable": guild.discoverable}


def channel_payload(ch: Channel) -> dict:
    return {"id": ch.id, "guild_id": ch.guild_id, "category_id": ch.category_id, "name": ch.name,
            "type": ch.type, "topic": ch.topic, "position": ch.position,
            "slowmode_seconds": ch.slowmode_seconds, "nsfw": ch.nsfw, "user_limit": ch.user_limit}


def role_payload(role: Role) -> dict:
    return {"id": role.id, "guild_id": role.guild_id, "name": role.name, "color": role.color,
            "position": role.position, "permissions": str(role.permissions), "hoist": role.hoist,
            "mentionable": role.mentionable}


def member_payload(m: Member) -> dict:
    return {"guild_id": m.guild_id, "user_id": m.user_id, "nickname": m.nickname,
            "roles": [r.id for r in m.roles.all()],
            "timed_out_until": m.timed_out_until.isoformat() if m.timed_out_until else None}


def to_guild(guild_id: int, event_type: str, data: dict) -> None:
    publish(guild_group(guild_id), event_type, data)


def to_user(user_id: int, event_type: str, data: dict) -> None:
    publish(user_group(user_id), event_type, data)


def invite_payload(inv: Invite) -> dict:
    return {"code": inv.code, "guild_id": inv.guild_id, "channel_id": inv.channel_id,
            "max_uses": inv.max_uses, "uses": inv.uses,
            "expires_at": inv.expires_at.isoformat() if inv.expires_at else None}

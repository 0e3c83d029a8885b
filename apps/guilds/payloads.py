"""The shapes guilds send: every event's data (events.py names the events and publishes them) and
the REST answers not built by a model serializer. Each is documented by an output serializer
(serializers.py); a test checks what these functions build against /api/schema/."""
from __future__ import annotations

from .models import AuditLogEntry, Channel, Guild, Invite, Member, Role
from .permissions import names


def guild_payload(guild: Guild) -> dict:
    return {"id": guild.id, "name": guild.name, "description": guild.description,
            "owner_id": guild.owner_id, "discoverable": guild.discoverable, "mfa_required": guild.mfa_required}


def guild_deleted(guild_id: int) -> dict:
    """GUILD_DELETE: the guild is gone for the user (deleted, left, kicked or banned)."""
    return {"id": guild_id}


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


def guild_user(guild_id: int, user_id: int) -> dict:
    """GUILD_MEMBER_REMOVE, GUILD_BAN_ADD and GUILD_BAN_REMOVE."""
    return {"guild_id": guild_id, "user_id": user_id}


def permissions_changed(guild_id: int, *, channel_id: int | None = None, role_id: int | None = None) -> dict:
    """PERMISSIONS_CHANGED as published: the gateway adds each connection's `channels`
    (apps/realtime/payloads.permissions_changed)."""
    d = {"guild_id": guild_id}
    if channel_id is not None:
        d["channel_id"] = channel_id
    if role_id is not None:
        d["role_id"] = role_id
    return d


def invite_payload(inv: Invite) -> dict:
    return {"code": inv.code, "guild_id": inv.guild_id, "channel_id": inv.channel_id,
            "max_uses": inv.max_uses, "uses": inv.uses,
            "expires_at": inv.expires_at.isoformat() if inv.expires_at else None}


def permissions(perms: int) -> dict:
    """What a member may do in a guild or channel (bitfields travel as decimal strings)."""
    return {"permissions": str(int(perms)), "names": names(perms)}


def audit_entry_payload(entry: AuditLogEntry) -> dict:
    actor = entry.actor
    return {"id": entry.id, "created_at": entry.created_at.isoformat(), "action": entry.action,
            "actor": {"id": actor.id, "username": actor.username} if actor else None,
            "target_type": entry.target_type, "target_id": entry.target_id, "reason": entry.reason,
            "changes": entry.changes}

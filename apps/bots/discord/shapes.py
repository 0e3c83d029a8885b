"""Discord's payload shapes, built from SmaRTC's own payloads (apps/*/payloads.py) or models.

Ids are strings. A guild's @everyone role has the guild's id, as in Discord (role_id_out and
role_id_in translate). Categories are not channels in SmaRTC, so every channel's parent_id is null.
"""
from __future__ import annotations

CHANNEL_TYPES = {"text": 0, "dm": 1, "voice": 2, "group_dm": 3, "announcement": 5, "thread": 11}
# Discord's application flags for the privileged intents a bot's owner turned on.
FLAG_PRESENCE, FLAG_MEMBERS, FLAG_MESSAGE_CONTENT = 1 << 12, 1 << 14, 1 << 18


def sid(value) -> str | None:
    return None if value is None else str(value)


def in_guild(d: dict, guild_id) -> dict:
    """`d` with Discord's `guild_id` when there is a guild. In a DM the key is absent, not null:
    discord.py reads `int(data["guild_id"])` and takes a KeyError to mean a DM."""
    if guild_id is not None:
        d["guild_id"] = str(guild_id)
    return d


def user(u) -> dict:
    """A User (model) as Discord's user object."""
    return {"id": str(u.id), "username": u.username, "discriminator": "0",
            "global_name": u.display_name or None, "avatar": None, "bot": bool(getattr(u, "is_bot", False)),
            "public_flags": 0}


def user_from_author(a: dict) -> dict:
    """The author of a SmaRTC message payload as Discord's user object."""
    return {"id": str(a["id"]), "username": a["username"], "discriminator": "0",
            "global_name": a.get("display_name") or None, "avatar": None, "bot": bool(a.get("bot")),
            "public_flags": 0}


def me(u, application) -> dict:
    return {**user(u), "verified": True, "mfa_enabled": False, "flags": 0, "locale": "fr",
            "email": None, "bio": "", "banner": None, "accent_color": None}


def application_flags(app) -> int:
    return ((FLAG_PRESENCE if app.presence_intent else 0) | (FLAG_MEMBERS if app.members_intent else 0)
            | (FLAG_MESSAGE_CONTENT if app.message_content_intent else 0))


def application(app) -> dict:
    return {"id": str(app.id), "name": app.name, "description": app.description, "icon": None,
            "rpc_origins": [], "bot_public": False, "bot_require_code_grant": False,
            "owner": user(app.owner), "summary": "", "verify_key": "", "team": None,
            "flags": application_flags(app), "bot": user(app.bot), "approximate_guild_count": app.installs.count(),
            "interactions_endpoint_url": None, "redirect_uris": [], "tags": []}


def role_id_out(role) -> str:
    return str(role.guild_id if role.is_default else role.id)


def role(r, *, managed: bool = False) -> dict:
    return {"id": role_id_out(r), "name": "@everyone" if r.is_default else r.name, "color": r.color,
            "colors": {"primary_color": r.color, "secondary_color": None, "tertiary_color": None},
            "hoist": r.hoist, "position": 0 if r.is_default else r.position, "permissions": str(r.permissions),
            "managed": managed, "mentionable": r.mentionable, "icon": None, "unicode_emoji": None, "flags": 0,
            **({"tags": {}} if managed else {})}


def overwrite(o) -> dict:
    if o.role_id is not None:
        target, kind = (o.role.guild_id if o.role.is_default else o.role_id), 0
    else:
        target, kind = o.member.user_id, 1
    return {"id": str(target), "type": kind, "allow": str(o.allow), "deny": str(o.deny)}


def channel(ch, overwrites=()) -> dict:
    """A Channel (model) as Discord's channel object."""
    d = {"id": str(ch.id), "type": CHANNEL_TYPES.get(ch.type, 0), "name": ch.name,
         "guild_id": sid(ch.guild_id), "position": ch.position, "parent_id": None,
         "permission_overwrites": [overwrite(o) for o in overwrites], "flags": 0,
         "last_message_id": sid(ch.last_message_id)}
    if ch.type == "voice":
        d.update(bitrate=64000, user_limit=ch.user_limit, rtc_region=None)
    else:
        d.update(topic=ch.topic or None, nsfw=ch.nsfw, rate_limit_per_user=ch.slowmode_seconds)
    if ch.type == "thread":
        d["parent_id"] = sid(ch.parent_id)
    return d


def dm_channel(ch, *, viewer_id: int) -> dict:
    """A DM (model) as Discord's DM channel: its other recipient, as the bot sees it."""
    others = [r.user for r in ch.recipients.select_related("user") if r.user_id != viewer_id]
    return {"id": str(ch.id), "type": CHANNEL_TYPES.get(ch.type, 1), "last_message_id": sid(ch.last_message_id),
            "recipients": [user(u) for u in others], "flags": 0}


def channel_from_event(d: dict) -> dict:
    """CHANNEL_CREATE/UPDATE data (apps.guilds.payloads.channel_payload) as Discord's channel."""
    out = {"id": str(d["id"]), "type": CHANNEL_TYPES.get(d.get("type"), 0), "name": d.get("name", ""),
           "guild_id": sid(d.get("guild_id")), "position": d.get("position", 0), "parent_id": None,
           "permission_overwrites": [], "flags": 0, "topic": d.get("topic") or None, "nsfw": d.get("nsfw", False),
           "rate_limit_per_user": d.get("slowmode_seconds", 0)}
    return out


def member(m, *, with_user: bool = True) -> dict:
    """A Member (model, roles prefetched) as Discord's guild member."""
    d = {"nick": m.nickname or None, "roles": [str(r.id) for r in m.roles.all() if not r.is_default],
         "joined_at": m.joined_at.isoformat(), "premium_since": None, "deaf": False, "mute": False, "flags": 0,
         "pending": False, "avatar": None,
         "communication_disabled_until": m.timed_out_until.isoformat() if m.timed_out_until else None}
    if with_user:
        d["user"] = user(m.user)
    return d


def guild(g, *, roles, channels, members, member_count: int, managed_role_ids=frozenset(), joined_at=None) -> dict:
    """GUILD_CREATE's data (and GET /guilds/{id} without channels and members)."""
    return {
        "id": str(g.id), "name": g.name, "icon": None, "splash": None, "discovery_splash": None, "banner": None,
        "description": g.description or None, "owner_id": str(g.owner_id), "afk_channel_id": None,
        "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
        "explicit_content_filter": 0, "features": [], "mfa_level": 0, "application_id": None,
        "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
        "public_updates_channel_id": None, "vanity_url_code": None, "premium_tier": 0,
        "premium_subscription_count": 0, "preferred_locale": "fr", "nsfw_level": 0, "max_members": 250000,
        "roles": [role(r, managed=r.id in managed_role_ids) for r in roles], "emojis": [], "stickers": [],
        "joined_at": joined_at, "large": False, "unavailable": False, "member_count": member_count,
        "voice_states": [], "members": members, "channels": channels, "threads": [], "presences": [],
        "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
    }


def partial_guild(g, permissions: int) -> dict:
    """GET /users/@me/guilds."""
    return {"id": str(g.id), "name": g.name, "icon": None, "banner": None, "owner": False,
            "permissions": str(int(permissions)), "features": []}


def message(d: dict, *, guild_id, mention_users: list[dict], role_ids: dict[int, int] | None = None,
            reactions: list[dict] | None = None, hide_content: bool = False) -> dict:
    """A SmaRTC message payload (apps.chat.payloads.message_payload) as Discord's message.
    `mention_users`: Discord user objects of its mentions; `role_ids`: role id → Discord id
    (@everyone is the guild's); `hide_content`: a bot without the MESSAGE_CONTENT intent sees no
    content, embeds or attachments."""
    reply = d.get("reply_to")
    out = {
        "id": str(d["id"]), "channel_id": str(d["channel_id"]),
        "type": 19 if reply else 0, "content": "" if hide_content else d["content"],
        "author": user_from_author(d["author"]) if d.get("author") else None,
        "timestamp": d["created_at"], "edited_timestamp": d.get("edited_at"), "tts": False,
        "mention_everyone": d.get("mention_everyone", False), "mentions": mention_users,
        "mention_roles": [str((role_ids or {}).get(r, r)) for r in d.get("mention_roles", [])],
        "attachments": [] if hide_content else [attachment(a) for a in d.get("attachments", [])],
        "embeds": [] if hide_content else list(d.get("embeds") or []),
        "pinned": d.get("pinned", False), "flags": 0, "components": [],
    }
    in_guild(out, guild_id)
    if d.get("nonce"):
        out["nonce"] = d["nonce"]
    if reply:
        out["message_reference"] = in_guild({"type": 0, "message_id": str(reply["id"]),
                                             "channel_id": str(d["channel_id"])}, guild_id)
    if reactions is not None:
        out["reactions"] = [{"emoji": {"id": None, "name": r["emoji"]}, "count": r["count"], "me": r["me"],
                             "count_details": {"burst": 0, "normal": r["count"]}, "burst_colors": [],
                             "me_burst": False, "burst_count": 0} for r in reactions]
    return out


def attachment(a: dict) -> dict:
    return {"id": str(a["id"]), "filename": a["filename"], "size": a["size"], "url": a["url"],
            "proxy_url": a["url"], "content_type": a.get("content_type"), "width": a.get("width"),
            "height": a.get("height")}


def presence(guild_id: int, user_id: int, status: str) -> dict:
    """PRESENCE_UPDATE's data (and GUILD_CREATE's `presences`): SmaRTC knows a status, not activities
    or which client; its members are on the web."""
    return {"user": {"id": str(user_id)}, "guild_id": str(guild_id), "status": status, "activities": [],
            "client_status": {} if status == "offline" else {"web": status}}


def voice_state(d: dict) -> dict:
    """SmaRTC's voice state (apps.rtc.payloads.voice_state, already Discord's fields) with Discord's
    string ids."""
    return {**d, "guild_id": sid(d["guild_id"]), "channel_id": sid(d["channel_id"]), "user_id": str(d["user_id"]),
            "request_to_speak_timestamp": None}


def reaction_event(d: dict) -> dict:
    """MESSAGE_REACTION_ADD/REMOVE data (apps.chat.payloads.reaction plus channel and guild)."""
    return in_guild({"user_id": str(d["user_id"]), "channel_id": str(d["channel_id"]),
                     "message_id": str(d["message_id"]), "emoji": {"id": None, "name": d["emoji"]}, "burst": False,
                     "type": 0}, d.get("guild_id"))

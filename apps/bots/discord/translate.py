"""SmaRTC's gateway events as Discord's: which intent each needs and the data Discord sends. The
bot gateway (gateway.py) decides visibility; this module only names and shapes.

Discord's gateway intents (https://discord.com/developers/docs/events/gateway#gateway-intents).
"""
from __future__ import annotations

from apps.chat import events as ce
from apps.guilds import events as ge

from . import shapes

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_VOICE_STATES = 1 << 7
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
GUILD_MESSAGE_TYPING = 1 << 11
DIRECT_MESSAGES = 1 << 12
DIRECT_MESSAGE_REACTIONS = 1 << 13
DIRECT_MESSAGE_TYPING = 1 << 14
MESSAGE_CONTENT = 1 << 15
KNOWN = (1 << 26) - 1  # every intent Discord defines today (bits 0 to 25)
PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

# SmaRTC event → (intent in a guild, intent in a DM)
MESSAGE_EVENTS = {ce.MESSAGE_CREATE: (GUILD_MESSAGES, DIRECT_MESSAGES),
                  ce.MESSAGE_UPDATE: (GUILD_MESSAGES, DIRECT_MESSAGES),
                  ce.MESSAGE_DELETE: (GUILD_MESSAGES, DIRECT_MESSAGES),
                  ce.MESSAGE_REACTION_ADD: (GUILD_MESSAGE_REACTIONS, DIRECT_MESSAGE_REACTIONS),
                  ce.MESSAGE_REACTION_REMOVE: (GUILD_MESSAGE_REACTIONS, DIRECT_MESSAGE_REACTIONS),
                  ce.TYPING_START: (GUILD_MESSAGE_TYPING, DIRECT_MESSAGE_TYPING),
                  ce.CHANNEL_PINS_UPDATE: (GUILDS, DIRECT_MESSAGES)}
CHANNEL_EVENTS = (ge.CHANNEL_CREATE, ge.CHANNEL_UPDATE, ge.CHANNEL_DELETE)
# Events after which the bot's view of a guild is read again (no Discord event of their own here).
RECOMPUTE = (ge.PERMISSIONS_CHANGED, ge.ROLE_CREATE, ge.ROLE_UPDATE, ge.ROLE_DELETE, ge.MEMBER_UPDATE)


def privileged_allowed(app) -> int:
    return ((GUILD_MEMBERS if app.members_intent else 0) | (GUILD_PRESENCES if app.presence_intent else 0)
            | (MESSAGE_CONTENT if app.message_content_intent else 0))


def message_intent(t: str, d: dict) -> int:
    guild_intent, dm_intent = MESSAGE_EVENTS[t]
    return guild_intent if d.get("guild_id") is not None else dm_intent


def shows_content(d: dict, *, bot_id: int, intents: int) -> bool:
    """Discord's MESSAGE_CONTENT rule: without the intent a bot sees the content, embeds and
    attachments only of DMs, of its own messages and of messages that mention it."""
    if intents & MESSAGE_CONTENT or d.get("guild_id") is None:
        return True
    author = d.get("author") or {}
    return author.get("id") == bot_id or bot_id in (d.get("mentions") or [])


def message(t: str, d: dict, *, bot_id: int, intents: int, mention_users: list[dict]) -> tuple[str, dict]:
    """MESSAGE_CREATE/UPDATE (and a moderator's restore, an UPDATE) as Discord's."""
    hide = not shows_content(d, bot_id=bot_id, intents=intents)
    return t, shapes.message(d, guild_id=d.get("guild_id"), mention_users=mention_users, hide_content=hide)


def simple(t: str, d: dict) -> tuple[str, dict] | None:
    """The message-side events that need nothing from the database."""
    if t == ce.MESSAGE_DELETE:
        return t, shapes.in_guild({"id": str(d["id"]), "channel_id": str(d["channel_id"])}, d.get("guild_id"))
    if t in (ce.MESSAGE_REACTION_ADD, ce.MESSAGE_REACTION_REMOVE):
        return t, shapes.reaction_event(d)
    if t == ce.TYPING_START:
        return t, shapes.in_guild({"channel_id": str(d["channel_id"]), "user_id": str(d["user_id"]),
                                   "timestamp": int(d["timestamp"])}, d.get("guild_id"))
    if t == ce.CHANNEL_PINS_UPDATE:
        return t, shapes.in_guild({"channel_id": str(d["channel_id"]), "last_pin_timestamp": None},
                                  d.get("guild_id"))
    return None

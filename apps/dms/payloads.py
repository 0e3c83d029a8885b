"""The shapes of direct messages: the DM channel as events, READY and the REST API show it, and the
data of the DM events (events.py names them). Documented by serializers.py; a test checks what
these functions build against /api/schema/."""
from __future__ import annotations

from apps.chat import markdown
from apps.chat.models import Message
from apps.guilds.models import Channel


def user_payload(user) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.shown_name,
            "avatar": user.avatar_url()}


def channel_payload(channel: Channel, recipients) -> dict:
    """A DM channel as events, READY and the REST API show it; `recipients` are users, you included."""
    return {"id": channel.id, "guild_id": None, "type": channel.type, "name": channel.name,
            "owner_id": channel.owner_id, "last_message_id": channel.last_message_id,
            "recipients": [user_payload(u) for u in recipients]}


def last_message(m: Message | None) -> dict | None:
    """A DM's newest message as the DM list previews it."""
    if m is None:
        return None
    return {"id": m.id, "content": markdown.quote(m.content_html), "created_at": m.created_at.isoformat(),
            "author": {"id": m.author_id, "display_name": m.author.shown_name} if m.author else None}


def dm_entry(channel: Channel, recipients, newest: Message | None, counts: dict) -> dict:
    """A DM in the user's list (READY's private_channels, GET /api/users/@me/channels): the channel,
    its newest message and the user's unread and mention counts."""
    return {**channel_payload(channel, recipients), "last_message": last_message(newest), **counts}


def recipient_change(channel: Channel, user) -> dict:
    return {"channel_id": channel.id, "guild_id": None, "user": user_payload(user)}


def deleted(channel: Channel) -> dict:
    return {"id": channel.id, "guild_id": None, "type": channel.type}

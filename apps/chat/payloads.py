"""The shapes chat sends: every event's data and every REST answer about messages, attachments and
threads is built here, so the gateway and the API show a message the same way. Each shape is
documented by an output serializer (serializers.py, thread_api.py), and a test checks what these
functions build against those serializers' components in /api/schema/.

Events travel through events.py, which adds the channel's `channel_id` and `guild_id`."""
from __future__ import annotations

from urllib.parse import quote

from django.utils.translation import gettext

from . import embeds, markdown
from .models import Attachment, Message, Thread

# --- messages --------------------------------------------------------------------------------------


def message_payload(msg: Message, *, nonce: str | None = None) -> dict:
    """A message as MESSAGE_CREATE/UPDATE and the API show it (the API adds its reactions). A
    webhook's message shows the name and avatar its call gave, as a bot author (Discord's shape)."""
    author = msg.author
    reply = msg.reply_to
    if msg.webhook_name:
        shown_author = {"id": msg.webhook_id or 0, "username": msg.webhook_name, "display_name": msg.webhook_name,
                        "avatar": proxy_url(msg, msg.webhook_avatar_url), "color": "", "bot": True}
    elif author:
        shown_author = {"id": author.id, "username": author.username, "display_name": author.shown_name,
                        "avatar": author.avatar_url(), "color": getattr(msg, "author_color", ""),
                        "bot": author.is_bot}
    else:
        shown_author = None
    return {
        "id": msg.id,
        "channel_id": msg.channel_id,
        "author": shown_author,
        "webhook_id": msg.webhook_id,
        "content": msg.content,
        "content_html": msg.content_html,
        "reply_to": {"id": reply.id, "content": _preview(reply),
                     "author": reply.author.shown_name if reply.author else (reply.webhook_name or None)}
        if reply else None,
        "mention_everyone": msg.mention_everyone,
        "mentions": [u.id for u in msg.mentions.all()],
        "mention_roles": [r.id for r in msg.mention_roles.all()],
        "pinned": msg.pinned_at is not None,
        "created_at": msg.created_at.isoformat(),
        "edited_at": msg.edited_at.isoformat() if msg.edited_at else None,
        "attachments": [attachment_payload(a) for a in msg.attachments.all()],
        "thread": getattr(msg, "thread_summary", None),
        "held": msg.visibility == Message.Visibility.HELD,
        "embeds": shown_embeds(msg),
        "suppress_embeds": msg.suppress_embeds,
        **({"nonce": nonce} if nonce else {}),
    }


def proxy_url(msg: Message, url: str) -> str | None:
    """Where the browser loads an image a message names: its WebP copy on this site, once the unfurl
    task made it (None until then, or when it could not be fetched)."""
    name = (msg.proxied or {}).get(url) if url else None
    return f"/{name}" if name else None


def shown_embeds(msg: Message) -> list[dict]:
    """The sender's rich embeds, then the link previews unless the author removed them; each image
    with the `proxy_url` of its copy."""
    shown = []
    for embed in [*(msg.embeds or []), *([] if msg.suppress_embeds else (msg.previews or []))]:
        embed = dict(embed)
        for part, key in embeds.IMAGE_PATHS:
            if isinstance(embed.get(part), dict) and embed[part].get(key):
                embed[part] = {**embed[part], f"proxy_{key}": proxy_url(msg, embed[part][key])}
        shown.append(embed)
    return shown


def _preview(msg: Message) -> str:
    """A replied-to message as the quote above a reply shows it (markdown.quote).
    A message moderation holds or removed is not quoted: the reply goes to everyone."""
    if msg.visibility != Message.Visibility.VISIBLE:
        return gettext("Message hidden by moderation.")
    return markdown.quote(msg.content_html)


def message_with_reactions(msg: Message, reactions: list[dict]) -> dict:
    """A message as the API answers it: with its reactions (selectors.reaction_summary)."""
    return {**message_payload(msg), "reactions": reactions}


def sent_message(msg: Message, *, nonce: str | None, reactions: list[dict]) -> dict:
    """The answer to a send: the message, its reactions (a retry's may have some) and the nonce."""
    return {**message_payload(msg, nonce=nonce), "reactions": reactions}


def replay_data(*, message: Message, nonce: str) -> dict:
    """MESSAGE_CREATE's data for a message send_message gave back to a retry (`replayed`): the
    gateway answers the retry with it."""
    return {"channel_id": message.channel_id, "guild_id": message.channel.guild_id,
            **message_payload(message, nonce=nonce)}


def author_update(msg: Message) -> dict:
    """MESSAGE_UPDATE to the author alone (a held message), who hears it outside the channel."""
    return {**message_payload(msg), "guild_id": msg.channel.guild_id}


def restored(msg: Message) -> dict:
    """MESSAGE_UPDATE of a message a moderator approved: clients that dropped it insert it again."""
    return {**message_payload(msg), "restored": True}


def message_deleted(message_id: int) -> dict:
    return {"id": message_id}


def message_held(msg: Message) -> dict:
    """MESSAGE_DELETE of a message moderation holds: everyone drops it but its author."""
    return {"id": msg.id, "held": True, "author_id": msg.author_id}


def found_message(msg: Message) -> dict:
    """A search or inbox result: the message, its channel, and the matched part as safe HTML."""
    return {**message_payload(msg), "channel": {"id": msg.channel_id, "name": msg.channel.name,
                                                "guild_id": msg.channel.guild_id},
            "snippet": msg.snippet}


def search_results(found) -> dict:
    return {"total": found.total, "capped": found.capped, "results": [found_message(m) for m in found.messages]}


def reaction(message_id: int, user_id: int, emoji: str) -> dict:
    return {"message_id": message_id, "user_id": user_id, "emoji": emoji}


def pins_update(message_id: int, pinned: bool) -> dict:
    return {"message_id": message_id, "pinned": pinned}


def typing_start(user_id: int, display_name: str, timestamp: int) -> dict:
    return {"user_id": user_id, "display_name": display_name, "timestamp": timestamp}


def message_ack(channel_id: int, message_id: int) -> dict:
    return {"channel_id": channel_id, "message_id": message_id}


def attachment_payload(att: Attachment) -> dict:
    """An attachment as clients see it. The URLs go through the permission-checked views."""
    base = f"/attachments/{att.id}"
    thumb = att.thumbnail.name and att.state == Attachment.State.READY
    return {
        "id": att.id, "filename": att.filename, "size": att.size, "content_type": att.content_type,
        "url": f"{base}/{quote(att.filename)}", "thumbnail_url": f"{base}/thumbnail.webp" if thumb else None,
        "width": att.width, "height": att.height, "state": att.state,
    }


# --- threads ---------------------------------------------------------------------------------------


def thread_summary(thread: Thread) -> dict:
    """What the starter message shows of its thread (the "N messages" chip)."""
    return {"id": thread.channel_id, "name": thread.channel.name, "message_count": thread.message_count,
            "last_message_at": thread.last_message_at.isoformat(), "archived": thread.archived,
            "locked": thread.locked}


def thread_payload(thread: Thread) -> dict:
    ch = thread.channel
    member_count = getattr(thread, "member_count", None)
    if member_count is None:
        member_count = thread.members.count()
    return {
        "id": ch.id, "guild_id": ch.guild_id, "parent_id": ch.parent_id, "type": ch.type, "name": ch.name,
        "starter_message_id": thread.starter_message_id, "creator_id": thread.creator_id,
        "archived": thread.archived, "locked": thread.locked, "message_count": thread.message_count,
        "member_count": member_count, "last_message_at": thread.last_message_at.isoformat(),
        "archived_at": thread.archived_at.isoformat() if thread.archived_at else None,
        "created_at": thread.created_at.isoformat(),
    }


def thread_detail(thread: Thread, *, joined: bool, can_send: bool, can_manage: bool) -> dict:
    """A thread with what the viewer may do in it (GET/PATCH /api/threads/{id})."""
    return {**thread_payload(thread), "me": {"joined": joined, "can_send": can_send, "can_manage": can_manage}}


def thread_deleted(channel) -> dict:
    return {"id": channel.id, "parent_id": channel.parent_id, "type": channel.type}


def thread_members_update(thread: Thread, *, member_count: int, added, removed) -> dict:
    return {"id": thread.channel_id, "parent_id": thread.channel.parent_id, "member_count": member_count,
            "added_user_ids": list(added), "removed_user_ids": list(removed)}


def thread_member(tm) -> dict:
    return {"user_id": tm.user_id, "username": tm.user.username, "display_name": tm.user.shown_name,
            "joined_at": tm.joined_at.isoformat()}

"""The shapes of the notifications app: a notification (what a socket's NOTIFICATION_CREATE carries
and what a Web Push carries, encrypted, to a service worker; built only for a recipient who may read
the message), a member's settings for a guild, a channel or a DM (the API, READY's
`notification_settings` and NOTIFICATION_SETTINGS_UPDATE), and a push subscription. Documented by
serializers.py; tests/integration/test_payloads.py checks them against /api/schema/."""
from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from apps.chat import markdown
from apps.chat.models import Message
from apps.guilds.models import DMRecipient

from .models import ChannelSettings, GuildSettings, PushSubscription

BODY_MAX = 200


def message_url(msg: Message) -> str:
    """Where a click on the notification leads: the message's channel, opened around it."""
    channel = msg.channel
    if channel.guild_id is None:
        return f"/channels/@me/{channel.id}?around={msg.id}"
    return f"/guilds/{channel.guild_id}/channels/{channel.id}?around={msg.id}"


def _dm_name(msg: Message, recipient_id: int) -> str:
    """A group DM as its recipient calls it: its name, or the others' names."""
    channel = msg.channel
    if channel.name:
        return channel.name
    others = (DMRecipient.objects.filter(channel_id=channel.id).exclude(user_id=recipient_id)
              .select_related("user").order_by("joined_at", "id"))
    return ", ".join(r.user.shown_name for r in others)


def title(msg: Message, recipient_id: int) -> str:
    """As Discord words it, in no language: "Ada (#general, Synth Lab)", "Ada" in a DM,
    "Ada (Weekend)" in a group DM."""
    author = msg.author.shown_name if msg.author else (msg.webhook_name or "?")
    channel = msg.channel
    if channel.guild_id is not None:
        return f"{author} (#{channel.name}, {channel.guild.name})"
    if channel.type == channel.Type.GROUP_DM:
        return f"{author} ({_dm_name(msg, recipient_id)})"
    return author


def body(msg: Message) -> str:
    """The message as one line of plain text (mentions by name, no markdown signs, spoilers
    masked), or what it sent when it is only files; in the active language."""
    text = markdown.quote(msg.content_html, limit=BODY_MAX)
    if text:
        return text
    if msg.embeds:  # a webhook's report with no text: its first embed says what it is
        first = msg.embeds[0]
        return (first.get("title") or first.get("description") or "")[:BODY_MAX]
    n = msg.attachment_count
    return ngettext("Sent a file", "Sent %(n)s files", n) % {"n": n}


def notification(msg: Message, *, recipient_id: int, reason: str) -> dict:
    author = msg.author
    channel = msg.channel
    return {
        "message_id": msg.id, "channel_id": channel.id, "guild_id": channel.guild_id,
        "channel_type": channel.type, "reason": reason, "title": title(msg, recipient_id), "body": body(msg),
        # The text alone (empty for files only) and the files: a page words "Sent 2 files" itself.
        "text": markdown.quote(msg.content_html, limit=BODY_MAX), "files": msg.attachment_count,
        "author": {"id": author.id, "display_name": author.shown_name, "avatar": author.avatar_url()}
        if author else None,
        "url": message_url(msg), "tag": f"msg-{msg.id}", "created_at": msg.created_at.isoformat(),
    }


def _mute(row, now) -> dict:
    muted = row.is_muted(now)
    return {"muted": muted, "muted_until": row.muted_until.isoformat() if muted and row.muted_until else None}


def guild_settings(row: GuildSettings, now=None) -> dict:
    return {"guild_id": row.guild_id, "channel_id": None, "level": row.level,
            "suppress_everyone": row.suppress_everyone, **_mute(row, now or timezone.now())}


def channel_settings(row: ChannelSettings, now=None) -> dict:
    return {"guild_id": row.channel.guild_id, "channel_id": row.channel_id, "level": row.level,
            **_mute(row, now or timezone.now())}


def all_settings(guilds, channels, now=None) -> dict:
    now = now or timezone.now()
    return {"guilds": [guild_settings(g, now) for g in guilds],
            "channels": [channel_settings(c, now) for c in channels]}


def subscription(sub: PushSubscription) -> dict:
    return {"id": sub.id, "endpoint": sub.endpoint, "user_agent": sub.user_agent,
            "created_at": sub.created_at.isoformat(),
            "last_used_at": sub.last_used_at.isoformat() if sub.last_used_at else None}


def activity_title(activity) -> str:
    """"Ada liked Night Drive", in the active language."""
    name, title = activity.actor.shown_name, activity.track.title if activity.track else ""
    words = {
        "follow": gettext("%(name)s started following you"),
        "like": gettext("%(name)s liked %(title)s"),
        "repost": gettext("%(name)s reposted %(title)s"),
        "comment": gettext("%(name)s commented on %(title)s"),
        "reply": gettext("%(name)s replied to you on %(title)s"),
    }
    return words[activity.kind] % {"name": name, "title": title}


def activity(row) -> dict:
    """An activity on the member's tracks or profile: the bell's list, ACTIVITY_CREATE (with the
    unread count) and its Web Push (title, body, url and tag, as the service worker reads them)."""
    actor, track, comment = row.actor, row.track, row.comment
    if row.kind == "follow":
        url = reverse("tracks:profile", args=[actor.username])
    else:
        url = reverse("tracks:page", args=[track.id]) + (f"?t={comment.position_ms // 1000}" if comment else "")
    return {"id": row.id, "kind": row.kind, "title": activity_title(row),
            "body": comment.body[:BODY_MAX] if comment else "",
            "actor": {"id": actor.id, "display_name": actor.shown_name, "avatar": actor.avatar_url()},
            "track_id": track.id if track else None, "comment_id": comment.id if comment else None,
            "url": url, "tag": f"activity-{row.id}", "created_at": row.created_at.isoformat(),
            "read": row.read_at is not None}


def activity_settings(row) -> dict:
    return {kind: getattr(row, kind) for kind in ("follow", "like", "repost", "comment", "reply")}

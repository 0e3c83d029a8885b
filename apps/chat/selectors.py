"""Reads of messages: history pages, one message, pins, unread counts."""
from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext

from apps.core.errors import NotFound, ValidationFailed
from apps.guilds.models import Channel
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_channel

from .models import Attachment, Message, Reaction, ReadState


def _with_related(qs: QuerySet[Message]) -> QuerySet[Message]:
    return qs.select_related("author", "reply_to__author").prefetch_related(
        Prefetch("reactions", queryset=Reaction.objects.only("id", "message_id", "user_id", "emoji")),
        "attachments",
    )


def history(channel: Channel, *, before: int | None = None, after: int | None = None, around: int | None = None,
            limit: int = 50) -> list[Message]:
    """A page of a channel's messages, oldest first. One of before/after/around, or the newest page.
    Every branch is an index range scan on (channel, id), whatever the depth."""
    if sum(x is not None for x in (before, after, around)) > 1:
        raise ValidationFailed("Use only one of before, after and around.", code="invalid_cursor")
    if not 1 <= limit <= settings.HISTORY_PAGE_MAX:
        raise ValidationFailed.field("limit", f"Between 1 and {settings.HISTORY_PAGE_MAX}.")
    base = _with_related(Message.objects.filter(channel=channel))
    # Ordering by (channel_id, id) and not id alone matches the composite index, so the planner
    # never walks the primary key backwards through other channels' rows.
    forward, backward = ("channel_id", "id"), ("-channel_id", "-id")
    if after is not None:
        return list(base.filter(id__gt=after).order_by(*forward)[:limit])
    if around is not None:
        older = list(base.filter(id__lt=around).order_by(*backward)[: limit // 2])
        newer = list(base.filter(id__gte=around).order_by(*forward)[: limit - len(older)])
        return older[::-1] + newer
    if before is None:
        # The newest page is bounded by the channel's last message id: left unbounded, a channel
        # holding most rows tempts the planner into a primary-key scan that steps over every
        # newer row of the other channels.
        last = Channel.objects.filter(pk=channel.pk).values_list("last_message_id", flat=True).first()
        if last is None:
            return []
        before = last + 1
    return list(base.filter(id__lt=before).order_by(*backward)[:limit])[::-1]


def message_in(channel: Channel, message_id: int) -> Message:
    msg = _with_related(Message.objects.filter(channel=channel, pk=message_id)).first()
    if msg is None:
        raise NotFound(gettext("Unknown message."), code="unknown_message")
    return msg


def pins(channel: Channel) -> list[Message]:
    return list(_with_related(Message.objects.filter(channel=channel, pinned_at__isnull=False)).order_by("-pinned_at"))


def reaction_summary(message: Message, viewer_id: int | None) -> list[dict]:
    """[{emoji, count, me}] in the order each emoji was first used."""
    out: dict[str, dict] = {}
    for r in sorted(message.reactions.all(), key=lambda r: r.id):
        entry = out.setdefault(r.emoji, {"emoji": r.emoji, "count": 0, "me": False})
        entry["count"] += 1
        entry["me"] = entry["me"] or r.user_id == viewer_id
    return list(out.values())


def unread_counts(user, channel_ids: list[int]) -> dict[int, dict]:
    """{channel_id: {"unread": n, "mentions": m}} for the given channels (counts capped at 100)."""
    last_read = dict(ReadState.objects.filter(user=user, channel_id__in=channel_ids)
                     .values_list("channel_id", "last_read_id"))
    newest = dict(Channel.objects.filter(id__in=channel_ids).values_list("id", "last_message_id"))
    out = {cid: {"unread": 0, "mentions": 0} for cid in channel_ids}
    # Only channels whose newest message is past the read marker cost more queries.
    for cid in [c for c in channel_ids if (newest.get(c) or 0) > last_read.get(c, 0)]:
        since = Message.objects.filter(channel_id=cid, id__gt=last_read.get(cid, 0)).exclude(author=user)
        ids = list(since.values_list("id", flat=True)[:100])
        mentions = Message.objects.filter(id__in=ids).filter(
            Q(mentions=user) | Q(mention_everyone=True) | Q(mention_roles__members__user=user)
        ).aggregate(n=Count("id", distinct=True))["n"]
        out[cid] = {"unread": len(ids), "mentions": mentions}
    return out


def readable_attachment(user, attachment_id: int) -> Attachment:
    """An attachment the user may download: of a channel they can view, and either sent with a
    message they may read or their own unsent upload. NotFound otherwise (nothing is revealed)."""
    att = Attachment.objects.filter(pk=attachment_id).first()
    if att is None:
        raise NotFound(gettext("Unknown attachment."), code="unknown_attachment")
    access = access_channel(user, att.channel_id)
    if att.message_id is not None:
        if not access.permissions & Permission.READ_MESSAGE_HISTORY:
            raise NotFound(gettext("Unknown attachment."), code="unknown_attachment")
        return att
    if att.sent_at is None and att.uploader_id == getattr(user, "id", None):
        return att
    raise NotFound(gettext("Unknown attachment."), code="unknown_attachment")

"""Reads of direct messages: a user's DM list (REST, READY and pages), recipients, who may DM whom."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import F, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from apps.accounts.models import Block
from apps.chat.models import Message
from apps.chat.selectors import unread_counts
from apps.guilds.models import Channel, DirectPair, DMRecipient, Member

from . import payloads

PRIVATE_TYPES = (Channel.Type.DM, Channel.Type.GROUP_DM)


def recipients_of(channel: Channel) -> list:
    return [r.user for r in DMRecipient.objects.filter(channel=channel).select_related("user")]


def recipient_ids(channel: Channel) -> list[int]:
    return list(DMRecipient.objects.filter(channel=channel).values_list("user_id", flat=True))


def direct_channel(user_a_id: int, user_b_id: int) -> Channel | None:
    low, high = sorted((user_a_id, user_b_id))
    pair = DirectPair.objects.select_related("channel").filter(user_low_id=low, user_high_id=high).first()
    return pair.channel if pair else None


def share_a_guild(user_a_id: int, user_b_id: int) -> bool:
    return Member.objects.filter(user_id=user_a_id, guild__members__user_id=user_b_id).exists()


def blocked_either_way(user_id: int, others) -> set[int]:
    """Those of `others` who blocked `user_id` or whom `user_id` blocked."""
    others = list(others)
    rows = Block.objects.filter(Q(blocker_id=user_id, blocked_id__in=others) | Q(blocked_id=user_id,
                                                                                  blocker_id__in=others))
    return {b.blocked_id if b.blocker_id == user_id else b.blocker_id for b in rows}


def dm_list(user, *, channel_ids: list[int] | None = None) -> list[dict]:
    """The user's DMs and group DMs, most recent activity first, each with its recipients (the user
    included), its newest message and the user's unread and mention counts."""
    mine = list(DMRecipient.objects.filter(user=user).values_list("channel_id", flat=True))
    if channel_ids is not None:
        mine = [c for c in mine if c in channel_ids]
    if not mine:  # most connections: the full query costs more to build than to run
        return []
    newest = Message.objects.filter(channel=OuterRef("pk")).order_by("-channel_id", "-id")
    qs = (Channel.objects.filter(id__in=mine, type__in=PRIVATE_TYPES)
          .annotate(newest_id=Subquery(newest.values("id")[:1]),
                    activity=Coalesce(Subquery(newest.values("created_at")[:1]), F("created_at")))
          .prefetch_related(Prefetch("recipients", queryset=DMRecipient.objects.select_related("user")))
          .order_by("-activity", "-id"))
    channels = list(qs)
    last = {m.id: m for m in Message.objects.filter(id__in=[c.newest_id for c in channels if c.newest_id])
            .select_related("author")}
    counts = unread_counts(user, [c.id for c in channels])
    out = []
    for ch in channels:
        out.append(payloads.dm_entry(ch, [r.user for r in ch.recipients.all()], last.get(ch.newest_id),
                                     counts[ch.id]))
    return out


def dm_entry(user, channel_id: int) -> dict | None:
    found = dm_list(user, channel_ids=[channel_id])
    return found[0] if found else None


def title_for(entry: dict, viewer_id: int) -> str:
    """What a DM is called for the viewer: its name, or the others' names."""
    if entry["name"]:
        return entry["name"]
    others = [r["display_name"] for r in entry["recipients"] if r["id"] != viewer_id]
    if not others and entry["type"] == Channel.Type.DM:
        return gettext("Deleted user")  # the other person deleted their account (apps/privacy)
    return ", ".join(others) or entry["recipients"][0]["display_name"]


def reachable_users(user, *, limit: int = 200):
    """People the user shares a guild with (whom they may message), by username: the DM picker."""
    return (get_user_model().objects.filter(memberships__guild__members__user=user, is_active=True)
            .exclude(pk=user.pk).distinct().order_by("username")[:limit])

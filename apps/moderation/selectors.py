"""Reads of moderation: the thresholds that apply to a channel, a flagged message's surroundings,
the labelled decisions."""
from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from apps.chat.models import Message
from apps.guilds.models import Channel

from . import automod
from .models import AutomodRule, Flag, Thresholds, Warning


def thresholds_for(channel: Channel) -> tuple[float, float]:
    """(review_at, hide_at) for a channel: its own override, else its guild's (a thread: its
    parent's), else the site's defaults."""
    return _thresholds(channel.guild_id, channel.parent_id or channel.id)


def guild_thresholds(guild_id: int) -> tuple[float, float]:
    """(review_at, hide_at) for what is not in a channel (tracks and their comments): the guild's,
    else the site's defaults."""
    return _thresholds(guild_id, None)


def _thresholds(guild_id: int, channel_id: int | None) -> tuple[float, float]:
    rows = {t.channel_id: t for t in Thresholds.objects.filter(Q(channel_id=channel_id) | Q(channel__isnull=True),
                                                               guild_id=guild_id)}
    found = (rows.get(channel_id) if channel_id else None) or rows.get(None)
    if found is not None:
        return found.review_at, found.hide_at
    return settings.MODERATION_REVIEW_THRESHOLD, settings.MODERATION_HIDE_THRESHOLD


def context_around(flag: Flag, *, n: int = 5) -> list[Message]:
    """The flagged message with up to `n` messages before and after it in its channel, every
    visibility included (a reviewer sees what the members saw and what was held)."""
    if flag.message_id is None:
        return []
    base = Message.objects.filter(channel_id=flag.channel_id).select_related("author")
    before = list(base.filter(id__lt=flag.message_id).order_by("-channel_id", "-id")[:n])[::-1]
    after = list(base.filter(id__gte=flag.message_id).order_by("channel_id", "id")[: n + 1])
    return before + after


def labelled(qs: QuerySet[Flag] | None = None) -> QuerySet[Flag]:
    """Decided flags (a label given by a moderator), oldest decision first: training data."""
    qs = Flag.objects.all() if qs is None else qs
    return qs.exclude(label="").filter(decided_at__isnull=False).order_by("decided_at", "id")


def automod_rules(guild_id: int) -> list[AutomodRule]:
    return list(AutomodRule.objects.filter(guild_id=guild_id, enabled=True)
                .prefetch_related("exempt_roles", "exempt_channels"))


def applicable_rules(rules: list[AutomodRule], *, channel: Channel, role_ids: set[int],
                     action: str) -> list[AutomodRule]:
    """The rules of `action`, without those the channel (or a thread's parent) or one of the
    author's roles is exempt from."""
    channel_ids = {channel.id, channel.parent_id}
    return [rule for rule in rules if rule.action == action
            and not any(c.id in channel_ids for c in rule.exempt_channels.all())
            and not any(r.id in role_ids for r in rule.exempt_roles.all())]


def matching_rule(rules: list[AutomodRule], *, channel: Channel, role_ids: set[int], text: str,
                  action: str) -> AutomodRule | None:
    """The first applicable rule of `action` whose text test the text fails."""
    for rule in applicable_rules(rules, channel=channel, role_ids=role_ids, action=action):
        if automod.breaks(rule, text):
            return rule
    return None


def unseen_warnings(user) -> list[Warning]:
    """The warnings a member has not yet said they read, oldest first (the notices on their pages)."""
    return list(Warning.objects.filter(user_id=user.id, seen_at__isnull=True).select_related("guild").order_by("id"))

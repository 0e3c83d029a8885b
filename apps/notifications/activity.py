"""Activity on a member's tracks and profile: new followers, likes, reposts, comments, and replies
to their comments (a track comment that @mentions someone who commented on that track).

Tracks call `happened` through their `activity` slot inside the write's transaction; this decides
who hears of it (never the actor itself, nobody who blocked the actor or whom the actor blocked,
only kinds the recipient left on in its ActivitySettings), stores an Activity for the bell, and
once it commits sends ACTIVITY_CREATE to the recipient's tabs and queues a Web Push to each of its
devices when it has no tab in use."""
from __future__ import annotations

import logging
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from apps.accounts.models import Block
from apps.core import unavailable
from apps.core.errors import ValidationFailed

from . import events, payloads, push, selectors
from .models import Activity, ActivityKind, ActivitySettings, PushSubscription

log = logging.getLogger(__name__)

PAGE = 30
_MENTION = re.compile(r"@([\w.+-]{1,150})")


def wants(user_id: int, kind: str) -> bool:
    row = ActivitySettings.objects.filter(user_id=user_id).first()
    return row is None or getattr(row, kind)


def _blocked(a: int, b: int) -> bool:
    return Block.objects.filter(Q(blocker_id=a, blocked_id=b) | Q(blocker_id=b, blocked_id=a)).exists()


def _recipients(kind: str, actor, track, comment, user) -> list[tuple[int, str]]:
    if kind == ActivityKind.FOLLOW:
        return [(user.id, kind)]
    found = [(track.owner_id, kind)]
    if kind == ActivityKind.COMMENT:
        names = list(dict.fromkeys(n.lower() for n in _MENTION.findall(comment.body)))[:10]
        if names:
            named = Q()
            for name in names:
                named |= Q(username__iexact=name)
            repliers = (get_user_model().objects.filter(named, track_comments__track_id=track.id)
                        .exclude(pk=track.owner_id).values_list("id", flat=True).distinct())
            found += [(uid, ActivityKind.REPLY) for uid in repliers]
    return found


def happened(kind: str, *, actor, track=None, comment=None, user=None) -> list[Activity]:
    """`actor` followed `user`, or liked/reposted/commented on `track` (`comment`). Inside the
    caller's transaction; the events and pushes leave once it commits."""
    made = []
    for recipient_id, why in _recipients(kind, actor, track, comment, user):
        if recipient_id == actor.id or not wants(recipient_id, why) or _blocked(recipient_id, actor.id):
            continue
        activity = Activity.objects.create(recipient_id=recipient_id, actor=actor, kind=why, track=track,
                                           comment=comment)
        made.append(activity)
        activity_id = activity.id
        unavailable.after_commit(lambda a=activity_id: _tell(a), what="telling of the activity")
    return made


def _tell(activity_id: int) -> None:
    """Once committed: the recipient's open tabs, then Web Push to its devices if no tab is in use."""
    activity = _loaded(activity_id)
    if activity is None:
        return
    recipient_id = activity.recipient_id
    events.to_user(recipient_id, events.ACTIVITY_CREATE,
                   {**payloads.activity(activity), "unread_count": unread_count(recipient_id)})
    if push.enabled() and selectors.away([recipient_id]):
        from . import tasks

        for sub in selectors.push_subscriptions([recipient_id]):
            tasks.deliver_activity_push.delay(sub.id, activity_id)


def _loaded(activity_id: int) -> Activity | None:
    return (Activity.objects.select_related("actor", "track", "comment").filter(pk=activity_id).first())


def deliver_push(*, subscription_id: int, activity_id: int) -> str:
    """One activity to one device, as services.deliver_push sends a message: `sent`, `gone`,
    `refused` or `skipped` (the activity or the device is gone, or the actor is blocked by now)."""
    sub = PushSubscription.objects.filter(pk=subscription_id).first()
    activity = _loaded(activity_id)
    if sub is None or activity is None or sub.user_id != activity.recipient_id \
            or _blocked(activity.recipient_id, activity.actor_id):
        return "skipped"
    with translation.override(sub.language or settings.LANGUAGE_CODE):
        data = payloads.activity(activity)
    try:
        push.send(endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth, data=data)
    except push.Gone:
        PushSubscription.objects.filter(pk=sub.pk, endpoint=sub.endpoint).delete()
        return "gone"
    except push.Refused as exc:
        log.warning("activity push %s to subscription %s refused: %s", activity_id, sub.pk, exc)
        return "refused"
    PushSubscription.objects.filter(pk=sub.pk).update(last_used_at=timezone.now())
    return "sent"


# --- the bell -----------------------------------------------------------------------------------------

def unread_count(user_id: int) -> int:
    blocked = Block.objects.filter(blocker_id=user_id).values("blocked_id")
    return Activity.objects.filter(recipient_id=user_id, read_at__isnull=True).exclude(actor_id__in=blocked).count()


def recent(user, *, limit: int = PAGE) -> list[Activity]:
    """The user's newest activity, leaving out actors it has blocked since."""
    blocked = Block.objects.filter(blocker=user).values("blocked_id")
    return list(Activity.objects.filter(recipient=user).exclude(actor_id__in=blocked)
                .select_related("actor", "track", "comment")[:limit])


def mark_read(*, user) -> int:
    """Everything the user had is read (it opened the bell). Returns how many were unread."""
    return Activity.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def settings_for(user) -> ActivitySettings:
    return ActivitySettings.objects.filter(user=user).first() or ActivitySettings(user=user)


@transaction.atomic
def update_settings(*, user, **kinds) -> ActivitySettings:
    """Turn kinds of activity on or off (true/false per kind; the others stay)."""
    unknown = sorted(set(kinds) - set(ActivityKind.values))
    if unknown:
        raise ValidationFailed.field(unknown[0], gettext("Choose one of: %(choices)s.")
                                     % {"choices": ", ".join(ActivityKind.values)})
    for name, value in kinds.items():
        if not isinstance(value, bool):
            raise ValidationFailed.field(name, gettext("Must be true or false."))
    row, _ = ActivitySettings.objects.select_for_update().get_or_create(user=user)
    for name, value in kinds.items():
        setattr(row, name, value)
    row.save()
    return row

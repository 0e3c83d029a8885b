"""Every write of notifications: deciding who hears of a message and telling them (their sockets,
then Web Push through the `default` queue), a member's settings (levels, @everyone, mutes) and the
devices they subscribe for Web Push."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from apps.chat.models import Message
from apps.core.errors import Conflict, ValidationFailed
from apps.guilds.models import Channel
from apps.guilds.selectors import access_channel, access_guild

from . import events, payloads, push, rules, selectors
from .models import ChannelLevel, ChannelSettings, GuildSettings, Level, PushSubscription

log = logging.getLogger(__name__)

MUTE_MINUTES = (15, 60, 8 * 60, 24 * 60)  # the durations offered; none: until turned back on
UNSET = object()


# --- who hears of a message ----------------------------------------------------------------------

def _loaded(message_id: int) -> Message | None:
    return (Message.objects.select_related("channel__guild", "author", "reply_to")
            .filter(pk=message_id).first())


def notify_message(message_id: int) -> dict[int, str]:
    """Decide who hears of a committed message (rules.reason over selectors.recipients), send each
    a NOTIFICATION_CREATE (their open tabs), and queue a Web Push to every device of those with no
    tab in use. Returns {user id: reason}. A message gone or held by now notifies nobody."""
    msg = _loaded(message_id)
    if msg is None:
        return {}
    facts = selectors.message_facts(msg)
    if not facts.readable:
        return {}
    chosen = {r.user_id: why for r in selectors.recipients(msg, facts) if (why := rules.reason(facts, r))}
    for user_id, why in chosen.items():
        events.to_user(user_id, events.NOTIFICATION_CREATE,
                       payloads.notification(msg, recipient_id=user_id, reason=why))
    if chosen and push.enabled():
        from . import tasks

        subscriptions = selectors.push_subscriptions(selectors.away(chosen))
        for sub in subscriptions:
            tasks.deliver_push.delay(sub.id, msg.id, chosen[sub.user_id])
    return chosen


def deliver_push(*, subscription_id: int, message_id: int, reason: str) -> str:
    """Send one notification to one device, if its owner may still read the message (moderation
    may have held it since, or they lost the channel). The outcome: `sent`, `gone` (the push service
    forgot the subscription: deleted), `refused`, or `skipped`. push.Retry goes up to the task."""
    sub = PushSubscription.objects.filter(pk=subscription_id).first()
    msg = _loaded(message_id)
    if sub is None or msg is None or not selectors.still_readable(msg, sub.user_id):
        return "skipped"
    with translation.override(sub.language or settings.LANGUAGE_CODE):
        data = payloads.notification(msg, recipient_id=sub.user_id, reason=reason)
    try:
        push.send(endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth, data=data)
    except push.Gone:
        PushSubscription.objects.filter(pk=sub.pk, endpoint=sub.endpoint).delete()
        return "gone"
    except push.Refused as exc:
        log.warning("push %s to subscription %s refused: %s", message_id, sub.pk, exc)
        return "refused"
    PushSubscription.objects.filter(pk=sub.pk).update(last_used_at=timezone.now())
    return "sent"


# --- settings ------------------------------------------------------------------------------------

def _set_level(row, level, choices) -> None:
    if level is UNSET:
        return
    if level not in choices.values:
        raise ValidationFailed.field("level", gettext("Choose one of: %(choices)s.")
                                     % {"choices": ", ".join(choices.values)})
    row.level = level


def _set_mute(row, muted, minutes) -> None:
    if muted is UNSET:
        if minutes is not UNSET and minutes is not None:
            raise ValidationFailed.field("mute_minutes", gettext("Send muted: true with a mute's length."))
        return
    if not isinstance(muted, bool):
        raise ValidationFailed.field("muted", gettext("Must be true or false."))
    if not muted:
        row.muted, row.muted_until = False, None
        return
    if minutes is UNSET or minutes is None:
        row.muted, row.muted_until = True, None
        return
    if isinstance(minutes, bool) or minutes not in MUTE_MINUTES:
        raise ValidationFailed.field("mute_minutes", gettext("Mute for 15, 60, 480 or 1440 minutes, or send none "
                                                             "to mute until you turn it back on."))
    row.muted, row.muted_until = True, timezone.now() + timedelta(minutes=minutes)


def _locked(model, **key):
    """The user's row for a guild or channel, locked; created with the defaults when missing."""
    row = model.objects.select_for_update().filter(**key).first()
    if row is None:
        try:
            with transaction.atomic():
                row = model.objects.create(**key)
        except IntegrityError:  # created by a request racing this one
            row = model.objects.select_for_update().get(**key)
    return row


@transaction.atomic
def update_guild_settings(*, user, guild_id: int, level=UNSET, suppress_everyone=UNSET, muted=UNSET,
                          mute_minutes=UNSET) -> GuildSettings:
    """Change what the user hears of a guild they are in (404 otherwise); the user's other tabs
    hear of it (NOTIFICATION_SETTINGS_UPDATE)."""
    access_guild(user, guild_id)
    row = _locked(GuildSettings, user=user, guild_id=guild_id)
    _set_level(row, level, Level)
    if suppress_everyone is not UNSET:
        if not isinstance(suppress_everyone, bool):
            raise ValidationFailed.field("suppress_everyone", gettext("Must be true or false."))
        row.suppress_everyone = suppress_everyone
    _set_mute(row, muted, mute_minutes)
    row.save()
    events.to_user(user.id, events.NOTIFICATION_SETTINGS_UPDATE, payloads.guild_settings(row))
    return row


@transaction.atomic
def update_channel_settings(*, user, channel_id: int, level=UNSET, muted=UNSET, mute_minutes=UNSET) -> ChannelSettings:
    """Override a guild channel's notifications, or set a DM's, for the user (404 unless they can
    view it). A thread follows its channel."""
    access = access_channel(user, channel_id)
    channel = access.channel
    if channel.type == Channel.Type.THREAD:
        raise ValidationFailed(gettext("A thread follows its channel's notification settings."),
                               code="thread_settings")
    row = _locked(ChannelSettings, user=user, channel=channel)
    row.channel = channel
    _set_level(row, level, ChannelLevel)
    _set_mute(row, muted, mute_minutes)
    row.save()
    events.to_user(user.id, events.NOTIFICATION_SETTINGS_UPDATE, payloads.channel_settings(row))
    return row


# --- Web Push subscriptions ----------------------------------------------------------------------

def _check_subscription(endpoint, p256dh, auth) -> None:
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > push.ENDPOINT_MAX:
        raise ValidationFailed.field("endpoint", gettext("An endpoint is a URL of at most %(n)s characters.")
                                     % {"n": push.ENDPOINT_MAX})
    if not push.endpoint_allowed(endpoint):
        raise ValidationFailed.field("endpoint", gettext("This is not the https address of a known push service."))
    if not push.valid_p256dh(p256dh):
        raise ValidationFailed.field("keys.p256dh", gettext("Not a P-256 public key in base64url."))
    if not push.valid_auth(auth):
        raise ValidationFailed.field("keys.auth", gettext("Not a 16-byte secret in base64url."))


def _language(value) -> str:
    codes = {code for code, _ in settings.LANGUAGES}
    return value if value in codes else ""


def subscribe(*, user, endpoint, p256dh, auth, user_agent: str = "", language: str = "") -> tuple[PushSubscription,
                                                                                                   bool]:
    """Store this device's subscription for `user` (created True), or refresh it: a browser that
    subscribes again (for another account too) keeps one row. Past PUSH_MAX_SUBSCRIPTIONS devices
    the oldest goes."""
    if not push.enabled():
        raise Conflict(gettext("Web Push is not set up on this server."), code="push_disabled")
    _check_subscription(endpoint, p256dh, auth)
    fields = {"user": user, "p256dh": p256dh, "auth": auth, "user_agent": (user_agent or "")[:512],
              "language": _language(language)}
    for _ in range(2):
        try:
            with transaction.atomic():
                sub = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
                created = sub is None
                if created:
                    sub = PushSubscription.objects.create(endpoint=endpoint, **fields)
                else:
                    for name, value in fields.items():
                        setattr(sub, name, value)
                    sub.save()
                keep = (PushSubscription.objects.filter(user=user).order_by("-created_at", "-id")
                        .values_list("id", flat=True)[: settings.PUSH_MAX_SUBSCRIPTIONS])
                PushSubscription.objects.filter(user=user).exclude(id__in=list(keep)).delete()
            return sub, created
        except IntegrityError:  # the same endpoint stored by a request racing this one: update it
            continue
    raise Conflict(gettext("This device was subscribed at the same moment. Try again."), code="conflict")


def unsubscribe(*, user, endpoint) -> None:
    """Forget this device for `user` (the browser unsubscribed, or the member turned pushes off)."""
    if not isinstance(endpoint, str):
        raise ValidationFailed.field("endpoint", gettext("An endpoint is a URL of at most %(n)s characters.")
                                     % {"n": push.ENDPOINT_MAX})
    PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()

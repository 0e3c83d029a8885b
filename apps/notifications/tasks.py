"""Notifications' Celery tasks, on the `default` queue: thin doors onto services, taking ids."""
import logging
import random

from celery import shared_task
from django.conf import settings

from . import activity, push, services

log = logging.getLogger(__name__)


@shared_task(name="notifications.notify_message", acks_late=True)
def notify_message(message_id: int) -> int:
    """Decide who hears of a message that was just sent, and tell them (chat's message_sent)."""
    return len(services.notify_message(message_id))


@shared_task(name="notifications.deliver_push", bind=True, acks_late=True, max_retries=None)
def deliver_push(self, subscription_id: int, message_id: int, reason: str) -> str:
    """One Web Push to one device. A push service that does not answer, or answers 429 or 5xx, is
    tried again up to PUSH_MAX_RETRIES times, after PUSH_RETRY_SECONDS doubled at each try (with a
    little jitter, or the Retry-After it asked for); then the push is dropped, as a late
    notification is worth less than none."""
    try:
        return services.deliver_push(subscription_id=subscription_id, message_id=message_id, reason=reason)
    except push.Retry as exc:
        tries = self.request.retries
        if tries >= settings.PUSH_MAX_RETRIES:
            log.warning("push %s to subscription %s dropped after %s tries: %s", message_id, subscription_id,
                        tries + 1, exc)
            return "dropped"
        delay = exc.retry_after or settings.PUSH_RETRY_SECONDS * 2 ** tries * random.uniform(1.0, 1.25)
        raise self.retry(exc=exc, countdown=delay) from exc


@shared_task(name="notifications.deliver_activity_push", bind=True, acks_late=True, max_retries=None)
def deliver_activity_push(self, subscription_id: int, activity_id: int) -> str:
    """One activity (a follow, a like…) to one device, retried as deliver_push is."""
    try:
        return activity.deliver_push(subscription_id=subscription_id, activity_id=activity_id)
    except push.Retry as exc:
        tries = self.request.retries
        if tries >= settings.PUSH_MAX_RETRIES:
            log.warning("activity push %s to subscription %s dropped after %s tries", activity_id, subscription_id,
                        tries + 1)
            return "dropped"
        delay = exc.retry_after or settings.PUSH_RETRY_SECONDS * 2 ** tries * random.uniform(1.0, 1.25)
        raise self.retry(exc=exc, countdown=delay) from exc

"""Chat's Celery tasks: thin doors onto services. They take ids, never objects."""
from celery import shared_task
from django.db import DatabaseError

from apps.core import unavailable

from . import preview_services, services

TRANSIENT = (services.TransientMediaError, DatabaseError, ConnectionError, TimeoutError)


@shared_task(name="media.make_attachment_thumbnail", bind=True, max_retries=5, acks_late=True)
def make_attachment_thumbnail(self, attachment_id: int) -> str:
    """Thumbnail one image attachment (on the `media` queue). Safe to run twice: the service skips
    an attachment that is no longer pending. Storage and database hiccups are retried with a
    growing delay; when the retries run out the attachment is marked failed, never left pending."""
    try:
        return services.process_attachment(attachment_id)
    except Exception as exc:
        if not isinstance(exc, TRANSIENT) and unavailable.dependency(exc) is None:  # S3 down is passing too
            raise
        if self.request.retries >= self.max_retries:
            services.fail_attachment(attachment_id, reason=str(exc))
            raise
        raise self.retry(exc=exc, countdown=2 ** self.request.retries) from exc


@shared_task(name="chat.purge_stale_attachments")
def purge_stale_attachments() -> int:
    """Hourly (celery beat): uploads never sent within ATTACHMENT_UNSENT_HOURS, and the files of
    deleted messages."""
    return services.purge_stale_attachments()


@shared_task(name="media.unfurl_message", soft_time_limit=60, time_limit=90)
def unfurl_message(message_id: int, *, links: bool) -> str:
    """Link previews and embed image copies of one message (on the `media` queue). Each fetch is
    bounded (apps.core.fetch: 5 s, 1 MB), and the time limits bound the whole task."""
    return preview_services.unfurl_message(message_id, links=links)

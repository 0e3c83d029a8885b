"""Account work on the `media` queue: avatar thumbnails. Tasks take ids and call a service."""
from celery import shared_task
from django.db import DatabaseError

from apps.core import unavailable

from . import services

RETRIES = 5


@shared_task(name="media.avatar_thumbnails", bind=True, max_retries=RETRIES, acks_late=True)
def avatar_thumbnails(self, user_id: int) -> str:
    try:
        return services.make_avatar_thumbnails(user_id)
    except Exception as exc:
        if not isinstance(exc, (DatabaseError, OSError)) and unavailable.dependency(exc) is None:  # S3 down too
            raise
        raise self.retry(exc=exc, countdown=2 ** self.request.retries) from exc

"""Account work: avatar thumbnails on the `media` queue, mail on `default`. Tasks take ids and call
a service."""
from celery import shared_task
from django.db import DatabaseError

from apps.core import unavailable

from . import email_services, services

RETRIES = 5


@shared_task(name="media.avatar_thumbnails", bind=True, max_retries=RETRIES, acks_late=True)
def avatar_thumbnails(self, user_id: int) -> str:
    try:
        return services.make_avatar_thumbnails(user_id)
    except Exception as exc:
        if not isinstance(exc, (DatabaseError, OSError)) and unavailable.dependency(exc) is None:  # S3 down too
            raise
        raise self.retry(exc=exc, countdown=2 ** self.request.retries) from exc


# --- mail (the `default` queue): a mail server that is down is retried, with growing delays ----------

MAIL_RETRIES = 6


def _mail_task(task, send, *args):
    from smtplib import SMTPException

    try:
        return send(*args)
    except (OSError, SMTPException) as exc:
        raise task.retry(exc=exc, countdown=min(2 ** task.request.retries * 5, 600)) from exc


@shared_task(name="accounts.send_email_verification", bind=True, max_retries=MAIL_RETRIES, acks_late=True)
def send_email_verification(self, user_id: int, email: str, base_url: str, language: str) -> str:
    return _mail_task(self, email_services.mail_verification, user_id, email, base_url, language)


@shared_task(name="accounts.send_email_changed_notice", bind=True, max_retries=MAIL_RETRIES, acks_late=True)
def send_email_changed_notice(self, user_id: int, old_email: str, new_email: str, language: str) -> str:
    return _mail_task(self, email_services.mail_email_changed, user_id, old_email, new_email, language)


@shared_task(name="accounts.send_password_reset", bind=True, max_retries=MAIL_RETRIES, acks_late=True)
def send_password_reset(self, email: str, base_url: str, language: str) -> str:
    return _mail_task(self, email_services.mail_password_reset, email, base_url, language)

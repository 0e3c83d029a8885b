"""Moderation work on the `moderation` queue: thin doors onto services, taking ids."""
from celery import shared_task
from django.db import DatabaseError

from . import services

TRANSIENT = (DatabaseError, ConnectionError, TimeoutError)
RETRIES = 5


def _retrying(task, call):
    """Run a scoring service; a transient database or broker error retries the task with back-off."""
    try:
        return call()
    except TRANSIENT as exc:
        raise task.retry(exc=exc, countdown=2 ** task.request.retries) from exc


def _outcome(flag) -> str:
    return flag.state if flag else "skipped"


@shared_task(name="moderation.score_message", bind=True, max_retries=RETRIES, acks_late=True)
def score_message(self, message_id: int) -> str:
    """Idempotent: a message already scored with its current text is left as it is."""
    return _outcome(_retrying(self, lambda: services.score_message(message_id=message_id)))


@shared_task(name="moderation.score_track", bind=True, max_retries=RETRIES, acks_late=True)
def score_track(self, track_id: int) -> str:
    return _outcome(_retrying(self, lambda: services.score_track(track_id=track_id)))


@shared_task(name="moderation.score_track_comment", bind=True, max_retries=RETRIES, acks_late=True)
def score_track_comment(self, comment_id: int) -> str:
    return _outcome(_retrying(self, lambda: services.score_track_comment(comment_id=comment_id)))


@shared_task(name="moderation.score_messages", bind=True, max_retries=RETRIES, acks_late=True)
def score_messages(self, message_ids: list[int]) -> dict:
    """A batch of messages scored in one call to the model (a backlog, a rescoring): idempotent
    as score_message is."""
    flags = _retrying(self, lambda: services.score_messages(message_ids=list(message_ids)))
    return {str(k): _outcome(f) for k, f in flags.items()}


@shared_task(name="moderation.score_pending", bind=True, max_retries=RETRIES, acks_late=True)
def score_pending(self) -> dict:
    """Drain: score up to MODERATION_SCORE_BATCH of the messages waiting in Redis in one call to the
    model. Each live message queues one drain, so a burst leaves most of them nothing to do (they
    return at once); the beat schedule runs it each minute too, for ids a dead worker had claimed."""
    flags = _retrying(self, lambda: services.score_pending_messages())
    return {str(k): _outcome(f) for k, f in flags.items()}


@shared_task(name="moderation.retrain_toxicity", acks_late=False)
def retrain_toxicity() -> str:
    """Beat job: retrain when enough new moderator labels came in since the promoted version. The
    new version is promoted only if it evaluates at least as well (apps/moderation/toxicity)."""
    from .toxicity import training

    return training.retrain_if_due()

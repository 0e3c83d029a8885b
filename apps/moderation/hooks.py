"""What moderation answers when chat and tracks call it: it fills their slots (apps/chat/hooks.py,
apps/tracks/hooks.py) in ModerationConfig.ready(), since they sit below it and never import it.
Scoring is queued once the write commits and never answers it with an error: the write is stored
and delivered by then, so a failure there (a broker down, a task run inline by a manage.py
command) is only logged."""
import logging

from celery.signals import worker_init
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError
from redis import RedisError

from apps.core import unavailable

log = logging.getLogger(__name__)


def message_written(message) -> None:
    """A guild message was sent or edited: score it once the write commits. Call it after the
    message's event was published: on_commit callbacks run in order, so delivery never waits for
    the scorer. Direct messages are not scored (no guild moderators review them).

    With Redis the message waits in the pending set and a drain task scores it with the others
    that came in meanwhile, in one call to the model (apps.moderation.pending); without it (a
    laptop, where `make run`'s own worker takes it) it is scored on its own."""
    if message.channel.guild_id is None or not message.content or not settings.MODERATION_SCORE_MESSAGES:
        return
    from . import pending, tasks

    message_id = message.id

    def enqueue():
        # The message is stored and delivered: a broker that is down must not turn the send into
        # an error, nor hold it up. The message then goes unscored (automod has already run).
        try:
            if pending.enabled():
                pending.add(message_id)
                tasks.score_pending.apply_async(retry=False)
            else:
                tasks.score_message.apply_async((message_id,), retry=False)
        except (OperationalError, OSError, RedisError):
            log.warning("message %s was not queued for scoring: the broker is unavailable", message_id)

    transaction.on_commit(enqueue, robust=True)


def check_message(access, content: str, *, edit: bool = False) -> None:
    """Before a guild message is saved: refuse it (`automod_blocked`, with the rule's reason) if it
    breaks one of the guild's blocking automod rules."""
    from . import services

    services.check_message(access=access, content=content, edit=edit)


def track_written(track) -> None:
    """A track was uploaded: score its title and description once the upload commits."""
    if not settings.MODERATION_SCORE_MESSAGES:
        return
    from . import tasks

    track_id = track.id
    unavailable.after_commit(lambda: tasks.score_track.delay(track_id), what="queueing the track's scoring")


def comment_written(comment) -> None:
    """A track comment was posted: score it once it commits (after its event, as messages)."""
    if not settings.MODERATION_SCORE_MESSAGES:
        return
    from . import tasks

    comment_id = comment.id
    unavailable.after_commit(lambda: tasks.score_track_comment.delay(comment_id),
                             what="queueing the comment's scoring")


def worker_started(sender, **kwargs) -> None:
    """A Celery worker is starting (before its pool forks): the toxicity encoders' threads share its
    cores among the tasks it runs at once (toxicity.features.threads): one for a solo pool, its
    concurrency otherwise."""
    from .toxicity import features

    pool = getattr(sender.pool_cls, "__module__", str(sender.pool_cls))
    slots = sender.concurrency if isinstance(sender.concurrency, int) else features.cores()
    features.set_worker_slots(1 if "solo" in pool else slots)


def connect() -> None:
    """Fill the slots of the apps below (ModerationConfig.ready)."""
    from apps.chat import hooks as chat
    from apps.tracks import hooks as tracks

    worker_init.connect(worker_started, weak=False, dispatch_uid="moderation.toxicity-threads")
    chat.check_message.fill(check_message)
    chat.message_written.fill(message_written)
    tracks.track_written.fill(track_written)
    tracks.comment_written.fill(comment_written)
